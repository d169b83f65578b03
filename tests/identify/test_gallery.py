"""The gallery file and `gesture-audit gallery add|list|remove`.

The file format needs nothing optional; adding photos needs the `faces` extra and the dev photos
(../shared/data/dev/faces), and those tests skip with a message when either is absent.
"""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
from paths import FACES, needs_faces
from typer.testing import CliRunner

from gesture_audit.identify.gallery import VERSION, Gallery, GalleryError, Photo

HAS_FACES_EXTRA = all(importlib.util.find_spec(m) for m in ("dlib", "face_recognition_models"))
needs_extra = pytest.mark.skipif(
    not HAS_FACES_EXTRA, reason="needs the faces extra: pip install 'gesture-audit[faces]'"
)
needs_dev = needs_faces


def photo(seed: int, name: str = "p.jpg") -> Photo:
    vector = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    return Photo(name, f"{seed:064x}", vector / np.linalg.norm(vector))


def test_round_trip_is_exact(tmp_path):
    gallery = Gallery()
    gallery.add("Anies", [photo(1), photo(2)], ballot=1)
    gallery.add("Prabowo", [photo(3)], ballot=2)
    gallery.add("Gibran", [photo(4)], ballot=2)  # running mates share a ballot number
    path = tmp_path / "g.json"
    gallery.save(path)
    loaded = Gallery.load(path)
    assert [(c.name, c.ballot, len(c.photos)) for c in loaded.candidates] == [
        ("Anies", 1, 2),
        ("Prabowo", 2, 1),
        ("Gibran", 2, 1),
    ]
    vectors, owners = loaded.embeddings()
    np.testing.assert_array_equal(vectors, gallery.embeddings()[0])
    assert owners.tolist() == [0, 0, 1, 2]
    assert json.loads(path.read_text())["version"] == VERSION


def test_add_more_photos_and_skip_duplicates():
    gallery = Gallery()
    gallery.add("A", [photo(1)])
    candidate = gallery.add("A", [photo(1), photo(2)], ballot=3)  # ballot filled in later
    assert len(candidate.photos) == 2 and candidate.ballot == 3


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda g: g.add("B", [photo(1)]), "already in the gallery as 'A'"),
        (lambda g: g.add("A", [photo(2)], ballot=4), "has ballot 1"),
        (lambda g: g.add(" ", [photo(2)]), "needs a name"),
        (lambda g: g.remove("Z"), "no candidate named 'Z'"),
    ],
)
def test_refused_changes(change, message):
    gallery = Gallery()
    gallery.add("A", [photo(1)], ballot=1)
    with pytest.raises(GalleryError, match=message):
        change(gallery)


def test_remove():
    gallery = Gallery()
    gallery.add("A", [photo(1)])
    gallery.add("B", [photo(2)])
    assert gallery.remove("A").name == "A"
    assert [c.name for c in gallery.candidates] == ["B"]


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda d: d.update(version=99), "version 99 is not supported"),
        (lambda d: d.update(format="other"), "not a gesture-audit gallery"),
        (lambda d: d.update(embedding="facenet"), "add the photos again"),
        (lambda d: d["candidates"][0]["photos"][0].update(embedding="AAAA"), "damaged"),
        (lambda d: d["candidates"][0].pop("name"), "damaged"),
    ],
)
def test_unusable_files_are_refused(tmp_path, edit, message):
    gallery = Gallery()
    gallery.add("A", [photo(1)])
    data = gallery.to_dict()
    edit(data)
    path = tmp_path / "g.json"
    path.write_text(json.dumps(data))
    with pytest.raises(GalleryError, match=message):
        Gallery.load(path)


def test_missing_file_named(tmp_path):
    with pytest.raises(GalleryError, match="cannot read"):
        Gallery.load(tmp_path / "none.json")


# --- the command line, with real photos ----------------------------------------------------------


def run(*args: str):
    from gesture_audit.cli import app

    return CliRunner().invoke(app, ["gallery", *map(str, args)])


@needs_extra
@needs_dev
def test_cli_add_list_remove(tmp_path):
    path = tmp_path / "candidates.json"
    train = FACES / "train"
    result = run("add", "--gallery", path, "--name", "Obama", "--ballot", "2", *sorted((train / "obama").glob("*")))
    assert result.exit_code == 0, result.output
    assert "2 photo(s)" in result.output and "Warning" not in result.output
    # Pilpres 2024 has pairs 01-03: a 9 is added, but with a warning that names the pairs.
    result = run("add", "--gallery", path, "--name", "Biden", "--ballot", "9", *sorted((train / "biden").glob("*")))
    assert result.exit_code == 0, result.output
    assert "ballot 9 is no pair of" in result.output and "01, 02, 03" in result.output

    listed = run("list", "--gallery", path)
    assert listed.exit_code == 0
    assert "Obama\tballot 2\t2 photo(s)" in listed.output and "Biden\tballot 9" in listed.output

    stored = Gallery.load(path)
    assert [c.name for c in stored.candidates] == ["Obama", "Biden"]
    assert all(len(p.sha256) == 64 for c in stored.candidates for p in c.photos)

    assert run("remove", "--gallery", path, "--name", "Biden").exit_code == 0
    assert [c.name for c in Gallery.load(path).candidates] == ["Obama"]
    missing = run("remove", "--gallery", path, "--name", "Biden")
    assert missing.exit_code == 2 and "no candidate named 'Biden'" in missing.output


@needs_extra
@needs_dev
def test_cli_refuses_photos_with_several_or_no_faces(tmp_path):
    import cv2

    blank = tmp_path / "wall.png"
    cv2.imwrite(str(blank), np.full((200, 300, 3), 180, np.uint8))
    path = tmp_path / "candidates.json"
    group = FACES / "test" / "obama_and_biden.jpg"
    result = run("add", "--gallery", path, "--name", "Obama", FACES / "train" / "obama" / "obama.jpg", group, blank)
    assert result.exit_code == 2
    assert "obama_and_biden.jpg: 2 faces found" in result.output and "wall.png: no face found" in result.output
    assert not path.exists()  # nothing is added when any photo is refused


def test_cli_help_lists_the_subcommands():
    result = run("--help")
    assert result.exit_code == 0
    assert all(word in result.output for word in ("add", "list", "remove"))
