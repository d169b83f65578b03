"""Videos: frames sampled on a grid, each judged as a photo, a sign flagged only when held.

Inputs are made here: rendered hands (`gesture_audit.synth`) and rendered scenes without a hand,
encoded with PyAV into mp4 / webm, and animated GIFs written with Pillow.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from PIL import Image

from gesture_audit.audit import Auditor
from gesture_audit.load_video import VideoLoadError, open_video
from gesture_audit.report.schema import validation_errors

av = pytest.importorskip("av", reason="videos need the video extra: pip install 'gesture-audit[video]'")

FPS = 10
SIZE = 320


@pytest.fixture(scope="module")
def frames() -> dict[str, np.ndarray]:
    """A V sign filling the frame, and a scene with a person and no hand (the synth renderer's)."""
    from gesture_audit.synth import render_empty, render_hand

    return {
        "v": render_hand(gesture="v", rng=np.random.default_rng(0), size=(SIZE, SIZE)).image,
        "neutral": render_empty(np.random.default_rng(0), (SIZE, SIZE)).image,
    }


def encode(images: list[np.ndarray], fps: int = FPS, container: str = "mp4", codec: str = "libx264") -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format=container) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.height, stream.width = images[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for image in images:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode())
    return buf.getvalue()


def clip(frames, pattern) -> list[np.ndarray]:
    """4 s at 10 fps: frame i shows pattern(i) ("v" or "neutral")."""
    return [frames[pattern(i)] for i in range(4 * FPS)]


@pytest.fixture(scope="module")
def held_mp4(frames) -> bytes:
    # The V is on screen from 1.5 s up to 2.5 s: samples at 1.5 and 2.0 see it (2 per second).
    return encode(clip(frames, lambda i: "v" if 15 <= i < 25 else "neutral"))


@pytest.fixture(scope="module")
def auditor() -> Auditor:
    return Auditor()


def test_a_v_sign_held_for_one_second_is_flagged_with_its_time_range(auditor, held_mp4, frames):
    finding = auditor.check(held_mp4)
    assert finding.ok and finding.verdict == "flag" and finding.ballots == [2], finding.to_dict()
    video = finding.video
    assert video["format"] == "MP4" and video["duration"] == pytest.approx(4.0) and video["samples"] == 8
    held = [m for m in video["moments"] if m["held"]]
    assert [(m["start"], m["end"], m["ballot"], m["verdict"]) for m in held] == [(1.5, 2.0, 2, "flag")]
    assert video["keyframe"] in (1.5, 2.0)  # the evidence frame is one that shows the sign
    assert finding.reasons[0].startswith("0:01.5–0:02.0, held 0.5 s:")
    assert validation_errors(finding.to_dict()) == []
    video_file = open_video(held_mp4)  # the evidence frame, found again by seeking: the V, not a neutral one
    for time, shown in ((video["keyframe"], "v"), (1.0, "neutral"), (3.5, "neutral")):
        image = video_file.frame_at(time).image
        assert np.abs(image.astype(int) - frames[shown]).mean() < 8, (time, shown)  # x264 at crf 23: ~1-2


@pytest.mark.parametrize(
    "frame, verdict",
    [
        (20, "review"),  # the V's only frame is the one on screen at the 2.0 s sample: seen once, not held
        (21, "clear"),  # on screen 2.1-2.2 s, between samples: never seen
    ],
)
def test_a_v_sign_flashed_in_a_single_frame_is_not_flagged(auditor, frames, frame, verdict):
    finding = auditor.check(encode(clip(frames, lambda i: "v" if i == frame else "neutral")))
    assert finding.ok and finding.verdict == verdict, finding.to_dict()
    assert not any(m["held"] for m in finding.video["moments"])
    if verdict == "review":
        assert "at 0:02.0, not held for 0.5 s" in finding.reasons[0]


