"""Review decisions: what a person decided about each listed photo, kept in DIR/decisions.json.

A reviewer decides in report.html ("violation" / "not_violation", a note); the page keeps the
decisions in the browser (keyed by the scan's id and the photo's sha256) and exports them as
decisions.json or decisions.csv. `gesture-audit report DIR --decisions FILE` merges such a file
into DIR/decisions.json (the later decision on a photo wins), which every later rendering folds
into summary.csv and report.html, so decisions survive a re-render and a resumed scan.

    {"scan": "<scan id>", "decisions": [{"sha256": "...", "path": "...", "decision": "violation",
     "reviewer": "...", "note": "...", "time": "2026-11-30T10:00:00Z"}, ...]}
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from gesture_audit.i18n import N_

DECISIONS = "decisions.json"
VALUES = ("violation", "not_violation")
FIELDS = ("sha256", "path", "decision", "reviewer", "note", "time")


class DecisionsError(ValueError):
    """A decisions file that cannot be read (the CLI exits with status 2)."""


@dataclass
class Decision:
    sha256: str
    path: str = ""
    decision: str | None = None  # one of VALUES, or None: only a note so far
    reviewer: str = ""
    note: str = ""
    time: str = ""

    @classmethod
    def from_dict(cls, data: dict, where: str) -> Decision:
        key = str(data.get("sha256") or "").strip()
        if not key:
            raise DecisionsError(N_("{where}: a decision without a sha256", where=where))
        decision = str(data.get("decision") or "").strip() or None
        if decision is not None and decision not in VALUES:
            raise DecisionsError(
                N_("{where}: decision {value!r} is not one of violation, not_violation", where=where, value=decision)
            )
        return cls(
            key,
            path=_text(data.get("path")),
            decision=decision,
            reviewer=_text(data.get("reviewer")),
            note=_text(data.get("note")),
            time=_text(data.get("time")),
        )


def _text(value) -> str:
    text = "" if value is None else str(value)
    # decisions.csv neutralises spreadsheet formulas with a leading apostrophe (as summary.csv does)
    return text[1:] if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@", "\t", "\r") else text


def read_decisions(path: str | os.PathLike) -> tuple[str | None, list[Decision]]:
    """The scan id (None in a CSV) and the decisions in an exported decisions.json or .csv."""
    path = Path(path)
    try:
        raw = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise DecisionsError(
            N_("{path}: cannot be read ({why})", path=str(path), why=getattr(e, "strerror", None) or str(e))
        ) from None
    if path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(io.StringIO(raw)))
        if rows and "sha256" not in rows[0]:
            raise DecisionsError(N_("{path}: not a decisions.csv (no sha256 column)", path=str(path)))
        return None, [Decision.from_dict(r, f"{path}:{i + 2}") for i, r in enumerate(rows)]
    try:
        data = json.loads(raw)
    except ValueError as e:
        raise DecisionsError(N_("{path}: not JSON ({why})", path=str(path), why=str(e))) from None
    if not isinstance(data, dict) or not isinstance(data.get("decisions"), list):
        raise DecisionsError(N_('{path}: not a decisions.json (no "decisions" list)', path=str(path)))
    return data.get("scan"), [
        Decision.from_dict(d if isinstance(d, dict) else {}, f"{path}: decision {i + 1}")
        for i, d in enumerate(data["decisions"])
    ]


def load_decisions(out_dir: str | os.PathLike) -> dict[str, Decision]:
    """DIR/decisions.json by sha256 (empty when there is none or it is unreadable)."""
    try:
        return {d.sha256: d for d in read_decisions(Path(out_dir) / DECISIONS)[1]}
    except DecisionsError:
        return {}


def merge_decisions(out_dir: str | os.PathLike, scan: str, new: list[Decision]) -> dict[str, Decision]:
    """Fold `new` into DIR/decisions.json (per photo the later `time` wins); return the result."""
    merged = load_decisions(out_dir)
    for d in new:
        if d.sha256 not in merged or d.time >= merged[d.sha256].time:
            merged[d.sha256] = d
    path = Path(out_dir) / DECISIONS
    tmp = path.with_name(DECISIONS + ".tmp")
    body = {"scan": scan, "decisions": [asdict(d) for d in sorted(merged.values(), key=lambda d: d.path)]}
    tmp.write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return merged
