"""JSON, schema launchready.findings/v2 (findings.schema.json beside the model; docs/findings.md)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..model import Report, jsonable

SCHEMA_ID = "launchready.findings/v2"
SCHEMA_VERSION = 2


def to_json_dict(report: Report) -> dict[str, Any]:
    return {
        "schema": SCHEMA_ID,
        "schemaVersion": SCHEMA_VERSION,
        "command": report.command,
        "stack": report.stack,
        "exitCode": report.exit_code,
        "passed": report.exit_code == 0,
        "errors": list(report.errors),
        "summary": report.counts(),
        "subject": jsonable(report.subject),
        "findings": [f.to_dict() for f in report.findings],
        "rules": [r.to_dict() for r in report.rules],
    }


def render_json(report: Report) -> str:
    return json.dumps(to_json_dict(report), indent=2) + "\n"


def json_schema() -> dict:
    return json.loads((Path(__file__).resolve().parent.parent / "findings.schema.json").read_text())
