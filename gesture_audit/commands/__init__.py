"""One module per subcommand; heavy imports stay inside the command functions."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

# The engine profile switch, shared by scan, check, eval and serve.
FastOption = Annotated[
    bool,
    typer.Option(
        "--fast",
        help="The fast profile: lite models, no zoomed or group-photo pass; 1.3-2.2x the photos "
        "per second, weaker finger readings (benchmarks/README.md).",
    ),
]

# Printed campaign text (attributes): off by default, it adds about 30 % to a scan.
TextOption = Annotated[
    bool,
    typer.Option(
        "--text",
        help="Also read printed campaign text (ballot numbers, names, slogans on banners and shirts); "
        "needs the [ocr] extra; adds about 30 % to the time per photo (benchmarks/README.md).",
    ),
]

# The election (ballot numbers and signs), shared by check, scan, serve, eval, gallery add and symbols
# add: a file or a shipped name, both read by `judge.election.load_election`.
ElectionOption = Annotated[
    Path | None,
    typer.Option(
        "--election",
        help="Election TOML (ballot numbers and signs), or a shipped one by name (pilpres-2019); "
        "default: Pilpres 2024.",
    ),
]

# The candidate face gallery (check, scan, serve) and party symbols (attributes of kind "symbol": check, scan).
GalleryOption = Annotated[
    Path | None,
    typer.Option("--gallery", help="Candidate face gallery (photos together with candidates)."),
]
SymbolsOption = Annotated[
    Path | None,
    typer.Option(
        "--symbols",
        help="Party-symbol gallery (gesture-audit symbols add): also look for these logos on banners, "
        "shirts and backdrops.",
        show_default=False,
    ),
]

# Videos (mp4, mov, webm, mkv, animated GIF/WebP), shared by scan and check.
VideoRateOption = Annotated[
    float,
    typer.Option(
        "--video-rate",
        min=0.1,
        max=30.0,
        help="Frames of a video judged per second; a sign counts when held for 0.5 s over consecutive frames.",
    ),
]
VideoMaxOption = Annotated[
    float,
    typer.Option(
        "--video-max",
        min=1.0,
        help="Seconds of a video checked; longer videos are cut short and their finding says so.",
    ),
]


def counts_line(counts: Counter, tr, *, all_: bool = False) -> str:
    """The outcome of every file in a scan, as `scan` ("all N files") and `report` print it (rich markup)."""
    total = sum(counts.values())
    files = (
        tr.ngettext("all {n} file:", "all {n} files:", total) if all_ else tr.ngettext("{n} file:", "{n} files:", total)
    ).format(n=total)
    line = (
        files
        + " "
        + tr.gettext("{flag} flagged, {review} review, {clear} clear, {error} could not be checked").format(
            flag=f"[bold red]{counts['flag']}[/bold red]",
            review=f"[bold]{counts['review']}[/bold]",
            clear=counts["clear"],
            error=counts["error"],
        )
    )
    if counts["skipped"]:
        line += ", " + tr.ngettext("{n} skipped (not a photo)", "{n} skipped (not a photo)", counts["skipped"]).format(
            n=counts["skipped"]
        )
    return line


# The language of everything shown (report.html, summary.csv, messages); chosen once, here.
LangOption = Annotated[
    str | None,
    typer.Option(
        "--lang",
        help="Language: id (Bahasa Indonesia) or en. Default: id when the locale (LC_ALL, "
        "LC_MESSAGES, LANG) is id_*, else en.",
        show_default=False,
    ),
]


def language(lang: str | None) -> str:
    """The --lang value checked (a usage error, exit status 2, for an unknown one)."""
    from gesture_audit.i18n import check_language

    try:
        return check_language(lang)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--lang") from None


SingleFileOption = Annotated[
    bool,
    typer.Option(
        "--single-file",
        help="Embed the evidence images in report.html (up to 20 MB, a warning beyond) so that "
        "the page alone can be e-mailed.",
    ),
]


# What runs the models (scan, check, eval, serve): resolved once per process by `runtime.choose`.
RuntimeOption = Annotated[
    str,
    typer.Option(
        "--runtime",
        help="Inference runtime: auto, onnxruntime or openvino. auto: the fastest that passed the "
        "accuracy guard on this CPU (gesture-audit doctor says which and why). One not "
        "installed: a warning, then onnxruntime.",
    ),
]
PrecisionOption = Annotated[
    str,
    typer.Option(
        "--precision",
        help="Model precision: auto, fp32, bf16 or int8. bf16 needs OpenVINO on a CPU with AMX or "
        "AVX512-BF16; int8 uses the quantised landmark model (benchmarks/README.md, "
        "Runtimes). One this machine cannot run: a warning, then fp32.",
    ),
]


def engine_options(fast: bool, runtime: str = "auto", precision: str = "auto"):
    """The EngineOptions of --fast/--runtime/--precision, the runtime resolved here (its fallback
    warnings printed as one plain line each), and that `Choice` (for scan.json)."""
    import warnings

    from gesture_audit.detect.engine import EngineOptions
    from gesture_audit.runtime import choose

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            choice = choose(runtime, precision)
        except ValueError as e:
            raise typer.BadParameter(str(e), param_hint="--runtime" if "runtime" in str(e) else "--precision") from None
    for warning in caught:
        typer.echo(f"Warning: {warning.message}", err=True)
    make = EngineOptions.fast if fast else EngineOptions
    return make(runtime=choice.runtime, precision=choice.precision), choice


def fail(message: str) -> NoReturn:
    """An input the user can mend (a file, a name, an option): one line on stderr, exit status 2."""
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(2)


# `gallery` and `symbols` edit a JSON file of named entries with ballot numbers (candidates' faces,
# parties' logos) by add / list / remove. `store` is the file's class (`Gallery`, `SymbolGallery`):
# `load(path)`, `save(path)`, `add`, `remove(name)`, each refusal a ValueError (GalleryError, SymbolError).
def open_entries(store: Any, path: Path, *, create: bool = False) -> Any:
    """The entries in `path` (`create`: an empty store while there is no file yet); exit 2 for a file
    that cannot be used."""
    if create and not path.exists():
        return store()
    try:
        return store.load(path)
    except ValueError as e:
        fail(str(e))


def remove_entry(store: Any, path: Path, name: str) -> Any:
    """Take the entry `name` out of `path` and return it; exit 2 when there is none."""
    entries = open_entries(store, path)
    try:
        entry = entries.remove(name)
    except ValueError as e:
        fail(str(e))
    entries.save(path)
    return entry


def warn_unknown_ballot(ballot: int | None, election: Path | None) -> None:
    """An entry's ballot number that is no pair of the election is still added, with this warning (the
    number may be for another election); exit 2 for an --election that cannot be read."""
    from gesture_audit.judge.election import load_election

    try:
        chosen = load_election(election)
    except (OSError, ValueError) as e:
        fail(str(e))
    if ballot is not None and chosen.pair(ballot) is None:
        numbers = ", ".join(f"{n:02d}" for n in sorted(chosen.pairs))
        typer.echo(
            f"Warning: ballot {ballot} is no pair of {chosen.name} (its pairs: {numbers}); "
            "check the number, or pass the right --election",
            err=True,
        )
