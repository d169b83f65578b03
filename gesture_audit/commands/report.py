"""`gesture-audit report DIR`: re-render summary.csv and report.html from DIR/findings.jsonl."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer


def report(
    out: Annotated[Path, typer.Argument(help="The --out folder of a scan.", show_default=False)],
    include_clear: Annotated[Optional[bool], typer.Option(
        "--include-clear/--flagged-only",
        help="List clear photos too, or only flagged, review and unreadable files. "
             "Default: as the scan was run.", show_default=False)] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Threads drawing evidence images.")]
        = min(4, os.cpu_count() or 1),
    fail_on_flag: Annotated[bool, typer.Option("--fail-on-flag", help="Exit with status 1 when any photo "
                                               "is flagged.")] = False,
) -> None:
    """Re-render DIR/summary.csv and DIR/report.html from DIR/findings.jsonl.

    Evidence images in DIR/evidence/ are reused; missing ones are drawn from the scanned photos.

    A photo that is gone or changed since the scan gets a placeholder.

    Exit status: 0 done; 1 something flagged (with --fail-on-flag); 2 DIR holds no findings;
    3 failed (DIR/scan.json damaged, an unexpected error).
    """
    from rich.console import Console

    from gesture_audit.commands import counts_line
    from gesture_audit.report import FINDINGS, ScanRecord, render_reports
    from gesture_audit.report.record import ScanStateError

    console = Console(stderr=True)
    if not (out / FINDINGS).is_file():
        console.print(f"[red]Error:[/red] {out / FINDINGS} does not exist: give the --out folder of a scan",
                      highlight=False)
        raise typer.Exit(2)
    try:
        record = ScanRecord.load(out)
    except ScanStateError as e:
        console.print(f"[red]Error:[/red] {e}", highlight=False)
        raise typer.Exit(3)
    if record is None:
        console.print(f"[yellow]{out / 'scan.json'} is missing: photos cannot be found, so evidence "
                      "images not already drawn get placeholders[/yellow]")
    if include_clear is None:
        include_clear = bool(record and record.options.get("include_clear"))
    with console.status("drawing the report…") as status:
        rendered = render_reports(out, record=record, include_clear=include_clear, workers=workers,
                                  on_evidence=lambda i, n: status.update(f"drawing the report… {i}/{n}"))
    console.print(counts_line(rendered.counts), highlight=False)
    typer.echo(f"report: {rendered.report}\nsummary: {rendered.summary}")
    if fail_on_flag and rendered.counts["flag"]:
        raise typer.Exit(1)
