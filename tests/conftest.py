"""Shared fixtures: the dev photos beside the repo (skipped when absent), one engine per run, a browser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from paths import CHROMEDRIVER, CHROMIUM, DEV


@pytest.fixture(scope="session")
def dev_root() -> Path:
    if not (DEV / "labels.jsonl").is_file():
        pytest.skip(f"dev photos not found at {DEV} (../shared/data/dev beside the repo)")
    return DEV


@pytest.fixture(scope="session")
def dev_labels(dev_root) -> list[dict]:
    return [json.loads(line) for line in (dev_root / "labels.jsonl").read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def engine():
    from gesture_audit.audit import hand_engine

    return hand_engine()


@pytest.fixture(scope="session")
def mediapipe_hands():
    pytest.importorskip("mediapipe", reason="the MediaPipe reference backend needs gesture-audit[reference]")
    from gesture_audit.detect.reference import MediaPipeHands

    hands = MediaPipeHands()
    yield hands
    hands.close()  # before interpreter shutdown, when MediaPipe's own __del__ can no longer run


# Candidates of the gallery the face tests use, from the dev set's faces/train/<folder>/: name,
# ballot number. rose_leslie and alex_lacamoire stay out: they are the "other people".
GALLERY_CANDIDATES = {"kit_harington": ("Kit Harington", 2), "obama": ("Barack Obama", 1), "biden": ("Joe Biden", 1)}


@pytest.fixture(scope="session")
def dev_faces() -> Path:
    if not (DEV / "faces" / "train").is_dir() or not (DEV / "faces" / "test").is_dir():
        pytest.skip(f"dev faces not found at {DEV / 'faces'} (../shared/data/dev beside the repo)")
    return DEV / "faces"


@pytest.fixture(scope="session")
def candidate_gallery(dev_faces, tmp_path_factory) -> Path:
    """A gallery file built from dev reference photos, as `gesture-audit gallery add` builds one."""
    import importlib.util

    if not all(importlib.util.find_spec(m) for m in ("dlib", "face_recognition_models")):
        pytest.skip("face matching needs the faces extra: pip install 'gesture-audit[faces]'")
    from gesture_audit.detect.faces import FaceDetector
    from gesture_audit.identify.gallery import Gallery, reference_photos

    detector = FaceDetector(threads=1)
    gallery = Gallery()
    for folder, (name, ballot) in GALLERY_CANDIDATES.items():
        gallery.add(name, reference_photos(sorted((dev_faces / "train" / folder).iterdir()), detector=detector), ballot)
    path = tmp_path_factory.mktemp("gallery") / "candidates.json"
    gallery.save(path)
    return path


@pytest.fixture(scope="class")
def ray_cluster():
    """A Ray cluster in this process (`ray.init`) with 4 logical CPUs: two actors of one CPU plus the
    driver's tasks never wait on each other on a 2-core machine. Shut down after the class."""
    import shutil
    import tempfile

    ray = pytest.importorskip("ray", reason="the Ray tests need the ray extra: pip install 'gesture-audit[ray]'")
    temp = tempfile.mkdtemp(prefix="/tmp/ga-ray-")  # short: Ray's socket paths must fit 107 bytes
    # Object store: only paths and findings travel through it.
    ray.init(
        num_cpus=4, include_dashboard=False, object_store_memory=200 * 1024 * 1024, _temp_dir=temp, log_to_driver=False
    )
    yield
    ray.shutdown()
    shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture
def chrome():
    """Start a headless Chromium driven by selenium through Debian's chromedriver (skipped without
    them): `chrome(*args, prefs=None, capabilities=None) -> driver`; every driver started is quit
    after the test."""
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip(f"{CHROMIUM} and {CHROMEDRIVER} are needed (run .ci/install-chromium)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[dev]')")
    from selenium.webdriver.chrome.service import Service

    drivers = []

    def start(*args: str, prefs: dict | None = None, capabilities: dict | None = None):
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for arg in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            *args,
        ):
            options.add_argument(arg)
        if prefs:
            options.add_experimental_option("prefs", prefs)
        for name, value in (capabilities or {}).items():
            options.set_capability(name, value)
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        drivers.append(driver)
        driver.set_page_load_timeout(60)
        return driver

    yield start
    for driver in drivers:
        driver.quit()
