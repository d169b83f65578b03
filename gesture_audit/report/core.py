"""Render DIR/summary.csv, DIR/report.html and DIR/evidence/ from DIR/findings.jsonl."""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from gesture_audit.audit import Finding
from gesture_audit.report.evidence import Evidence, evidence_id, write_evidence
from gesture_audit.report.html import render_html
from gesture_audit.report.jsonl import FINDINGS, iter_findings
from gesture_audit.report.record import ScanRecord
from gesture_audit.report.summary import write_summary_csv

SUMMARY = "summary.csv"
REPORT = "report.html"
_ORDER = {"flag": 0, "review": 1, "clear": 2}


@dataclass
class Rendered:
    counts: Counter  # flag / review / clear / error / skipped over every file
    listed: int  # photos with a card in the report and a row in the CSV (errors not included)
    summary: Path
    report: Path


def review_order(finding: Finding) -> tuple:
    """Flagged first, then review, then clear; the riskiest first within each; then by path."""
    return _ORDER.get(finding.verdict, 3), -(finding.risk or 0.0), finding.path or ""


def render_reports(out_dir: str | os.PathLike, findings: Iterable[Finding] | None = None, *,
                   record: ScanRecord | None = None, include_clear: bool = False, workers: int = 4,
                   on_evidence: Callable[[int, int], None] | None = None) -> Rendered:
    """Write summary.csv and report.html (and the evidence images they show) into `out_dir`.

    `findings` default to DIR/findings.jsonl (read as a stream), `record` to DIR/scan.json, which
    says where the photos are. Listed: flagged and review photos, and clear
    ones with `include_clear`; files that could not be checked are always listed (CSV rows and a
    table in the report); files skipped as not photos are only counted. `on_evidence(done, total)` reports progress while images are drawn.
    """
    out_dir = Path(out_dir)
    if record is None:
        record = ScanRecord.load(out_dir)
    shown = ("flag", "review", "clear") if include_clear else ("flag", "review")
    # Streamed: only what is listed stays in memory, however many clear photos the scan had.
    counts = Counter(dict.fromkeys(("flag", "review", "clear", "error", "skipped"), 0))
    listed, errors = [], []
    for f in iter_findings(out_dir / FINDINGS) if findings is None else findings:
        counts[f.outcome] += 1
        if f.status == "error":
            errors.append(f)
        elif f.verdict in shown:
            listed.append(f)
    listed.sort(key=review_order)
    errors.sort(key=lambda f: f.path or "")

    # One drawing per distinct photo: copies share their evidence files.
    unique: dict[tuple[str, bool], Finding] = {}
    for f in listed:
        unique.setdefault((evidence_id(f), f.verdict in ("flag", "review")), f)
    made: dict[tuple[str, bool], Evidence] = {}

    def draw(item):
        key, finding = item
        return key, write_evidence(out_dir, finding, record.source(finding.disk_path) if record else None)

    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="gesture-audit-evidence") as pool:
        for done, (key, evidence) in enumerate(pool.map(draw, unique.items()), 1):
            made[key] = evidence
            if on_evidence:
                on_evidence(done, len(unique))
    evidence = {f.path: made[(evidence_id(f), f.verdict in ("flag", "review"))] for f in listed}

    summary = out_dir / SUMMARY
    write_summary_csv(summary, [*listed, *errors])
    report = out_dir / REPORT
    tmp = report.with_name(REPORT + ".tmp")
    tmp.write_text(render_html(listed, evidence, errors, counts, record, include_clear=include_clear),
                   encoding="utf-8")
    os.replace(tmp, report)
    return Rendered(counts, len(listed), summary, report)
