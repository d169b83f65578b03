"""`gesture-audit scan PATH... --out DIR`: audit folders of photos, resumably."""

from __future__ import annotations

import json
import os
from dataclasses import replace
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
    SingleFileOption,
    SymbolsOption,
    TextOption,
    VideoMaxOption,
    VideoRateOption,
    engine_options,
    language,
)


def scan(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Folders (searched recursively) or files; also object store URIs (s3://bucket/prefix, gs://...).",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Folder for findings.jsonl, summary.csv, report.html "
            "and evidence/; must not lie inside a scanned folder.",
            show_default=False,
        ),
    ],
    election: ElectionOption = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Finish a stopped scan into the same --out: repairs a torn last line, skips files "
            "already in findings.jsonl, and ends with exactly one row per file.",
        ),
    ] = False,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Threads decoding photos while the engine runs.")
    ] = min(4, os.cpu_count() or 1),
    batch: Annotated[int, typer.Option("--batch", min=1, help="Photos per engine call.")] = 8,
    include_clear: Annotated[
        bool,
        typer.Option(
            "--include-clear/--flagged-only",
            help="What summary.csv and report.html list: flagged, review and unreadable files only "
            "(--flagged-only), or clear photos too. findings.jsonl always has every file.",
        ),
    ] = False,
    fail_on_flag: Annotated[
        bool, typer.Option("--fail-on-flag", help="Exit with status 1 when any photo is flagged.")
    ] = False,
    gallery: GalleryOption = None,
    fast: FastOption = False,
    runtime: RuntimeOption = "auto",
    precision: PrecisionOption = "auto",
    text: TextOption = False,
    symbols: SymbolsOption = None,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            help="Check the photos on a Ray cluster: auto (the cluster this machine belongs to), "
            "HOST:PORT, or local (start Ray here). Paths must be readable by every node; "
            "needs the ray extra.",
            show_default=False,
        ),
    ] = None,
    actors: Annotated[int, typer.Option("--actors", min=1, help="With --ray: actors, each with its own models.")] = 1,
    actor_cpus: Annotated[
        float, typer.Option("--actor-cpus", min=0.01, help="With --ray: CPUs per actor (fractions allowed).")
    ] = 1.0,
    include: Annotated[
        list[str] | None,
        typer.Option(
            "--include",
            help="Scan only files matching this glob (repeatable), e.g. '*.jpg'; without \"/\" it "
            'matches the file name, with "/" the path under the folder; case ignored.',
            show_default=False,
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude",
            help="Leave out files and folders matching this glob (repeatable), e.g. 'thumbs' or 'backup/*'.",
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress and no summary on stderr; problems are still reported.")
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print a machine-readable summary (counts, paths) as one JSON object on stdout."),
    ] = False,
    progress_every: Annotated[
        int,
        typer.Option(
            "--progress-every",
            min=1,
            help="When stderr is not a terminal (a log file), print a plain progress line every N files.",
        ),
    ] = 100,
    lang: LangOption = None,
    single_file: SingleFileOption = False,
    video_rate: VideoRateOption = 2.0,
    video_max: VideoMaxOption = 600.0,
) -> None:
    """Scan folders of photos for ballot-number hand signs.

    Every file under PATH gets one line in DIR/findings.jsonl, written as results arrive.

    Archives (zip, tar, 7z) are scanned in place: one line per member, archive.zip!/dir/photo.jpg.
    Photos of Instagram, Facebook, X and WhatsApp exports carry their post's time and caption.

    Videos get one line each: the signs held in them, with their times. Damaged files get an error
    line that says why; files that are neither photos nor videos (notes, JSON, HTML) a "skipped"
    line. Links are followed, loops skipped.

    Input files are only read. summary.csv and report.html list what to review (see --flagged-only).
    The report paths (or, with --json, a summary) go to stdout; progress to stderr.

    Exit status: 0 done; 1 something flagged (with --fail-on-flag); 2 usage error; 3 failed or
    incomplete (disk full, damaged scan.json, --out in use by another scan, an unexpected error;
    the message says what to do); 130 interrupted (finish with --resume).
    """
    import time

    from rich.console import Console
    from rich.markup import escape
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.text import Text

    from gesture_audit.audit import Auditor
    from gesture_audit.commands.report import print_rendered
    from gesture_audit.i18n import translator
    from gesture_audit.judge.election import load_election
    from gesture_audit.report import render_reports
    from gesture_audit.report.record import ScanStateError
    from gesture_audit.scan import Checker, ScanBusyError, ScanUsageError, finish_scan, plan_scan, run_scan, walk

    # soft_wrap: a log file gets whole lines. --quiet silences `console`; `errors` always go out.
    errors = Console(stderr=True, soft_wrap=True)
    console = Console(stderr=True, quiet=quiet, soft_wrap=True)
    lang = language(lang)
    tr = translator(lang)

    def usage(message: str, status: int = 2) -> typer.Exit:
        # paths may hold [brackets]
        errors.print(f"[red]{tr.gettext('Error:')}[/red] {escape(tr.text(message))}", highlight=False)
        return typer.Exit(status)

    # The election, then the lock on --out (a second scan stops at once), then the models (seconds).
    try:
        election_used = load_election(election)
    except (OSError, ValueError) as e:
        raise usage(str(e)) from None
    engine, choice = engine_options(fast, runtime, precision)
    options = {
        "batch": batch,
        "workers": workers,
        "include_clear": include_clear,
        "runtime": choice.to_dict(),
        "profile": "fast" if fast else "default",
        "lang": lang,
        "single_file": single_file,
        "text": text,
        "video_rate": video_rate,
        "video_max": video_max,
    }
    if gallery is not None:
        options["gallery"] = str(gallery.resolve())
    if symbols is not None:
        if ray is not None:
            raise usage("--symbols is not yet supported with --ray: scan here, or leave the symbols out")
        options["symbols"] = str(symbols.resolve())
    if include or exclude:
        options.update(include=include or [], exclude=exclude or [])
    try:
        plan = plan_scan(
            paths,
            out,
            resume=resume,
            election=election_used.to_record(),
            options=options,
            include=tuple(include or ()),
            exclude=tuple(exclude or ()),
        )
    except ScanUsageError as e:
        raise usage(e.args[0]) from None
    except (ScanBusyError, ScanStateError) as e:
        raise usage(str(e), 3) from None
    auditor: Checker
    try:
        if ray is None:
            auditor = Auditor(
                election=election_used,
                gallery=gallery,
                workers=workers,
                engine=replace(engine, lanes=0),  # a batch per core at once, at most two (EngineOptions.lanes)
                text=text,
                symbols=symbols,
                video_rate=video_rate,
                video_max=video_max,
            )
        else:
            from gesture_audit.distributed import RayAuditor

            with console.status(f"connecting to Ray ({ray})…"):
                auditor = RayAuditor(
                    ray,
                    actors=actors,
                    actor_cpus=actor_cpus,
                    election=election,
                    text=text,
                    video_rate=video_rate,
                    video_max=video_max,
                    gallery=gallery,
                    engine=engine,
                    workers=workers,
                )  # Ray stops at exit
    except (OSError, ValueError, ImportError, ConnectionError) as e:
        raise usage(e.args[0] if len(e.args) == 1 and isinstance(e.args[0], str) else str(e)) from None
    if plan.repaired:
        console.print(
            tr.ngettext(
                "findings.jsonl: dropped {n} incomplete line left by the stop; that file is checked again",
                "findings.jsonl: dropped {n} incomplete lines left by the stop; those files are checked again",
                plan.repaired,
            ).format(n=plan.repaired)
        )

    files = []
    try:
        listing = tr.gettext("listing files…")
        with console.status(listing) as status:
            for item in walk(plan):
                files.append(item)
                if len(files) % 1000 == 0:
                    status.update(f"{listing} {len(files)}")
    except KeyboardInterrupt:
        errors.print("[yellow]" + tr.gettext("interrupted while listing files; nothing was checked yet") + "[/yellow]")
        raise typer.Exit(130) from None
    done = sum(1 for f in files if f.path in plan.done)
    flagged = sum(1 for outcome in plan.done.values() if outcome == "flag")
    if plan.done:
        console.print(tr.gettext("resuming: {done} of {n} files already done").format(done=done, n=len(files)))

    class Rate(ProgressColumn):
        """Images per second and time left, over this run (rich's own estimate jumps when error
        rows, which cost nothing, arrive in a burst)."""

        def render(self, task) -> Text:
            new = task.completed - done
            if not new or not task.elapsed:
                return Text("… img/s", style="cyan")
            rate = new / task.elapsed
            left = (task.total - task.completed) / rate
            return Text(
                tr.gettext("{rate:.1f} img/s · {left} left").format(
                    rate=rate, left=f"{int(left) // 60}:{int(left) % 60:02d}"
                ),
                style="cyan",
            )

    # A terminal gets a live bar; a log file (stderr redirected) a plain line every N files.
    progress = Progress(
        SpinnerColumn(),
        TextColumn(f"[bold]{tr.gettext('scanning')}"),
        BarColumn(bar_width=24),
        MofNCompleteColumn(),
        Rate(),
        TimeElapsedColumn(),
        TextColumn("[bold red]" + tr.gettext("{flagged} flagged").replace("{flagged}", "{task.fields[flagged]}")),
        TextColumn("{task.fields[video]}"),
        console=console,
        disable=not console.is_terminal,
    )
    started = time.perf_counter()
    counts = None
    with progress:
        task = progress.add_task("scan", total=len(files), completed=done, flagged=flagged, video="")
        position = done

        def advanced(finding) -> None:
            nonlocal flagged, position
            flagged += finding.flagged
            position += 1
            progress.update(task, advance=1, flagged=flagged, video="")
            if not console.is_terminal and (position % progress_every == 0 or position == len(files)):
                rate = (position - done) / max(time.perf_counter() - started, 1e-9)
                console.print(
                    f"scanned {position}/{len(files)} files, {flagged} flagged, {rate:.1f} files/s",
                    highlight=False,
                    markup=False,
                )

        def video_progress(seconds: float, total: float | None) -> None:
            from gesture_audit.judge.hold import clock

            progress.update(task, video=f"· video {clock(seconds)}" + (f" of {clock(total)}" if total else ""))

        if hasattr(auditor, "on_video_progress"):  # a local scan (Ray's actors judge videos out of sight)
            auditor.on_video_progress = video_progress

        try:
            counts = run_scan(plan, auditor, files, batch=batch, on_finding=advanced)
        except KeyboardInterrupt:
            pass
    elapsed = time.perf_counter() - started
    if counts is None:
        errors.print(
            "[yellow]"
            + tr.gettext(
                "interrupted: findings.jsonl holds every row written so far; run the "
                "same command with --resume to finish"
            )
            + "[/yellow]"
        )
        raise typer.Exit(130)
    finish_scan(plan, counts)
    checked = sum(counts.values())
    rate = checked / elapsed if elapsed > 0 else 0.0

    drawing = tr.gettext("drawing the report…")
    with console.status(drawing) as status:
        rendered = render_reports(
            plan.out,
            record=plan.record,
            include_clear=include_clear,
            workers=workers,
            lang=lang,
            single_file=single_file,
            on_evidence=lambda i, n: status.update(f"{drawing} {i}/{n}"),
        )
    c = rendered.counts
    checked_line = tr.ngettext(
        "checked {n} file in {seconds:.1f} s ({rate:.1f} files/s);",
        "checked {n} files in {seconds:.1f} s ({rate:.1f} files/s);",
        checked,
    ).format(n=checked, seconds=elapsed, rate=rate)
    if plan.skipped:
        console.print(
            tr.gettext("skipped (not rows: listed another way, or an export's own metadata):")
            + " "
            + ", ".join(f"{n} {kind}(s)" for kind, n in sorted(plan.skipped.items()))
        )
    if plan.excluded:
        console.print(
            tr.gettext("left out by --include/--exclude: {n} file(s) or folder(s)").format(n=plan.excluded),
            highlight=False,
        )
    print_rendered(console, tr, rendered, all_=True, prefix=checked_line, paths=not as_json)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "out": str(plan.out),
                    "report": str(rendered.report),
                    "summary": str(rendered.summary),
                    "findings": str(plan.out / "findings.jsonl"),
                    "counts": dict(c),
                    "checked": checked,
                    "seconds": round(elapsed, 2),
                    "excluded": plan.excluded,
                    "links_skipped": sum(plan.skipped.values()),
                },
                ensure_ascii=False,
            )
        )
    if fail_on_flag and c["flag"]:
        raise typer.Exit(1)
