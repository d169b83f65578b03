"""Render DIR/summary.csv, DIR/report.html and DIR/evidence/ from DIR/findings.jsonl."""

from __future__ import annotations

import base64
import os
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from gesture_audit.i18n import translator
from gesture_audit.report.decisions import load_decisions
from gesture_audit.report.evidence import Evidence, evidence_id, write_evidence
from gesture_audit.report.html import render_html
from gesture_audit.report.jsonl import FINDINGS, iter_findings
from gesture_audit.report.record import ScanRecord
from gesture_audit.report.summary import write_summary_csv
from gesture_audit.results import VERDICT_ORDER, Finding

SUMMARY = "summary.csv"
# --single-file: what an e-mail attachment may usually be (25 MB at most services, less base64's
# own overhead already counted here).
SINGLE_FILE_LIMIT = 20 * 1024 * 1024
REPORT = "report.html"


@dataclass
class Rendered:
    counts: Counter  # flag / review / clear / error / skipped over every file
    listed: int  # photos with a card in the report and a row in the CSV (errors not included)
    summary: Path
    report: Path
    not_embedded: int = 0  # --single-file: evidence images left out to keep under the size limit
    decided: int = 0  # listed photos with a reviewer's decision


def review_order(finding: Finding) -> tuple:
    """Flagged first, then review, then clear; the riskiest first within each; then by path."""
    rank = VERDICT_ORDER[::-1].index(finding.verdict) if finding.verdict in VERDICT_ORDER else len(VERDICT_ORDER)
    return rank, -(finding.risk or 0.0), finding.path or ""


def render_reports(
    out_dir: str | os.PathLike,
    findings: Iterable[Finding] | None = None,
    *,
    record: ScanRecord | None = None,
    include_clear: bool = False,
    workers: int = 4,
    on_evidence: Callable[[int, int], None] | None = None,
    lang: str = "en",
    single_file: bool = False,
    max_bytes: int = SINGLE_FILE_LIMIT,
) -> Rendered:
    """Write summary.csv and report.html (and the evidence images they show) into `out_dir`.

    `findings` default to DIR/findings.jsonl (read as a stream), `record` to DIR/scan.json, which
    says where the photos are. Listed: flagged and review photos, and clear
    ones with `include_clear`; files that could not be checked are always listed (CSV rows and a
    table in the report); files skipped as not photos are only counted. `on_evidence(done, total)`
    reports progress while images are drawn.
    Both are written in `lang` ("en" or "id") with the decisions in DIR/decisions.json folded in.
    `single_file`: the evidence images are embedded in report.html (thumbnails first, then hand
    crops, then enlarged views) while it stays under `max_bytes`; the rest stay links into
    evidence/ (`Rendered.not_embedded` says how many).
    """
    out_dir = Path(out_dir)
    if record is None:
        record = ScanRecord.load(out_dir)
    tr = translator(lang)
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
    inline, left_out = (
        embed_evidence(out_dir, [evidence[f.path] for f in listed], max_bytes) if single_file else ({}, 0)
    )
    decisions = load_decisions(out_dir)

    summary = out_dir / SUMMARY
    write_summary_csv(summary, [*listed, *errors], tr, decisions)
    report = out_dir / REPORT
    tmp = report.with_name(REPORT + ".tmp")
    tmp.write_text(
        render_html(
            listed,
            evidence,
            errors,
            counts,
            record,
            include_clear=include_clear,
            tr=tr,
            inline=inline,
            decisions=decisions,
        ),
        encoding="utf-8",
    )
    os.replace(tmp, report)
    decided = sum(1 for f in listed if (d := decisions.get(f.sha256 or "")) and d.decision)
    return Rendered(counts, len(listed), summary, report, left_out, decided)


def embed_evidence(out_dir: Path, evidence: list[Evidence], max_bytes: int) -> tuple[dict[str, str], int]:
    """data: URIs for the evidence files, thumbnails first, then crops, then enlarged views, while
    their total stays under `max_bytes`; and how many files were left out."""
    tiers: list[list[str | None]] = [
        [e.thumb for e in evidence],
        [c for e in evidence for c in e.crops],
        [e.full for e in evidence],
    ]
    inline: dict[str, str] = {}
    total, left_out = 0, 0
    for tier in tiers:
        for rel in tier:
            if not rel or rel in inline:
                continue
            try:
                data = (out_dir / rel).read_bytes()
            except OSError:
                left_out += 1
                continue
            uri = "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")
            if total + len(uri) > max_bytes:
                left_out += 1
                continue
            inline[rel] = uri
            total += len(uri)
    return inline, left_out
