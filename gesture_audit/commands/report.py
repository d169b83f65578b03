"""`gesture-audit report DIR`: re-render summary.csv and report.html from DIR/findings.jsonl."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from gesture_audit.commands import LangOption, counts_line, language


def report(
    out: Annotated[Path, typer.Argument(help="The --out folder of a scan.", show_default=False)],
    include_clear: Annotated[
        bool | None,
        typer.Option(
            "--include-clear/--flagged-only",
            help="List clear photos too, or only flagged, review and unreadable files. Default: as the scan was run.",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Threads drawing evidence images.")] = min(
        4, os.cpu_count() or 1
    ),
    fail_on_flag: Annotated[
        bool, typer.Option("--fail-on-flag", help="Exit with status 1 when any photo is flagged.")
    ] = False,
    decisions: Annotated[
        Path | None,
        typer.Option(
            "--decisions",
            help="A decisions.json or decisions.csv exported from report.html: merged into "
            "DIR/decisions.json and shown in summary.csv and report.html.",
        ),
    ] = None,
    lang: LangOption = None,
    single_file: Annotated[
        bool | None,
        typer.Option(
            "--single-file/--linked-evidence",
            help="Embed the evidence images in report.html (up to 20 MB) so "
            "that the page alone can be sent, or link to DIR/evidence/. Default: as the scan was run.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Re-render DIR/summary.csv and DIR/report.html from DIR/findings.jsonl.

    Evidence images in DIR/evidence/ are reused; missing ones are drawn from the scanned photos.

    A photo that is gone or changed since the scan gets a placeholder.

    Exit status: 0 done; 1 something flagged (with --fail-on-flag); 2 DIR holds no findings, or
    the decisions file cannot be read; 3 failed (DIR/scan.json damaged, an unexpected error).
    """
    from rich.console import Console

    from gesture_audit.i18n import translator
    from gesture_audit.report import FINDINGS, ScanRecord, render_reports
    from gesture_audit.report.decisions import DecisionsError, merge_decisions, read_decisions
    from gesture_audit.report.record import ScanStateError

    console = Console(stderr=True)
    try:
        record = ScanRecord.load(out) if (out / FINDINGS).is_file() else None
    except ScanStateError as e:
        console.print(f"[red]{translator(language(lang)).gettext('Error:')}[/red] {e}", highlight=False)
        raise typer.Exit(3) from None
    # The language of the scan unless --lang (or, for an old scan, the locale) says otherwise.
    lang = language(lang if lang is not None or record is None else record.options.get("lang"))
    tr = translator(lang)
    if not (out / FINDINGS).is_file():
        console.print(
            f"[red]{tr.gettext('Error:')}[/red] "
            + tr.gettext("{path} does not exist: give the --out folder of a scan").format(path=out / FINDINGS),
            highlight=False,
        )
        raise typer.Exit(2)
    if record is None:
        console.print(
            "[yellow]"
            + tr.gettext(
                "{path} is missing: photos cannot be found, so evidence images not already drawn get placeholders"
            ).format(path=out / "scan.json")
            + "[/yellow]",
            highlight=False,
        )
    if decisions is not None:
        try:
            scan_id, new = read_decisions(decisions)
        except DecisionsError as e:
            console.print(f"[red]{tr.gettext('Error:')}[/red] {tr.text(e.args[0])}", highlight=False)
            raise typer.Exit(2) from None
        ours = record.scan_id if record else ""
        if scan_id and ours and scan_id != ours:
            console.print(
                "[yellow]"
                + tr.gettext(
                    "{path} was exported from another scan's report; its decisions "
                    "are matched to photos by their sha256"
                ).format(path=decisions)
                + "[/yellow]",
                highlight=False,
            )
        merge_decisions(out, ours, new)
        console.print(
            tr.ngettext("{n} decision read from {path}", "{n} decisions read from {path}", len(new)).format(
                n=len(new), path=decisions
            ),
            highlight=False,
        )
    if include_clear is None:
        include_clear = bool(record and record.options.get("include_clear"))
    if single_file is None:
        single_file = bool(record and record.options.get("single_file"))
    drawing = tr.gettext("drawing the report…")
    with console.status(drawing) as status:
        rendered = render_reports(
            out,
            record=record,
            include_clear=include_clear,
            workers=workers,
            lang=lang,
            single_file=single_file,
            on_evidence=lambda i, n: status.update(f"{drawing} {i}/{n}"),
        )
    print_rendered(console, tr, rendered)
    if fail_on_flag and rendered.counts["flag"]:
        raise typer.Exit(1)


def print_rendered(console, tr, rendered, *, all_: bool = False, prefix: str = "", paths: bool = True) -> None:
    """The counts and decisions on stderr, then where the report is on stdout (shared with `scan`,
    which says "all" and, with --json, prints its own summary instead of the paths)."""
    console.print(f"{prefix} {counts_line(rendered.counts, tr, all_=all_)}".lstrip(), highlight=False)
    if rendered.decided:
        console.print(
            tr.gettext("{decided} of {n} listed photos decided by a reviewer").format(
                decided=rendered.decided, n=rendered.listed
            ),
            highlight=False,
        )
    if rendered.not_embedded:
        console.print(
            "[yellow]"
            + tr.ngettext(
                "--single-file: {n} evidence image was not embedded to keep report.html under the size limit; "
                "send the evidence/ folder with it",
                "--single-file: {n} evidence images were not embedded to keep report.html under the size limit; "
                "send the evidence/ folder with it",
                rendered.not_embedded,
            ).format(n=rendered.not_embedded)
            + "[/yellow]",
            highlight=False,
        )
    if paths:
        typer.echo(f"{tr.gettext('report:')} {rendered.report}\n{tr.gettext('summary:')} {rendered.summary}")
