"""report.html opened in a real headless Chromium: flagged cards present, every thumbnail loads;
in Bahasa Indonesia, a --single-file report copied alone, review decisions made with the keyboard,
exported and folded back by `report --decisions`.

Needs Debian's `chromium` and, for the review test, `chromium-driver` driven by selenium
(`.ci/install-chromium` installs both); skipped with a message otherwise. Nothing downloads a
browser or a driver. The screenshots are kept under tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from paths import CHROMIUM, DEV, needs_chromium, needs_dev

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PHOTOS = [
    "hagrid/peace/peace_00004.jpg",
    "hagrid/peace/peace_00001.jpg",
    "hagrid/three/three_00002.jpg",
    "hagrid/one/one_00003.jpg",
    "hagrid/four/four_00001.jpg",
    "hagrid/palm/palm_00002.jpg",
    "hagrid/rock/rock_00001.jpg",
    "hagrid/fist/fist_00001.jpg",
    "mediapipe/hand_thumb_up.jpg",
    "negatives/zidane.jpg",
    "subhih/96_pic00005.jpg",
]

pytestmark = [needs_chromium, needs_dev]


def chromium(url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    cmd = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
        url,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("html")
    src = base / "foto kegiatan"
    src.mkdir()
    for rel in PHOTOS:
        if (DEV / rel).exists():
            shutil.copyfile(DEV / rel, src / rel.replace("/", "_"))
    (src / "rusak.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
    out = base / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "gesture_audit", "scan", str(src), "--out", str(out), "--lang", "en"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return out


def test_report_in_chromium(scanned, tmp_path):
    rows = [json.loads(line) for line in (scanned / "findings.jsonl").read_text().splitlines()]
    flagged = [r for r in rows if r["verdict"] == "flag"]
    review = [r for r in rows if r["verdict"] == "review"]
    assert flagged, "the dev V / three / one photos should be flagged"
    page = (scanned / "report.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in page
    # Self-contained: nothing fetched from the network.
    assert not re.search(r'(src|href)="(https?:)?//', page)

    url = (scanned / "report.html").as_uri()
    dom = chromium(url, tmp_path, "--virtual-time-budget=15000", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = re.search(r"<body[^>]*>", dom.stdout).group(0)
    loaded = re.search(r'data-thumbs-loaded="(\d+)"', body)
    total = re.search(r'data-thumbs-total="(\d+)"', body)
    assert 'data-thumbs="ok"' in body, body
    assert loaded and total and loaded.group(1) == total.group(1) == str(len(flagged) + len(review))
    cards = re.findall(r'<article class="card (\w+)"', dom.stdout)
    assert cards.count("flag") == len(flagged) and cards.count("review") == len(review)
    assert cards[: len(flagged)] == ["flag"] * len(flagged), "flagged photos come first"
    clear = len(rows) - len(flagged) - len(review) - 1  # rusak.jpg is an error row
    assert clear >= 1, "the fist and the negative (zidane.jpg) show no ballot sign"
    assert (
        f"{clear} clear photo is not listed" if clear == 1 else f"{clear} clear photos are not listed"
    ) in dom.stdout
    assert "rusak.jpg" in dom.stdout and "could not be checked" in dom.stdout
    assert re.search(r'id="shown"[^>]*>\d+ of \d+ photos shown', dom.stdout)

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    proc = chromium(url, tmp_path, "--virtual-time-budget=15000", "--window-size=1280,1600", f"--screenshot={shot}")
    assert proc.returncode == 0 and shot.stat().st_size > 50_000, proc.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # The enlarged view, opened by a link to one photo.
    first = flagged[0]["path"] if not review else sorted(flagged, key=lambda r: -r["risk"])[0]["path"]
    big = ARTIFACTS / "report-enlarged.png"
    big.unlink(missing_ok=True)
    proc = chromium(
        f"{url}#photo={quote(first)}",
        tmp_path,
        "--virtual-time-budget=15000",
        "--window-size=1280,900",
        f"--screenshot={big}",
    )
    assert proc.returncode == 0 and big.stat().st_size > 20_000, proc.stderr[-2000:]
    dom = chromium(f"{url}#photo={quote(first)}", tmp_path, "--virtual-time-budget=15000", "--dump-dom").stdout
    box = re.search(r'<div id="lightbox"[^>]*>', dom).group(0)
    assert "hidden" not in box, "the link should open the enlarged view"


def gesture_audit(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gesture_audit", *map(str, args)], capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def browser(tmp_path, chrome):
    """The Chromium of `chrome`; files it downloads land in tmp_path/downloads."""
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = chrome(
        "--window-size=1280,1000",
        f"--user-data-dir={tmp_path / 'profile'}",
        prefs={"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    return driver, downloads


def _wait(predicate, seconds: float = 30.0, what: str = "the page"):
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _visible(driver) -> list:
    return [c for c in driver.find_elements("css selector", ".card") if c.is_displayed()]


@pytest.mark.timeout(600)
def test_review_in_chromium_indonesian_single_file(scanned, tmp_path, browser):
    driver, downloads = browser
    out = tmp_path / "out"
    shutil.copytree(scanned, out)
    proc = gesture_audit("report", out, "--lang", "id", "--single-file")
    assert proc.returncode == 0, proc.stderr
    assert "ditandai" in proc.stderr and "laporan:" in proc.stdout, proc.stderr  # the paths go to stdout
    rows = [json.loads(line) for line in (out / "findings.jsonl").read_text().splitlines()]
    listed = [r for r in rows if r["verdict"] in ("flag", "review")]
    flagged = [r for r in listed if r["verdict"] == "flag"]

    # Sent alone: report.html in a folder without evidence/ still shows every thumbnail.
    alone = tmp_path / "dikirim" / "report.html"
    alone.parent.mkdir()
    shutil.copyfile(out / "report.html", alone)
    driver.get(alone.as_uri())
    body = driver.find_element("tag name", "body")
    _wait(lambda: body.get_attribute("data-thumbs") != "pending", what="the thumbnails")
    assert driver.find_element("tag name", "html").get_attribute("lang") == "id"
    assert body.get_attribute("data-thumbs") == "ok"
    assert body.get_attribute("data-thumbs-total") == str(len(listed))
    widths = driver.execute_script(
        "return Array.from(document.querySelectorAll('img.thumb-img')).map(function (i) { return i.naturalWidth; })"
    )
    assert len(widths) == len(listed) and all(w > 0 for w in widths), widths
    text = body.text.lower()  # as shown: some labels are upper-cased by the style sheet
    for words in (
        "pelanggaran",
        "bukan pelanggaran",
        "foto ditandai",
        "nomor urut",
        "pose jari",
        "perlu ditinjau",
        "tidak dapat diperiksa",
        "bukan bukti",
    ):
        assert words in text, words

    # The filters still work: hide the flagged photos, then one ballot number only.
    cards = driver.find_elements("css selector", ".card")
    assert len(_visible(driver)) == len(listed)
    driver.find_element("css selector", '[data-filter-verdict="flag"]').click()
    assert len(_visible(driver)) == len(listed) - len(flagged)
    driver.find_element("css selector", '[data-filter-verdict="flag"]').click()
    ballot = str(
        flagged[0]["hands"][0]["ballot"]
        if flagged[0]["hands"][0].get("ballot") is not None
        else sorted({h["ballot"] for h in flagged[0]["hands"] if h.get("ballot") is not None})[0]
    )
    driver.find_element("css selector", f'[data-filter-ballot="{ballot}"]').click()
    shown = _visible(driver)
    assert shown and all(ballot in c.get_attribute("data-ballots").split() for c in shown)
    assert len(shown) == sum(1 for r in listed if int(ballot) in {h.get("ballot") for h in r["hands"]})
    driver.find_element("css selector", '[data-filter-ballot="all"]').click()

    # Two decisions with the keyboard (j moves, y / n decide), a note, then export decisions.json.
    from selenium.webdriver.common.action_chains import ActionChains

    reviewer = driver.find_element("id", "reviewer")
    reviewer.send_keys("Siti Rahma")
    driver.find_element("tag name", "h1").click()  # out of the text field: keys go to the page again
    ActionChains(driver).send_keys("j").send_keys("y").send_keys("j").send_keys("n").perform()
    first, second = cards[0], cards[1]
    assert first.get_attribute("data-decision") == "violation"
    assert second.get_attribute("data-decision") == "not_violation"
    second.find_element("css selector", ".d-note").send_keys("hanya melambai")
    first_sha, second_sha = first.get_attribute("data-sha256"), second.get_attribute("data-sha256")
    driver.find_element("tag name", "h1").click()
    assert "2 dari" in driver.find_element("id", "decided").text

    # Kept in the browser: a reload (the re-rendered page would read the same) shows them again.
    driver.refresh()
    cards = driver.find_elements("css selector", ".card")
    assert [c.get_attribute("data-decision") for c in cards[:2]] == ["violation", "not_violation"]
    assert cards[1].find_element("css selector", ".d-note").get_attribute("value") == "hanya melambai"
    # Undecided first: the two decided photos move to the end.
    driver.find_element("id", "undecided-first").click()
    order = driver.find_elements("css selector", ".card")
    assert [c.get_attribute("data-decision") for c in order[-2:]] == ["violation", "not_violation"]
    assert all(not c.get_attribute("data-decision") for c in order[:-2])

    driver.find_element("id", "export-json").click()
    exported = _wait(lambda: [p for p in downloads.glob("decisions*.json")], what="decisions.json to download")[0]
    data = _wait(lambda: _json_or_none(exported), what="a complete decisions.json")
    by_sha = {d["sha256"]: d for d in data["decisions"]}
    assert len(by_sha) == 2
    assert by_sha[first_sha]["decision"] == "violation"
    assert by_sha[second_sha]["note"] == "hanya melambai"
    assert {d["reviewer"] for d in data["decisions"]} == {"Siti Rahma"}

    # Folded back: summary.csv gets decision, reviewer, note, time; the report shows them.
    proc = gesture_audit("report", out, "--decisions", exported, "--lang", "id")
    assert proc.returncode == 0, proc.stderr
    with open(out / "summary.csv", encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    header, lines = table[0], table[1:]
    assert header[-4:] == ["keputusan", "peninjau", "catatan", "waktu"]
    sha = header.index("sha256")
    decided = {line[sha]: line[-4:] for line in lines if line[-4]}
    assert decided[first_sha][:2] == ["violation", "Siti Rahma"]
    assert decided[second_sha][:3] == ["not_violation", "Siti Rahma", "hanya melambai"]
    assert len(decided) == 2
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count('data-decision="violation"') == 1 and page.count('data-decision="not_violation"') == 1
    # A re-render without --decisions keeps them (DIR/decisions.json).
    assert gesture_audit("report", out, "--lang", "en").returncode == 0
    with open(out / "summary.csv", encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0][-4:] == ["decision", "reviewer", "note", "time"]
    assert sum(1 for line in table[1:] if line[-4]) == 2


def _json_or_none(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def test_single_file_size_cap(scanned, tmp_path):
    """--single-file embeds thumbnails first and leaves what does not fit under the cap as links."""
    import base64

    from gesture_audit.report import render_reports

    out = tmp_path / "out"
    shutil.copytree(scanned, out)
    thumbs = sorted(out.glob("evidence/*.thumb.jpg"))
    room = sum(len("data:image/jpeg;base64,") + len(base64.b64encode(p.read_bytes())) for p in thumbs)
    others = len(list(out.glob("evidence/*.jpg"))) - len(thumbs)  # crops and enlarged views
    rendered = render_reports(out, single_file=True, max_bytes=room)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count('class="thumb-img" src="data:image/jpeg;base64,') == rendered.listed
    assert rendered.not_embedded == others > 0
    assert 'data-full="evidence/' in page  # enlarged views stay links
    assert render_reports(out, single_file=True, max_bytes=0).not_embedded == len(thumbs) + others
