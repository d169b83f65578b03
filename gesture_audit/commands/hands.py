"""`gesture-audit hands IMAGE...`: the hands the engine finds in photos."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from gesture_audit.commands import fail


class Backend(str, Enum):
    onnx = "onnx"
    mediapipe = "mediapipe"


def hands(
    images: Annotated[list[Path], typer.Argument(help="Photos to look at.", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per photo (JSON Lines).")] = False,
    backend: Annotated[
        Backend,
        typer.Option(
            "--backend",
            help="onnx: the fast ONNX Runtime engine; mediapipe: MediaPipe's HandLandmarker "
            "(the reference, needs gesture-audit[reference]).",
        ),
    ] = Backend.onnx,
) -> None:
    """Print the hands found in each photo: side, scores, box and which fingers are up.

    Exit status 0 when every photo was read, 2 when one could not be.
    """
    from rich.console import Console

    if backend is Backend.mediapipe:
        from gesture_audit.detect.reference import MediaPipeHands

        try:
            engine = MediaPipeHands()
        except RuntimeError as e:
            fail(str(e))
    else:
        from gesture_audit.audit import hand_engine

        engine = hand_engine()
    console = Console()
    try:
        failed = _print_hands(engine, images, as_json, console)
    finally:
        if hasattr(engine, "close"):  # MediaPipe's landmarker complains if left to the interpreter's exit
            engine.close()
    if failed:
        raise typer.Exit(2)


def _print_hands(engine, images, as_json: bool, console) -> bool:
    """Print each photo's hands; return whether some photo could not be read."""
    import json

    from rich.table import Table

    from gesture_audit.classify.fingers import finger_states
    from gesture_audit.load import ImageLoadError, load_image

    failed = False
    for path in images:
        try:
            image = load_image(path)
        except ImageLoadError as e:
            failed = True
            if as_json:
                typer.echo(json.dumps({"path": str(path), "error": e.message}, ensure_ascii=False))
            else:
                console.print(f"[red]{path}: {e.message}[/red]")
            continue
        found = engine.detect_hands([image])[0]
        states = [finger_states(h) for h in found]
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "path": str(path),
                        "width": image.shape[1],
                        "height": image.shape[0],
                        "hands": [
                            {**h.to_dict(), "fingers": s.pattern, "count": s.count} for h, s in zip(found, states)
                        ],
                    },
                    ensure_ascii=False,
                )
            )
            continue
        table = Table(
            title=f"{path} ({image.shape[1]}×{image.shape[0]}): {len(found)} hand{'s' if len(found) != 1 else ''}",
            title_justify="left",
        )
        for column in ("#", "hand", "palm score", "presence", "box x0,y0,x1,y1", "fingers", "up"):
            table.add_column(column, justify="right" if column in ("#", "palm score", "presence", "up") else "left")
        for k, (h, s) in enumerate(zip(found, states), 1):
            table.add_row(
                str(k),
                f"{h.handedness} ({h.handedness_score:.2f})",
                f"{h.score:.2f}",
                f"{h.presence:.2f}",
                ", ".join(f"{v:.0f}" for v in h.box),
                s.pattern,
                str(s.count),
            )
        console.print(table)
    return failed