def test_a_v_sign_jumping_between_hands_is_not_held(auditor, frames):
    """The same ballot in consecutive samples, but in different places (two people taking turns):
    each hand is followed on its own, so neither is held."""
    wide = np.concatenate([frames["neutral"], frames["neutral"]], axis=1)
    left, right = wide.copy(), wide.copy()
    left[:, :SIZE], right[:, SIZE:] = frames["v"], frames["v"]
    # samples at 1.0, 1.5, 2.0, 2.5 see left, right, left, right
    images = [left if 10 <= i < 30 and (i // 5) % 2 == 0 else right if 10 <= i < 30 else wide for i in range(40)]
    finding = auditor.check(encode(images))
    assert finding.ok and finding.verdict == "review", finding.to_dict()
    assert len(finding.video["moments"]) == 4 and not any(m["held"] for m in finding.video["moments"])


def test_long_clips_are_capped_and_say_so(held_mp4):
    auditor = Auditor(video_max=1.0)
    seen = []
    auditor.on_video_progress = lambda seconds, total: seen.append((seconds, total))
    finding = auditor.check(held_mp4)
    assert seen == [(1.0, 1.0)]  # one engine batch of 3 frames, the last at 1.0 s of the 1.0 s to check
    video = finding.video
    assert finding.verdict == "clear" and video["capped"] and video["samples"] == 3  # 0, 0.5, 1.0
    assert finding.reasons == ["only the first 0:01.0 of 0:04.0 was checked (raise the cap with --video-max)"]


def test_samples_are_the_frames_on_screen_at_each_grid_time(auditor):
    """An animated GIF with uneven frame times (Pillow): each sample shows the frame displayed then."""
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    durations = [300, 1200, 500]  # ms: red 0-0.3 s, green 0.3-1.5 s, blue 1.5-2.0 s
    buf = io.BytesIO()
    images = [Image.new("RGB", (64, 48), c) for c in colours]
    images[0].save(buf, "GIF", save_all=True, append_images=images[1:], duration=durations, loop=0)
    video = open_video(buf.getvalue())
    assert (video.format, video.width, video.height, video.duration) == ("GIF", 64, 48, pytest.approx(2.0))
    seen = [(s.time, int(np.argmax(s.image[0, 0]))) for s in video.samples(rate=2.0)]
    assert seen == [(0.0, 0), (0.5, 1), (1.0, 1), (1.5, 2)]
    assert int(np.argmax(video.frame_at(1.0).image[0, 0])) == 1
    assert auditor.decode(buf.getvalue()).clip is not None
    photo = auditor.decode(buf.getvalue(), videos=False)  # the service's way: the first frame, as a photo
    assert photo.clip is None and (photo.image == (255, 0, 0)).all()
    still = io.BytesIO()
    images[0].save(still, "GIF")
    assert open_video(still.getvalue()) is None  # a still GIF is a photo


def test_phone_videos_are_turned_upright():
    """Phones store a portrait clip as landscape frames plus a display rotation; frames come out as
    they play: 90° counter-clockwise turns the left half of the stored frame into the bottom."""
    stored = np.zeros((48, 64, 3), np.uint8)
    stored[:, :32] = (255, 0, 0)
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.set_display_rotation(90)
        for _ in range(5):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(stored, format="rgb24")))
        out.mux(stream.encode())
    video = open_video(buf.getvalue())
    assert (video.width, video.height) == (48, 64)
    image = next(video.samples()).image
    assert image.shape == (64, 48, 3)
    assert image[-8:, :, 0].mean() > 200 and image[:8, :, 0].mean() < 50  # red below, black above


def test_damaged_videos_raise_video_load_error(held_mp4, frames):
    with pytest.raises(VideoLoadError) as e:
        open_video(held_mp4[: len(held_mp4) // 2])  # mp4 from PyAV: the index (moov) comes last
    assert e.value.reason == "corrupt" and "damaged MP4" in e.value.message
    panning = [np.roll(frames["neutral"], 8 * i, axis=1) for i in range(4 * FPS)]  # every frame costs bytes
    webm = encode(panning, container="webm", codec="libvpx-vp9")
    cut = open_video(webm[: len(webm) * 9 // 10])  # the header survives; the frames stop part-way
    with pytest.raises(VideoLoadError) as e:
        list(cut.samples())
    assert e.value.reason == "truncated" and "truncated WebM video (frames end at" in e.value.message


def test_scan_a_folder_with_videos(tmp_path, held_mp4, frames):
    """Through the CLI: every video gets one row; broken ones an error row, never a crash; the
    report and summary.csv show the time ranges and the keyframe."""
    root = tmp_path / "in"
    root.mkdir()
    (root / "held.mp4").write_bytes(held_mp4)
    (root / "calm.webm").write_bytes(encode(clip(frames, lambda i: "neutral"), container="webm", codec="libvpx-vp9"))
    (root / "truncated.mp4").write_bytes(held_mp4[: len(held_mp4) // 2])
    (root / "garbage.mov").write_bytes(held_mp4[:32] + os.urandom(4000))
    (root / "empty.mkv").write_bytes(b"")
    with zipfile.ZipFile(root / "status.zip", "w") as zf:  # a WhatsApp status saved in a zip: read in place
        zf.writestr("Status/clip.mp4", held_mp4)
    out = tmp_path / "out"
    env = {**os.environ, "COLUMNS": "120"}
    proc = subprocess.run(
        [sys.executable, "-m", "gesture_audit", "scan", str(root), "--out", str(out), "--video-rate", "2"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    rows = {r["path"]: r for r in map(json.loads, (out / "findings.jsonl").read_text().splitlines())}
    assert sorted(rows) == [
        "calm.webm",
        "empty.mkv",
        "garbage.mov",
        "held.mp4",
        "status.zip!/Status/clip.mp4",
        "truncated.mp4",
    ]
    assert rows["status.zip!/Status/clip.mp4"]["video"]["moments"] == rows["held.mp4"]["video"]["moments"]
    assert all(validation_errors(r) == [] for r in rows.values())
    assert rows["held.mp4"]["verdict"] == "flag" and rows["calm.webm"]["verdict"] == "clear"
    assert rows["calm.webm"]["video"]["format"] == "WebM"
    for name in ("truncated.mp4", "garbage.mov", "empty.mkv"):
        assert rows[name]["status"] == "error" and rows[name]["error"], rows[name]
    assert rows["empty.mkv"]["error"].startswith("empty file")

    with open(out / "summary.csv", encoding="utf-8-sig", newline="") as fh:
        table = {r["path"]: r for r in csv.DictReader(fh)}
    assert table["held.mp4"]["time_ranges"] == "0:01.5–0:02.0 #02 v flag"
    keyframe = rows["held.mp4"]["video"]["keyframe"]
    assert table["held.mp4"]["keyframe"] == f"0:{keyframe:04.1f}"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "0:01.5–0:02.0 #02 v flag" in page and f"keyframe 0:{keyframe:04.1f}" in page
    thumb = out / "evidence" / f"{rows['held.mp4']['sha256'][:16]}.thumb.jpg"
    assert thumb.is_file() and Image.open(thumb).size == (480, 480)  # the keyframe, drawn
