"""`gesture-audit check IMAGE`: one photo's verdict and the reasons for it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gesture_audit.commands import (
    ElectionOption,
    FastOption,
    GalleryOption,
    LangOption,
    PrecisionOption,
    RuntimeOption,
    SymbolsOption,
    TextOption,
    VideoMaxOption,
    VideoRateOption,
    engine_options,
    language,
)


def check(
    image: Annotated[Path, typer.Argument(help="The photo (or video) to check.", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the finding as JSON (a findings.jsonl line).")] = False,
    election: ElectionOption = None,
    fail_on_flag: Annotated[
        bool, typer.Option("--fail-on-flag", help="Exit with status 1 when the photo is flagged.")
    ] = False,
    gallery: GalleryOption = None,
    fast: FastOption = False,
    runtime: RuntimeOption = "auto",
    precision: PrecisionOption = "auto",
    text: TextOption = False,
    symbols: SymbolsOption = None,
    lang: LangOption = None,
    video_rate: VideoRateOption = 2.0,
    video_max: VideoMaxOption = 600.0,
) -> None:
    """Check one photo: verdict (flag / review / clear), risk, reasons, and the hands found.

    Exit status: 0 checked; 1 flagged (with --fail-on-flag); 2 the photo or an option is unusable.
    """
    import json

    from rich.console import Console
    from rich.table import Table

    from gesture_audit.audit import Auditor
    from gesture_audit.i18n import translator
    from gesture_audit.results import path_form

    tr = translator(language(lang))
    engine, _choice = engine_options(fast, runtime, precision)
    _ = tr.gettext
    try:
        auditor = Auditor(
            election=election,
            gallery=gallery,
            engine=engine,
            text=text,
            symbols=symbols,
            video_rate=video_rate,
            video_max=video_max,
        )
    except (OSError, ValueError) as e:
        typer.echo(f"{_('Error:')} {tr.text(e.args[0] if e.args else e)}", err=True)
        raise typer.Exit(2) from None
    finding = auditor.check(image)
    finding.path, finding.path_hex = path_form(image)
    if as_json:
        typer.echo(json.dumps(finding.to_dict(tr), ensure_ascii=False))
    else:
        console = Console()
        if not finding.ok:
            console.print(f"[bold]{finding.path}[/bold]: [red]{_('cannot be checked:')} {tr.text(finding.error)}[/red]")
        else:
            verdict = finding.verdict or "clear"  # an ok finding always has one
            labels = {"flag": _("FLAG"), "review": _("REVIEW"), "clear": _("CLEAR")}
            style = {"flag": "bold white on red", "review": "bold black on dark_orange", "clear": "bold white on green"}
            console.print(
                f"[bold]{finding.path}[/bold] ({finding.width}×{finding.height})  "
                f"[{style[verdict]}] {labels[verdict]} [/]  {_('risk')} {finding.risk:.2f}"
            )
            if finding.video is not None:
                video = finding.video
                console.print(
                    f"  video: {video['checked']:.1f} s checked, {video['samples']} frames at "
                    f"{video['sample_rate']:g}/s"
                    + (f"; hands below at {video['keyframe']:.1f} s" if video["keyframe"] is not None else "")
                )
            for reason in finding.reasons:
                console.print(f"  • {tr.text(reason)}")
            if finding.hands:
                table = Table(show_edge=False, pad_edge=False)
                for column in ("#", _("hand"), _("fingers"), _("count"), _("sign"), _("ballot"), _("confidence")):
                    table.add_column(column)
                for k, h in enumerate(finding.hands, 1):
                    ballot = "-" if h.ballot is None else f"{h.ballot:02d}"
                    table.add_row(
                        str(k),
                        h.handedness,
                        h.fingers,
                        str(h.count),
                        str(h.gesture or "-"),
                        ballot,
                        f"{h.confidence:.2f}",
                    )
                console.print(table)
            else:
                console.print("  " + _("no hands found"))
            if finding.faces is not None:
                named = [
                    f"{f.candidate}" + ("" if f.ballot is None else f" ({f.ballot:02d})")
                    for f in finding.faces
                    if f.candidate is not None
                ]
                who = _("candidates: {names}").format(names=", ".join(named)) if named else _("no candidate")
                console.print("  " + _("{n} face(s); {who}").format(n=len(finding.faces), who=who), highlight=False)
    if not finding.ok:
        raise typer.Exit(2)
    if fail_on_flag and finding.flagged:
        raise typer.Exit(1)
