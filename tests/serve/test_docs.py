"""The service's /docs in a real headless Chromium, with no way out of 127.0.0.1: Swagger UI's assets
come from the fastapi-offline package, so the page shows the API on a network without internet.

Needs Debian's `chromium` and `chromium-driver` (`.ci/install-chromium`) and selenium; skipped with a
message otherwise.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from paths import needs_chromium

pytestmark = needs_chromium


@pytest.mark.timeout(180)
def test_docs_show_the_api_without_network(chrome, server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    # Everything but loopback goes to a closed port: an asset from a CDN could not load.
    driver = chrome("--proxy-server=http://127.0.0.1:9", capabilities={"goog:loggingPrefs": {"performance": "ALL"}})
    driver.get(f"{server.url}/docs")
    WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock-summary-path"))
    operations = {
        (
            e.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text,
            e.find_element(By.CSS_SELECTOR, ".opblock-summary-path").text,
        )
        for e in driver.find_elements(By.CSS_SELECTOR, ".opblock-summary")
    }
    assert {("POST", "/v1/check"), ("POST", "/v1/check/batch"), ("GET", "/healthz")} <= operations, operations
    assert driver.find_element(By.CSS_SELECTOR, ".info .title").text.startswith("gesture-audit")
    sent = [json.loads(entry["message"])["message"] for entry in driver.get_log("performance")]
    urls = [m["params"]["request"]["url"] for m in sent if m["method"] == "Network.requestWillBeSent"]
    here = urlsplit(server.url).netloc
    assert f"{server.url}/openapi.json" in urls
    outside = [u for u in urls if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).netloc != here]
    assert not outside, f"the docs page asked for {outside}"
