"""summary.csv: one row per photo, for a spreadsheet (an archive member's path is
`archive.zip!/dir/photo.jpg`; a photo of a social-media export has its post's time, caption, link).

UTF-8 with a byte-order mark (so Excel reads the accents in Indonesian file names), every cell
quoted, CRLF line ends, and text cells that a spreadsheet would run as a formula (starting with
= + - @, a tab or a carriage return) neutralised with a leading apostrophe: file names and reasons
come from untrusted folders.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable

from gesture_audit.i18n import N_, Translator, translator
from gesture_audit.judge.hold import clock
from gesture_audit.report.decisions import Decision
from gesture_audit.results import Finding

COLUMNS = [
    "path",
    "status",
    "verdict",
    "risk",
    "ballots",
    "hands",
    "reasons",
    "error",
    "width",
    "height",
    "sha256",
    "post_time",
    "post_caption",
    "post_link",
    "keyframe",
    "time_ranges",
    "decision",
    "reviewer",
    "note",
    "time",
]
# Column headers as a reader sees them (values stay as findings.jsonl has them: verdict, status,
# decision are the stable English words; reasons are in the report's language).
HEADERS = {
    "path": N_("path"),
    "status": N_("status"),
    "verdict": N_("verdict"),
    "risk": N_("risk"),
    "ballots": N_("ballots"),
    "hands": N_("hands"),
    "reasons": N_("reasons"),
    "error": N_("error"),
    "width": N_("width"),
    "height": N_("height"),
    "sha256": "sha256",
    "post_time": N_("post_time"),
    "post_caption": N_("post_caption"),
    "post_link": N_("post_link"),
    "keyframe": N_("keyframe"),
    "time_ranges": N_("time_ranges"),
    "decision": N_("decision"),
    "reviewer": N_("reviewer"),
    "note": N_("note"),
    "time": N_("time"),
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value) -> str:
    """A cell's text that a spreadsheet shows as text, never evaluates."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def moment_text(moment: dict) -> str:
    """One moment of a video for people: "0:01.5–0:02.0 #02 v flag" (", brief" when not held)."""
    ballot = f" #{moment['ballot']:02d}" if moment.get("ballot") is not None else ""
    return f"{clock(moment['start'])}–{clock(moment['end'])}{ballot} {moment['sign']} {moment['verdict']}" + (
        "" if moment.get("held") else ", brief"
    )


def video_cells(finding: Finding) -> tuple[str, str]:
    """The keyframe time and the moments (worth a look) of a video's finding; empty for a photo."""
    video = finding.video
    if not video:
        return "", ""
    keyframe = "" if video.get("keyframe") is None else clock(video["keyframe"])
    moments = [m for m in video.get("moments") or [] if m.get("verdict") != "clear"]
    return keyframe, "; ".join(moment_text(m) for m in moments)


def summary_row(finding: Finding, tr: Translator | None = None, decision: Decision | None = None) -> list[str]:
    tr = tr or translator("en")
    d = decision or Decision("")
    post = finding.post or {}
    return [
        spreadsheet_safe(v)
        for v in (
            finding.path,
            finding.status,
            finding.outcome,
            "" if finding.risk is None else f"{finding.risk:.2f}",
            " ".join(str(b) for b in finding.ballots),
            len(finding.hands),
            "; ".join(tr.text(r) for r in finding.reasons),
            tr.text(finding.error),
            finding.width,
            finding.height,
            finding.sha256,
            post.get("time"),
            post.get("caption"),
            post.get("link"),
            *video_cells(finding),
            d.decision,
            d.reviewer,
            d.note,
            d.time,
        )
    ]


def write_summary_csv(
    path: str | os.PathLike,
    findings: Iterable[Finding],
    tr: Translator | None = None,
    decisions: dict[str, Decision] | None = None,
) -> int:
    """Write summary.csv (atomically) in `tr`'s language (English by default), with the reviewers'
    `decisions` (by sha256) in the last columns; returns the number of rows."""
    tr = tr or translator("en")
    decisions = decisions or {}
    tmp = f"{os.fspath(path)}.tmp"
    n = 0
    with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow([tr.text(HEADERS[c]) for c in COLUMNS])
        for finding in findings:
            writer.writerow(summary_row(finding, tr, decisions.get(finding.sha256 or "")))
            n += 1
    os.replace(tmp, path)
    return n
