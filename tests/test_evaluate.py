"""Scoring for `gesture-audit eval`: matching, counting, the labels file, and the command."""

from __future__ import annotations

import json

import pytest
from poses import posed_hand
from typer.testing import CliRunner

from gesture_audit.cli import app
from gesture_audit.evaluate import (
    Label,
    LabelledHand,
    LabelsError,
    SetScore,
    evaluate,
    expected_gesture,
    match_hands,
    read_labels,
    score_image,
    select,
)
from gesture_audit.judge.election import load_election
from gesture_audit.judge.verdict import judge


def lh(fingers=None, count=None, gesture=None, box=None) -> LabelledHand:
    return LabelledHand(fingers, count, gesture, box)


def test_boxed_labels_match_by_best_iou():
    boxes = [[0, 0, 10, 10], [100, 100, 200, 200], [105, 95, 190, 210]]
    labelled = [lh(box=(98, 98, 200, 205)), lh(box=(1, 1, 11, 11)), lh(box=(500, 500, 600, 600))]
    assert match_hands(labelled, boxes) == [1, 0, None]


def test_a_found_hand_serves_one_label_and_iou_below_a_quarter_is_no_match():
    assert match_hands([lh(box=(0, 0, 10, 10)), lh(box=(0, 0, 10, 10))], [[0, 0, 10, 10]]) == [0, None]
    assert match_hands([lh(box=(0, 0, 10, 10))], [[6, 0, 16, 10]]) == [0]  # IoU 40/160 = 0.25
    assert match_hands([lh(box=(0, 0, 10, 10))], [[7, 0, 17, 10]]) == [None]  # IoU 30/170


def test_unboxed_label_takes_the_largest_hand():
    assert match_hands([lh()], [[0, 0, 10, 10], [0, 0, 50, 50], [0, 0, 20, 20]]) == [1]
    assert match_hands([lh()], []) == [None]


def test_expected_gesture_from_label():
    assert expected_gesture(lh("10000", gesture="like")) == "thumb_up"
    assert expected_gesture(lh("10000", gesture="dislike")) == "thumb_down"
    assert expected_gesture(lh("01100", gesture="two_up_inverted")) == "v"
    assert expected_gesture(lh("01101", gesture="asl_7")) == "other"
    assert expected_gesture(lh(None, count=3)) is None


def test_scoring_counts_misses_as_wrong():
    election = load_election()
    v_hand = posed_hand("01100", center=(300, 300))
    box = tuple(float(x) for x in v_hand.box)
    score = SetScore("s")
    # found and right; a second labelled hand nobody found
    label = Label("a.jpg", "s", "scene", [lh("01100", 2, "peace", box), lh(None, 3, None, (900, 900, 950, 950))])
    score_image(score, label, judge([v_hand], election))
    assert (score.hands, score.found) == (2, 1)
    assert (score.fingers_total, score.fingers_exact) == (1, 1)
    assert (score.count_total, score.count_right) == (2, 1)
    assert score.recall == 0.5 and score.count_accuracy == 0.5
    assert score.confusion[("v", "v")] == 1
    # a wrong reading
    label = Label("b.jpg", "s", "hand", [lh("01000", 1, "one")])
    score_image(score, label, judge([posed_hand("01100")], election))
    assert score.fingers_exact == 1 and score.fingers_total == 2
    assert score.confusions() == [("one", "v", 1)]
    assert score.errors[-1] == {"path": "b.jpg", "fingers": "01000", "count": 1, "read": "01100"}


def test_negatives_flagged_and_reviewed():
    election = load_election()
    score = SetScore("n")
    score_image(score, Label("n1.jpg", "n", "negative", []), judge([posed_hand("01100")], election))
    score_image(score, Label("n2.jpg", "n", "negative", []), judge([posed_hand("00000")], election))
    assert (score.negatives, score.negatives_flagged, score.negatives_reviewed) == (2, 1, 0)
    assert score.negatives_flag_rate == 0.5
    assert score.fingers_accuracy is None  # nothing labelled
    assert score.to_dict()["negatives_flag_rate"] == 0.5


