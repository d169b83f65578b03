"""The JSON Schema of a findings.jsonl line, committed beside this module."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

SCHEMA_PATH = Path(__file__).with_name("findings.schema.json")


@lru_cache(maxsize=1)
def findings_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def validation_errors(line: dict) -> list[str]:
    """What is wrong with one findings.jsonl object under the schema (empty when it is valid)."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(findings_schema())
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(line)'}: {e.message}"
        for e in sorted(validator.iter_errors(line), key=lambda e: list(e.absolute_path))
    ]
