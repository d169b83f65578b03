"""report.html opened in a real headless Chromium: flagged cards present, every thumbnail loads.

Needs Debian's `chromium` (`.ci/install-chromium` installs it); skipped with a message otherwise.
The screenshots are kept under tests/artifacts/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

CHROMIUM = Path("/usr/bin/chromium")
DEV = Path(__file__).resolve().parents[3] / "shared" / "data" / "dev"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PHOTOS = ["hagrid/peace/peace_00004.jpg", "hagrid/peace/peace_00001.jpg", "hagrid/three/three_00002.jpg",
          "hagrid/one/one_00003.jpg", "hagrid/four/four_00001.jpg", "hagrid/palm/palm_00002.jpg",
          "hagrid/rock/rock_00001.jpg", "hagrid/fist/fist_00001.jpg", "mediapipe/hand_thumb_up.jpg",
          "negatives/zidane.jpg", "subhih/96_pic00005.jpg"]

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (run .ci/install-chromium)"),
    pytest.mark.skipif(not DEV.is_dir(), reason=f"dev photos not found at {DEV} (../shared/data/dev)"),
]


def chromium(url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-extensions", "--hide-scrollbars", f"--user-data-dir={profile}", *args, url]
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
    proc = subprocess.run([sys.executable, "-m", "gesture_audit", "scan", str(src), "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return out


def test_report_in_chromium(scanned, tmp_path):
    rows = [json.loads(line) for line in (scanned / "findings.jsonl").read_text().splitlines()]
    flagged = [r for r in rows if r["verdict"] == "flag"]
    review = [r for r in rows if r["verdict"] == "review"]
    assert flagged, "the dev V / three / one photos should be flagged"
    page = (scanned / "report.html").read_text(encoding="utf-8")
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
    assert f"{len(rows) - len(flagged) - len(review) - 1} clear photo" in dom.stdout or not (
        len(rows) - len(flagged) - len(review) - 1)
    assert "rusak.jpg" in dom.stdout and "could not be checked" in dom.stdout
    assert re.search(r'id="shown"[^>]*>\d+ of \d+ photos shown', dom.stdout)

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    proc = chromium(url, tmp_path, "--virtual-time-budget=15000", "--window-size=1280,1600",
                    f"--screenshot={shot}")
    assert proc.returncode == 0 and shot.stat().st_size > 50_000, proc.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # The enlarged view, opened by a link to one photo.
    first = flagged[0]["path"] if not review else sorted(flagged, key=lambda r: -r["risk"])[0]["path"]
    big = ARTIFACTS / "report-enlarged.png"
    big.unlink(missing_ok=True)
    proc = chromium(f"{url}#photo={quote(first)}", tmp_path, "--virtual-time-budget=15000",
                    "--window-size=1280,900", f"--screenshot={big}")
    assert proc.returncode == 0 and big.stat().st_size > 20_000, proc.stderr[-2000:]
    dom = chromium(f"{url}#photo={quote(first)}", tmp_path, "--virtual-time-budget=15000", "--dump-dom").stdout
    box = re.search(r'<div id="lightbox"[^>]*>', dom).group(0)
    assert "hidden" not in box, "the link should open the enlarged view"