def test_read_labels_and_select(tmp_path):
    path = tmp_path / "labels.jsonl"
    rows = [
        {
            "path": f"x/{i}.jpg",
            "set": "x" if i < 3 else "y",
            "kind": "hand",
            "hands": [{"fingers": "01100", "count": 2, "gesture": "peace", "box": None}],
        }
        for i in range(5)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    labels = read_labels(path)
    assert len(labels) == 5 and labels[0].hands[0].fingers == "01100"
    assert [lb.path for lb in select(labels, ["x"], 2)] == ["x/0.jpg", "x/1.jpg"]
    assert len(select(labels, None, 1)) == 2
    path.write_text('{"path": "a.jpg"}\n')
    with pytest.raises(LabelsError, match="labels.jsonl:1: not a label"):
        read_labels(path)
    with pytest.raises(LabelsError, match="not found"):
        read_labels(tmp_path / "missing.jsonl")


@pytest.fixture
def small_labels(dev_root, dev_labels, tmp_path):
    """Three dev photos (a V, a thumbs-up, a negative) in a labels file beside copies of them."""
    wanted = ["hagrid/peace/peace_00000.jpg", "mediapipe/hand_thumb_up.jpg", "negatives/bus.jpg"]
    rows = [next(r for r in dev_labels if r["path"] == p) for p in wanted]
    for r in rows:
        target = tmp_path / r["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((dev_root / r["path"]).read_bytes())
    path = tmp_path / "labels.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_evaluate_end_to_end(small_labels, engine):
    result = evaluate(small_labels, engine, load_election(), backend="onnx")
    assert set(result.sets) == {"hagrid", "mediapipe", "negatives"}
    assert result.sets["hagrid"].fingers_accuracy == 1.0
    assert result.sets["mediapipe"].gesture_accuracy == 1.0
    assert result.sets["negatives"].negatives_flagged == 0
    out = result.to_dict()
    assert out["all"]["hands"] == 2 and out["sets"]["hagrid"]["hand_recall"] == 1.0


def test_eval_command_json(small_labels):
    result = CliRunner().invoke(app, ["eval", str(small_labels), "--json", "--sets", "hagrid,negatives"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out["sets"]) == {"hagrid", "negatives"}
    assert out["sets"]["hagrid"]["fingers_exact"] == 1.0


def test_eval_command_table(small_labels):
    result = CliRunner().invoke(app, ["eval", str(small_labels), "--limit", "1"])
    assert result.exit_code == 0, result.output
    assert "recall" in result.stdout and "hagrid" in result.stdout


def test_eval_command_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ../shared from here
    result = CliRunner().invoke(app, ["eval"])
    assert result.exit_code == 2
    assert "no labels file" in result.output and "pass LABELS.jsonl" in result.output
    labels = tmp_path / "l.jsonl"
    labels.write_text(json.dumps({"path": "a.jpg", "set": "x", "hands": []}) + "\n")
    result = CliRunner().invoke(app, ["eval", str(labels), "--sets", "nope"])
    assert result.exit_code == 2 and "no set nope" in result.output
    result = CliRunner().invoke(app, ["eval", str(labels), "--backend", "tflite"])
    assert result.exit_code == 2 and "onnx or mediapipe" in result.output


def test_fairness_table_by_skin_tone_on_rendered_hands(tmp_path):
    """`eval --by skin` on a rendered set: one row per tone, and the engine finds the hands."""
    from typer.testing import CliRunner

    from gesture_audit.cli import app

    runner = CliRunner()
    for seed, tone in enumerate(("tone1", "tone6")):  # file names carry the seed: one set each
        result = runner.invoke(
            app, ["synth", "--gesture", "v", "--n", "4", "--skin", tone, "--seed", str(seed), "--out", str(tmp_path)]
        )
        assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["eval", str(tmp_path / "labels.jsonl"), "--by", "skin", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout[result.stdout.index("{") :])
    assert set(out["sets"]) == {"tone1", "tone6"}
    for row in out["sets"].values():
        assert row["images"] == 4 and row["hand_recall"] >= 0.75  # measured: 1.0 for both tones


@pytest.mark.parametrize(
    "gesture, fingers, expected",
    [
        ("thumb_up", "10000", "thumb_up"),  # a rendered label: our own name wins over the pattern
        ("finger_heart", "11000", "finger_heart"),
        ("like", "10000", "thumb_up"),  # HaGRID's class name
        ("peace", "01100", "v"),  # unknown name: from the pattern
        (None, None, None),
    ],
)
def test_expected_gesture_names(gesture, fingers, expected):
    assert expected_gesture(LabelledHand(fingers=fingers, count=None, gesture=gesture, box=None)) == expected


def test_natural_order_of_tone_and_rotation_rows():
    from gesture_audit.evaluate import _natural

    assert sorted(["tone10", "tone2", "tone1"], key=_natural) == ["tone1", "tone2", "tone10"]
    assert sorted(["120-180°", "30-60°", "0-30°", "60-120°"], key=_natural) == [
        "0-30°",
        "30-60°",
        "60-120°",
        "120-180°",
    ]


@pytest.mark.timeout(300)
def test_eval_scores_attribute_labels_on_rendered_composites(tmp_path, engine):
    pytest.importorskip("rapidocr_onnxruntime", reason="reading text needs gesture-audit[ocr]")
    import numpy as np
    from PIL import Image

    from gesture_audit.detect.text import TextReader
    from gesture_audit.synth.attributes import composite

    election = load_election()
    plain = np.full((600, 800, 3), 170, np.uint8)
    image, label = composite(plain, election, np.random.default_rng(2), "backdrop")  # "Nomor Urut 03"
    Image.fromarray(image).save(tmp_path / "banner.png")
    Image.fromarray(plain).save(tmp_path / "plain.png")
    wrong = {**label, "ballot": 1}  # a label the photo does not bear out
    rows = [
        {"path": "banner.png", "set": "composite", "kind": "scene", "hands": [], "attributes": [label]},
        {"path": "plain.png", "set": "composite", "kind": "scene", "hands": [], "attributes": [wrong]},
        {"path": "plain.png", "set": "clean", "kind": "scene", "hands": [], "attributes": []},
        {"path": "banner.png", "set": "clean", "kind": "scene", "hands": [], "attributes": []},
    ]
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = evaluate(labels, engine, election, text=TextReader(threads=1)).to_dict()["sets"]
    assert (result["composite"]["attributes"], result["composite"]["attribute_recall"]) == (2, 0.5)
    assert (result["clean"]["clean"], result["clean"]["clean_with_attribute"]) == (2, 1)
    assert result["clean"]["false_attribute_rate"] == 0.5
