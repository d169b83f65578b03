"""`evaluate_faces` on the dev faces: the acceptance figures of issue 8."""

from __future__ import annotations

import importlib.util
import json

import pytest
from paths import DEV

from benchmarks.dev_faces import TEST_IDENTITIES
from gesture_audit.identify.eval import evaluate_faces, format_face_eval, read_identities
from gesture_audit.identify.match import MATCH_THRESHOLD

HAS_FACES_EXTRA = all(importlib.util.find_spec(m) for m in ("dlib", "face_recognition_models"))


@pytest.mark.skipif(not HAS_FACES_EXTRA, reason="needs the faces extra: pip install 'gesture-audit[faces]'")
@pytest.mark.skipif(not (DEV / "faces").is_dir(), reason=f"dev faces not found at {DEV} (../shared/data/dev)")
def test_dev_faces_meet_the_targets():
    result = evaluate_faces(DEV, TEST_IDENTITIES)
    assert result["queries"]["labelled_faces"] == 7 and result["queries"]["detected"] == 7
    assert result["queries"]["not_in_gallery"] >= 16
    assert result["top1"] >= 0.95
    assert result["false_match"] <= 0.02 and result["identification"] >= 0.95
    assert result["threshold"] == MATCH_THRESHOLD  # the shipped threshold is the one measured here
    text = format_face_eval(result)
    assert "top-1 identification" in text and "reason:" in text


def test_missing_data_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="faces/train"):
        evaluate_faces(tmp_path)


def test_missing_identities_are_named(tmp_path):
    (tmp_path / "faces" / "train").mkdir(parents=True)
    (tmp_path / "faces" / "test").mkdir()
    with pytest.raises(FileNotFoundError, match="identities.json"):
        evaluate_faces(tmp_path)


@pytest.mark.parametrize("text", ["{not json", '["a.jpg"]', '{"a.jpg": "obama"}', '{"a.jpg": [1]}'])
def test_malformed_identities_are_a_value_error(tmp_path, text):
    (tmp_path / "identities.json").write_text(text)
    with pytest.raises(ValueError, match="identities"):
        read_identities(tmp_path / "identities.json")


def test_identities_file_is_read(tmp_path):
    (tmp_path / "identities.json").write_text(json.dumps(TEST_IDENTITIES))
    assert read_identities(tmp_path / "identities.json") == TEST_IDENTITIES
    with pytest.raises(ValueError, match="cannot read"):
        read_identities(tmp_path / "absent.json")


@pytest.mark.skipif(not (DEV / "faces").is_dir(), reason=f"dev faces not found at {DEV} (../shared/data/dev)")
def test_eval_command_without_identities_exits_2():
    from typer.testing import CliRunner

    from gesture_audit.cli import app

    result = CliRunner().invoke(app, ["eval", str(DEV / "labels.jsonl"), "--limit", "1", "--faces"])
    assert result.exit_code == 2 and "identities.json" in result.output


def test_eval_command_without_faces_beside_the_labels_exits_2(tmp_path):
    from typer.testing import CliRunner

    from gesture_audit.cli import app

    if not (DEV / "labels.jsonl").is_file():
        pytest.skip(f"dev labels not found at {DEV} (../shared/data/dev)")
    labels = tmp_path / "labels.jsonl"  # a labels file with no faces/ folder beside it
    labels.write_text((DEV / "labels.jsonl").read_text().splitlines()[0] + "\n")
    result = CliRunner().invoke(app, ["eval", str(labels), "--faces"])
    assert result.exit_code == 2 and "faces/train" in result.output


@pytest.mark.skipif(not HAS_FACES_EXTRA, reason="needs the faces extra: pip install 'gesture-audit[faces]'")
@pytest.mark.skipif(not (DEV / "faces").is_dir(), reason=f"dev faces not found at {DEV} (../shared/data/dev)")
def test_eval_command_prints_the_face_section(tmp_path):
    from typer.testing import CliRunner

    from gesture_audit.cli import app

    identities = tmp_path / "identities.json"
    identities.write_text(json.dumps(TEST_IDENTITIES))
    args = ["eval", str(DEV / "labels.jsonl"), "--sets", "negatives", "--limit", "1", "--faces"]
    result = CliRunner().invoke(app, [*args, "--identities", str(identities)])
    assert result.exit_code == 0, result.output
    assert "top-1 identification: 1.000" in result.output and "chosen threshold 0.5" in result.output
