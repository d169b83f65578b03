"""Where the tests find what is not in the repository: the labelled dev photos, beside the repo at
../shared/data/dev (never copied in), and Debian's Chromium and chromedriver (`.ci/install-chromium`;
never a downloaded browser or driver). Tests that need them skip with a message when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEV = REPO.parent / "shared" / "data" / "dev"
FACES = DEV / "faces"

needs_dev = pytest.mark.skipif(not DEV.is_dir(), reason=f"dev photos not found at {DEV} (../shared/data/dev)")
needs_faces = pytest.mark.skipif(not FACES.is_dir(), reason=f"dev faces not found at {FACES} (../shared/data/dev)")

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (run .ci/install-chromium)"
)
