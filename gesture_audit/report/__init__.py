"""Reports of a scan: findings.jsonl (every file), summary.csv and report.html (what to review).

The JSON Schema of a findings.jsonl line is `findings.schema.json` beside this module.
"""

from gesture_audit.report.core import REPORT, SUMMARY, Rendered, render_reports, review_order
from gesture_audit.report.evidence import EVIDENCE, Evidence, draw_hands, write_evidence
from gesture_audit.report.jsonl import FINDINGS, FindingsWriter, iter_findings, repair_findings
from gesture_audit.report.record import RECORD, ScanRecord, ScanRoot
from gesture_audit.report.schema import SCHEMA_PATH, findings_schema, validation_errors
from gesture_audit.report.summary import spreadsheet_safe, write_summary_csv

__all__ = [
    "EVIDENCE",
    "FINDINGS",
    "RECORD",
    "REPORT",
    "SCHEMA_PATH",
    "SUMMARY",
    "Evidence",
    "FindingsWriter",
    "Rendered",
    "ScanRecord",
    "ScanRoot",
    "draw_hands",
    "findings_schema",
    "iter_findings",
    "render_reports",
    "repair_findings",
    "review_order",
    "spreadsheet_safe",
    "validation_errors",
    "write_evidence",
    "write_summary_csv",
]
