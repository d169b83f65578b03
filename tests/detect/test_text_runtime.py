"""The text reader's runtimes: RapidOCR's models on ONNX Runtime (the default) or OpenVINO read
the same lines (issue 19o)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

pytest.importorskip("rapidocr_onnxruntime", reason="reading text needs gesture-audit[ocr]")

from gesture_audit.detect.text import TextReader, TextUnavailable  # noqa: E402
from gesture_audit.judge.election import load_election  # noqa: E402
from gesture_audit.synth.attributes import composite  # noqa: E402
from tests.detect.test_text import wall  # noqa: E402


def lines(found):
    return [(line.text, np.round(line.box).tolist(), line.confidence) for line in found]


@pytest.mark.timeout(120)
def test_both_runtimes_read_the_same_lines():
    pytest.importorskip("openvino", reason="the second runtime needs gesture-audit[openvino]")
    election = load_election()
    # A banner, a shirt and a backdrop as the benchmark renders them (perspective, folds, blur, JPEG).
    images = [
        composite(wall(3, (600, 800)), election, np.random.default_rng(seed), place)[0]
        for place, seed in (("banner", 5), ("shirt", 4), ("backdrop", 2))
    ]
    onnxruntime = [lines(found) for found in TextReader(threads=1).read(images)]
    openvino = [lines(found) for found in TextReader(threads=1, runtime="openvino").read(images)]
    assert all(onnxruntime), onnxruntime  # each composite's text is read
    for a, b in zip(onnxruntime, openvino):
        assert [line[:2] for line in a] == [line[:2] for line in b]  # the same text, the same boxes (px)
        # Confidences: the two runtimes' logits differ by float rounding only (6e-5 at most measured
        # on 101 recogniser batches of 100 composites, benchmarks/README.md, session 8, 19o).
        assert np.allclose([line[2] for line in a], [line[2] for line in b], atol=1e-3)


def test_an_unknown_runtime_or_a_missing_openvino_is_a_clear_error(monkeypatch):
    with pytest.raises(ValueError, match="onnxruntime or openvino"):
        TextReader(runtime="tensorrt")
    monkeypatch.setitem(sys.modules, "openvino", None)  # as if not installed: importing it fails
    with pytest.raises(TextUnavailable, match=r"gesture-audit\[openvino\]"):
        TextReader(runtime="openvino")


@pytest.mark.timeout(120)
def test_a_scan_reads_text_on_its_hand_models_runtime():
    pytest.importorskip("openvino", reason="the second runtime needs gesture-audit[openvino]")
    from gesture_audit.audit import Auditor
    from gesture_audit.detect.engine import EngineOptions

    assert Auditor(engine=EngineOptions(threads=1, runtime="onnxruntime"), text=True).text.runtime == "onnxruntime"
    assert Auditor(engine=EngineOptions(threads=1, runtime="openvino"), text=True).text.runtime == "openvino"
