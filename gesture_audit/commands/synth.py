"""`gesture-audit synth`: render hand photos with ground truth, for tests, samples and tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gesture_audit.commands import fail


def synth(
    gesture: Annotated[
        str | None,
        typer.Option(
            "--gesture",
            "-g",
            help="A gesture name (see --help-gestures), 'random' (one drawn per hand) or "
            "'none' (photos with people and no hand).",
            show_default=False,
        ),
    ] = None,
    fingers: Annotated[
        str | None,
        typer.Option("--fingers", "-f", help="Fingers thumb..pinky, 1 = extended, e.g. 01100.", show_default=False),
    ] = None,
    n: Annotated[int, typer.Option("--n", "-n", min=1, help="Number of photos.")] = 10,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (created; labels.jsonl is updated).")] = Path(
        "synth"
    ),
    seed: Annotated[int, typer.Option("--seed", help="Photo i of a run is the same for the same seed.")] = 0,
    size: Annotated[
        str | None,
        typer.Option(
            "--size",
            help="WxH; default 256x256, 1600x1000 with --group, 640x480 with --gesture none.",
            show_default=False,
        ),
    ] = None,
    group: Annotated[
        int,
        typer.Option("--group", min=0, help="K people raising hands in each photo (0: one hand filling the photo)."),
    ] = 0,
    skin: Annotated[
        str | None,
        typer.Option(
            "--skin",
            help="Skin tone tone1 (lightest) .. tone6 (darkest); default: drawn per person.",
            show_default=False,
        ),
    ] = None,
    help_gestures: Annotated[bool, typer.Option("--help-gestures", help="List the gestures and exit.")] = False,
) -> None:
    """Render synthetic hand photos (JPEG) and their labels.jsonl (the dev set's format).

    Exit status: 0 written; 2 an option is unusable.
    """
    from gesture_audit.synth.gestures import GESTURES, check_fingers

    if help_gestures:
        for name, pattern in GESTURES.items():
            typer.echo(f"{name:<13} {pattern}")
        raise typer.Exit()

    if (gesture is None) == (fingers is None):
        fail("give exactly one of --gesture NAME and --fingers PATTERN (e.g. --gesture v, --fingers 01100)")
    if gesture is not None and gesture not in GESTURES and gesture not in ("random", "none"):
        fail(f"unknown gesture {gesture!r}; known: {', '.join(GESTURES)}, random, none")
    if fingers is not None:
        try:
            check_fingers(fingers)
        except ValueError as e:
            fail(str(e))
    if gesture == "none" and group:
        fail("--gesture none renders photos without hands; it does not combine with --group")
    from gesture_audit.synth.surface import SKIN_TONES

    if skin is not None and skin not in SKIN_TONES:
        fail(f"unknown skin tone {skin!r}; known: {', '.join(SKIN_TONES)}")
    default = (640, 480) if gesture == "none" else (1600, 1000) if group else (256, 256)
    try:
        width, height = (int(v) for v in size.lower().split("x")) if size else default
    except ValueError:
        fail(f"--size must look like 640x480, not {size!r}")
    if min(width, height) < 64:
        fail("--size must be at least 64x64")

    import json

    import numpy as np
    from rich.progress import track

    from gesture_audit.synth import render_empty, render_group, render_hand

    out.mkdir(parents=True, exist_ok=True)
    stem = "empty" if gesture == "none" else f"group{group}" if group else (gesture or fingers)
    names = list(GESTURES)
    lines: dict[str, dict] = {}
    labels = out / "labels.jsonl"
    if labels.is_file():  # keep what earlier runs wrote; photos written again replace their line
        for line in labels.read_text().splitlines():
            if line.strip():
                record = json.loads(line)
                lines[record["path"]] = record
    for i in track(range(n), description=f"rendering {stem}", disable=n < 8, transient=True):
        rng = np.random.default_rng([seed, i])
        if gesture == "none":
            render = render_empty(rng, (width, height))
        elif group:
            g = None if gesture == "random" else gesture
            render = render_group(group, rng, (width, height), fingers=fingers, gesture=g, skin=skin)
        else:
            g = names[int(rng.integers(len(names)))] if gesture == "random" else gesture
            render = render_hand(fingers, g, rng=rng, size=(width, height), skin=skin)
        path = f"{stem}_{seed}_{i:05d}.jpg"
        (out / path).write_bytes(render.jpeg)
        lines[path] = render.label(path)
    labels.write_text("".join(json.dumps(record) + "\n" for record in lines.values()))
    typer.echo(f"wrote {n} photo(s) to {out}/ and {len(lines)} line(s) to {labels}")
