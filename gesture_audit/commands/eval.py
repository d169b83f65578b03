"""`gesture-audit eval`: score the pipeline against a labelled set, per set."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gesture_audit.commands import ElectionOption, FastOption, PrecisionOption, RuntimeOption, engine_options

DEFAULT_LABELS = Path("..") / "shared" / "data" / "dev" / "labels.jsonl"


def eval(  # noqa: A001 - the CLI looks the command up by this name
    labels: Annotated[
        Path | None,
        typer.Argument(
            metavar="LABELS.jsonl",
            show_default=False,
            help="Labels (JSON lines, see the dev set's README). Default: ../shared/data/dev/labels.jsonl "
            "from the current folder.",
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the scores as JSON instead of a table.")] = False,
    backend: Annotated[str, typer.Option("--backend", help="Hand engine: onnx (the fast path) or mediapipe.")] = "onnx",
    sets: Annotated[
        str | None, typer.Option("--sets", help="Only these sets, comma-separated (e.g. hagrid,asl_digits).")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most N images per set.")] = None,
    election: ElectionOption = None,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Images per engine call.")] = 8,
    by: Annotated[
        str,
        typer.Option(
            "--by",
            help="Rows per: set, or for rendered photos (gesture-audit "
            "synth) skin, rotation or gesture: the fairness and robustness tables.",
        ),
    ] = "set",
    fast: FastOption = False,
    symbols: Annotated[
        Path | None,
        typer.Option(
            "--symbols", help="Party-symbol gallery: also score labelled attributes of kind symbol.", show_default=False
        ),
    ] = None,
    runtime: RuntimeOption = "auto",
    precision: PrecisionOption = "auto",
    faces: Annotated[
        bool,
        typer.Option(
            "--faces",
            help="Also measure candidate identification on the "
            "faces/ folder beside LABELS.jsonl (needs the faces extra).",
        ),
    ] = False,
    identities: Annotated[
        Path | None,
        typer.Option(
            "--identities",
            help="With --faces: JSON naming the people in each faces/test photo, left to right "
            '({"photo.jpg": ["left", "right"]}). Default: faces/test/identities.json.',
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run engine + judgement over labelled photos and print per-set hand recall, finger-pattern
    accuracy, count accuracy, gesture confusions and negatives flagged."""
    import json
    import sys

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from gesture_audit.evaluate import LabelsError, evaluate, read_labels, select, table
    from gesture_audit.judge.election import ElectionError, load_election

    err = Console(stderr=True)
    path = labels if labels is not None else Path.cwd() / DEFAULT_LABELS
    if not path.is_file():
        hint = "" if labels is not None else " (the default, ../shared/data/dev/labels.jsonl from here)"
        err.print(f"[red]error:[/red] no labels file at {path.resolve()}{hint}; pass LABELS.jsonl")
        raise typer.Exit(2)
    if by not in ("set", "skin", "rotation", "gesture"):
        err.print(f"[red]error:[/red] --by is set, skin, rotation or gesture, not {by!r}")
        raise typer.Exit(2)
    if backend not in ("onnx", "mediapipe"):
        err.print(f"[red]error:[/red] --backend is onnx or mediapipe, not {backend!r}")
        raise typer.Exit(2)
    try:
        chosen_election = load_election(election)
        wanted = [s.strip() for s in sets.split(",") if s.strip()] if sets else None
        all_labels = read_labels(path)
    except (ElectionError, LabelsError) as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2) from None
    if wanted:
        known = {lb.set for lb in all_labels}
        unknown = [s for s in wanted if s not in known]
        if unknown:
            err.print(f"[red]error:[/red] no set {', '.join(unknown)} in {path} (sets: {', '.join(sorted(known))})")
            raise typer.Exit(2)
    total = len(select(all_labels, wanted, limit))

    face_result = None  # first: a missing extra or folder fails before the long hand run
    if faces:
        from gesture_audit.identify.embed import FacesUnavailable
        from gesture_audit.identify.eval import IDENTITIES_FILE, evaluate_faces, format_face_eval, read_identities

        beside = path.parent / "faces" / "test" / IDENTITIES_FILE
        try:  # what evaluate_faces reads by default, read here so that a malformed file is named
            people = read_identities(identities or beside) if identities or beside.is_file() else None
        except ValueError as e:
            err.print(f"[red]error:[/red] --identities: {e}")
            raise typer.Exit(2) from None
        try:
            face_result = evaluate_faces(path.parent, people)
        except (FacesUnavailable, FileNotFoundError) as e:
            err.print(f"[red]error:[/red] --faces: {e}")
            raise typer.Exit(2) from None

    if backend == "mediapipe":
        from gesture_audit.detect.reference import MediaPipeHands

        detector = MediaPipeHands()
    else:
        from gesture_audit.audit import hand_engine

        detector = hand_engine(engine_options(fast, runtime, precision)[0])

    text = None
    if any(lb.attributes is not None for lb in all_labels):
        from gesture_audit.detect.text import shared_reader

        text = shared_reader()
        if text is None:
            err.print(
                "[yellow]note:[/yellow] labels have attributes but printed text is not read without "
                "the ocr extra: pip install 'gesture-audit[ocr]'"
            )
    matcher = None
    if symbols is not None:
        from gesture_audit.identify.symbols import SymbolError, SymbolGallery, SymbolMatcher

        try:
            matcher = SymbolMatcher(SymbolGallery.load(symbols))
        except SymbolError as e:
            err.print(f"[red]error:[/red] {e}")
            raise typer.Exit(2) from None
    try:
        with Progress(
            TextColumn("eval"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err, transient=True
        ) as bar:
            task = bar.add_task("images", total=total)
            result = evaluate(
                path,
                detector,
                chosen_election,
                sets=wanted,
                limit=limit,
                batch=batch,
                by=by,
                backend=backend,
                progress=lambda n: bar.advance(task, n),
                text=text,
                symbols=matcher,
            )
    finally:
        if hasattr(detector, "close"):  # MediaPipe's landmarker complains if left to the interpreter's exit
            detector.close()
    if json_out:
        scores = result.to_dict() if face_result is None else {**result.to_dict(), "faces": face_result}
        sys.stdout.write(json.dumps(scores, indent=2) + "\n")
    else:
        Console().print(table(result))
        if face_result is not None:
            print(format_face_eval(face_result))
