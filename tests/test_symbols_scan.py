"""`gesture-audit symbols add|list|remove`, then a scan with --symbols, through the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from gesture_audit.report.schema import validation_errors
from gesture_audit.synth.attributes import composite_symbol, render_symbol


def cli(*args, check_rc: int | None = 0, timeout: float = 240) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "gesture_audit", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "120"},
    )
    if check_rc is not None:
        assert proc.returncode == check_rc, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.mark.timeout(400)
def test_symbols_gallery_then_scan(tmp_path):
    rng = np.random.default_rng(11)
    logos = tmp_path / "logos"
    logos.mkdir()
    for k in range(2):
        Image.fromarray(render_symbol(rng)).save(logos / f"logo{k}.png")
    Image.new("RGB", (200, 200), (20, 120, 40)).save(logos / "plain.png")
    store = tmp_path / "symbols.json"

    cli("symbols", "add", logos / "logo0.png", "--symbols", store, "--name", "Partai Satu", "--ballot", 1)
    cli("symbols", "add", logos / "logo1.png", "--symbols", store, "--name", "Partai Dua", "--ballot", 2)
    refused = cli(
        "symbols", "add", logos / "plain.png", "--symbols", store, "--name", "Polos", "--ballot", 3, check_rc=2
    )
    assert "plain.png: only" in refused.stderr and "Traceback" not in refused.stderr
    warned = cli(
        "symbols", "add", logos / "logo1.png", "--symbols", store, "--name", "Partai Dua", "--ballot", 9, check_rc=2
    )
    assert "ballot 9 is no pair" in warned.stderr and "has ballot 2, not 9" in warned.stderr
    listed = cli("symbols", "list", "--symbols", store).stdout
    assert "Partai Satu\tballot 1\t1 image(s): logo0.png" in listed and "Polos" not in listed
    cli("symbols", "add", logos / "logo0.png", "--symbols", store, "--name", "Partai Tiga", "--ballot", 3, check_rc=2)
    assert "removed Partai Dua" in cli("symbols", "remove", "--symbols", store, "--name", "Partai Dua").stdout
    assert "Partai Dua" not in cli("symbols", "list", "--symbols", store).stdout

    photos = tmp_path / "photos"
    photos.mkdir()
    small = rng.integers(0, 256, (15, 20, 3)).astype(np.uint8)  # a rendered wall of colour blocks
    scene = cv2.GaussianBlur(cv2.resize(small, (800, 600), interpolation=cv2.INTER_NEAREST), (0, 0), 3)
    image, label = composite_symbol(
        scene, [("Partai Satu", 1, render_symbol(np.random.default_rng(11)))], rng, place="banner"
    )
    Image.fromarray(image).save(photos / "banner.jpg", quality=92)
    Image.fromarray(scene).save(photos / "wall.jpg", quality=92)
    before = {p.name: p.read_bytes() for p in photos.iterdir()}
    out = tmp_path / "out"
    cli("scan", photos, "--out", out, "--symbols", store, "--include-clear")
    found = {
        Path(r["path"]).name: r
        for r in map(json.loads, (out / "findings.jsonl").read_text(encoding="utf-8").splitlines())
    }
    assert all(validation_errors(r) == [] for r in found.values())
    banner = found["banner.jpg"]
    assert [(a["kind"], a["text"], a["ballot"]) for a in banner["attributes"]] == [("symbol", "Partai Satu", 1)]
    assert banner["verdict"] == "review"
    assert banner["reasons"][0].startswith('party symbol "Partai Satu" of ballot 01 (')
    assert banner["reasons"][0].endswith("matching points): campaign material, review")
    assert found["wall.jpg"]["attributes"] == [] and found["wall.jpg"]["verdict"] == "clear"
    assert list((out / "evidence").glob("*.attr1.jpg"))  # the symbol's evidence crop
    assert {p.name: p.read_bytes() for p in photos.iterdir()} == before  # originals untouched
    bad = cli("scan", photos, "--out", tmp_path / "out2", "--symbols", tmp_path / "missing.json", check_rc=2)
    assert "cannot read the symbols file" in bad.stderr and "Traceback" not in bad.stderr

    # eval --symbols scores symbol labels: found where printed, a wrong ballot missed, none on the wall.
    rows = [
        {"path": "photos/banner.jpg", "set": "composite", "kind": "scene", "hands": [], "attributes": [label]},
        {
            "path": "photos/banner.jpg",
            "set": "composite",
            "kind": "scene",
            "hands": [],
            "attributes": [{**label, "ballot": 2}],
        },
        {"path": "photos/wall.jpg", "set": "clean", "kind": "scene", "hands": [], "attributes": []},
    ]
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(r) + "\n" for r in rows))
    sets = json.loads(cli("eval", labels, "--symbols", store, "--json").stdout)["sets"]
    assert (sets["composite"]["attributes"], sets["composite"]["attribute_recall"]) == (2, 0.5)
    assert (sets["clean"]["clean"], sets["clean"]["clean_with_attribute"]) == (1, 0)
