"""The runtime layer: which runtime and precision run the models, the fallbacks, and that OpenVINO and
int8 give ONNX Runtime fp32's answers on rendered photos. Runs on any CPU (features are passed in
where a test needs a CPU class this machine may not be)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from gesture_audit.runtime import PROFILES, Choice, choose, cpu_features, installed_runtimes

AVX2 = {"cpu": "test", "isa": ["avx2", "fma"], "class": "avx2"}
AMX = {
    "cpu": "test",
    "isa": ["amx_bf16", "amx_int8", "amx_tile", "avx2", "avx512_bf16", "avx512_vnni", "avx512f"],
    "class": "amx",
}


@pytest.fixture(autouse=True)
def fresh_warnings():
    """Each fallback is said once per process; every test here starts as a fresh process would."""
    from gesture_audit import runtime

    runtime._warned.clear()


def _no_warning(*args, **kwargs) -> Choice:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return choose(*args, **kwargs)


def test_cpu_features_reads_this_cpu():
    features = cpu_features()
    assert features["class"] in ("amx", "avx512_vnni", "avx2", "other")
    if os.path.exists("/proc/cpuinfo"):
        flags = open("/proc/cpuinfo").read()
        assert ("avx2" in features["isa"]) == (" avx2 " in flags or flags.rstrip().endswith(" avx2"))


def test_auto_picks_a_guarded_profile_here():
    choice = _no_warning()
    offered = [p for kind in PROFILES.values() for p in kind]
    assert (choice.runtime, choice.precision) in offered + [("onnxruntime", "fp32")]
    assert installed_runtimes()[choice.runtime]
    assert choice.to_dict()["cpu"] == cpu_features()


def test_auto_on_an_unmeasured_class_takes_the_class_below_and_says_so():
    choice = _no_warning(features=AMX)
    measured = next(kind for kind in ("amx", "avx512_vnni", "avx2") if PROFILES.get(kind))
    assert (choice.runtime, choice.precision) == PROFILES[measured][0]
    assert ("not measured" in choice.reason) == (measured != "amx")


def test_auto_never_picks_outside_the_guarded_table():
    for features in (AVX2, AMX, {"cpu": "arm", "isa": [], "class": "other"}):
        choice = _no_warning(features=features)
        offered = [p for kind in PROFILES.values() for p in kind] + [("onnxruntime", "fp32")]
        assert (choice.runtime, choice.precision) in offered


def test_bf16_falls_back_to_fp32_with_one_warning():
    with pytest.warns(UserWarning, match="bf16 is not supported by ONNX Runtime"):
        assert choose("onnxruntime", "bf16", features=AMX).precision == "fp32"
    if installed_runtimes()["openvino"]:
        with pytest.warns(UserWarning, match="no AMX or AVX512-BF16"):
            assert choose("openvino", "bf16", features=AVX2).precision == "fp32"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert choose("openvino", "bf16", features=AMX).precision == "bf16"
        # honoured where the CPU computes in bf16; a warning unless it passed the guard there
        assert [str(w.message) for w in caught] == (
            [] if ("openvino", "bf16") in PROFILES.get("amx", []) else [f"openvino bf16 {GUARD_NOTE}"]
        )


GUARD_NOTE = (
    "has not passed the accuracy guard on amx CPUs (benchmarks/README.md, Runtimes): findings may "
    "differ from the fp32 reference"
)


def test_an_unguarded_request_is_honoured_with_a_warning():
    with pytest.warns(UserWarning, match="int8 has not passed the accuracy guard on avx2 CPUs"):
        assert choose("onnxruntime", "int8", features=AVX2) == Choice("onnxruntime", "int8", "requested")
    for runtime, precision in PROFILES["avx2"]:
        assert _no_warning(runtime, precision, features=AVX2).runtime == runtime


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="runtime must be"):
        choose("tensorflow")
    with pytest.raises(ValueError, match="precision must be"):
        choose("auto", "fp16")


@pytest.mark.timeout(120)
def test_runtime_not_installed_warns_and_runs_on_onnxruntime(tmp_path):
    """openvino made unimportable for real (sys.modules entry None) in a fresh process running the CLI."""
    from gesture_audit.synth.core import render_hand

    (tmp_path / "in").mkdir()
    photo = tmp_path / "in" / "v.jpg"
    photo.write_bytes(render_hand("01100", rng=np.random.default_rng(3)).jpeg)
    code = (
        "import sys; sys.modules['openvino'] = None; from gesture_audit.cli import main; "
        f"sys.argv = ['gesture-audit', 'scan', {str(tmp_path / 'in')!r}, '--out', {str(tmp_path / 'out')!r}, "
        "'--runtime', 'openvino', '--quiet']; main()"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=110)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("runtime openvino is not installed") == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    record = json.loads((tmp_path / "out" / "scan.json").read_text())
    assert record["options"]["runtime"]["runtime"] == "onnxruntime"
    assert record["options"]["runtime"]["version"]
    rows = [json.loads(line) for line in (tmp_path / "out" / "findings.jsonl").read_text().splitlines()]
    assert [r["verdict"] for r in rows] == ["flag"]  # a V (two) held up: the sign is still judged


def test_cli_refuses_an_unknown_runtime():
    from typer.testing import CliRunner

    from gesture_audit.cli import app

    result = CliRunner().invoke(app, ["check", "nothing.jpg", "--runtime", "tflite"])
    assert result.exit_code == 2
    assert "runtime must be auto, onnxruntime, openvino" in result.output


def test_doctor_says_what_auto_picks():
    proc = subprocess.run(
        [sys.executable, "-m", "gesture_audit", "doctor", "--json"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    auto = choose()
    assert (report["auto"]["runtime"], report["auto"]["precision"]) == (auto.runtime, auto.precision)
    assert report["cpu"]["isa"] == cpu_features()["isa"]
    version = subprocess.run(
        [sys.executable, "-m", "gesture_audit", "--version"], capture_output=True, text=True, timeout=60
    ).stdout
    assert f"runtime: {auto.runtime} {auto.precision}" in version


@pytest.fixture(scope="module")
def rendered():
    from gesture_audit.synth.core import render_group, render_hand

    rng = np.random.default_rng(14)
    photos = [render_hand(g, rng=rng).image for g in ("01100", "11000", "11111", "00000", "10000", "01000")]
    return photos + [render_group(3, rng, size=(1200, 800)).image]


def _readings(runtime: str, precision: str, photos) -> tuple[list[str], list[list[np.ndarray]]]:
    from gesture_audit.audit import Auditor
    from gesture_audit.detect.engine import Engine, EngineOptions

    engine = Engine(EngineOptions(runtime=runtime, precision=precision, threads=2))
    assert (engine.choice.runtime, engine.choice.precision) == (runtime, precision)
    auditor = Auditor(engine=engine)
    findings = [auditor.check(photo) for photo in photos]
    return [f.verdict for f in findings], [[np.array(h["landmarks"])[:, :2] for h in f.hands] for f in findings]


@pytest.fixture(scope="module")
def reference(rendered):
    return _readings("onnxruntime", "fp32", rendered)


@pytest.mark.timeout(240)
def test_openvino_gives_onnxruntime_verdicts(rendered, reference):
    pytest.importorskip("openvino", reason="the openvino extra is not installed")
    verdicts, hands = _readings("openvino", "fp32", rendered)
    assert verdicts == reference[0]
    for ours, theirs in zip(hands, reference[1]):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            # Both fp32, only the order of float operations differs: 0.003-0.04 px on dev photos; 1 px
            # is well under a finger's width in these 256 px renders.
            assert np.abs(a - b).max() < 1.0


@pytest.mark.timeout(240)
def test_int8_models_load_and_find_the_same_hands(rendered, reference):
    import onnx

    from gesture_audit.runtime import model_file, model_path

    int8 = model_file("hand_landmark_full.onnx", "int8")
    assert int8 == "hand_landmark_full.int8.onnx"
    nodes = onnx.load(str(model_path(int8))).graph.node  # sha256 checked against the manifest
    assert sum(node.op_type == "DequantizeLinear" for node in nodes) > 50
    assert model_file("palm_detection_full.onnx", "int8") == "palm_detection_full.onnx"  # none: fp32
    _, hands = _readings("onnxruntime", "int8", rendered)
    assert [len(h) for h in hands] == [len(h) for h in reference[1]]
    # On an AVX2 CPU int8 moves a hand's landmarks by 0.9-3.4 % of its size on these renders (1-3 px
    # on 50-110 px hands); 5 % is still well inside a finger. Whether that changes readings is the
    # accuracy guard's question (benchmarks/README.md, Runtimes), not this test's. ONNX Runtime's int8
    # kernels differ by CPU: on an AVX-512 VNNI one (AMD EPYC, 2026-12-02) the V sign's moved 16 %
    # (the others 0.8-3.8 %), a known gap there; int8 is offered on neither (runtime.PROFILES).
    moved = [
        np.linalg.norm(a - b, axis=1).mean() / np.ptp(b, axis=0).max()
        for ours, theirs in zip(hands, reference[1])
        for a, b in zip(ours, theirs)
    ]
    if max(moved) >= 0.05 and cpu_features()["class"] != "avx2":
        pytest.xfail(f"int8 moved a hand's landmarks {max(moved):.0%} on this {cpu_features()['class']} CPU")
    assert max(moved) < 0.05, moved


# Counts glibc's malloc arenas after 8 threads have each held memory at once (malloc_info's XML has
# one <heap nr=...> per arena). Run in a fresh process, with or without the CLI's start-up first.
ARENAS = """
import ctypes, os, sys, tempfile, threading
if sys.argv[1] == "cli":
    from gesture_audit.cli import app
    app(["doctor", "--json"], standalone_mode=False)
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.fopen.restype = ctypes.c_void_p
held, barrier = [], threading.Barrier(8)
def work():
    barrier.wait()
    held.append(libc.malloc(100_000))
    barrier.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
out = tempfile.NamedTemporaryFile(suffix=".xml", delete=False).name
f = libc.fopen(out.encode(), b"w")
libc.malloc_info(0, ctypes.c_void_p(f))
libc.fclose(ctypes.c_void_p(f))
with open(out) as xml:
    print(xml.read().count("<heap nr="))
os.unlink(out)
"""


@pytest.mark.timeout(120)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc settings: Linux only")
def test_cli_start_bounds_the_malloc_arenas():
    """The CLI applies runtime.HEAP at start-up (every command): at most 2 arenas however many threads
    allocate (benchmarks/README.md, "Heap settings": the per-thread arenas were what grew); without
    it, the same 8 threads get more."""
    from gesture_audit import runtime

    def arenas(mode: str) -> int:
        done = subprocess.run(
            [sys.executable, "-c", ARENAS, mode], capture_output=True, text=True, timeout=100, check=True
        )
        return int(done.stdout.strip().splitlines()[-1])

    assert runtime.HEAP.get("arena_max") == 2
    assert arenas("cli") <= 2
    assert arenas("bare") > 2
