"""Reading findings back: a launchready.findings/v2 JSON document (or the findings a plan document
carries) into the model, after validating it against the schema. The inverse of render/jsonfmt.py.

`launchready report` reads what plan, gate and verify wrote (`--results DIR`) and an earlier report
(`--since`) through here, so a file that is not what it claims to be is refused in one place, with
one line that names it.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .model import Finding, Location, Report, RuleInfo, Status
from .render.jsonfmt import SCHEMA_ID, json_schema


class ResultsError(ValueError):
    """A results file that cannot be read as findings: the message is one line naming the file."""


def finding_from_dict(d: Mapping[str, Any]) -> Finding:
    loc = d.get("location") or {}
    return Finding(
        id=d["id"], status=Status(d["status"]), message=d.get("message", ""), area=d.get("area") or "",
        severity=d.get("severity") or "medium", level=d.get("level") or "", evidence=dict(d.get("evidence") or {}),
        remediation=d.get("remediation") or "",
        location=Location(file=loc.get("file"), line=loc.get("line"), resource_urn=loc.get("resourceUrn") or "",
                          resource_type=loc.get("resourceType") or "", resource_name=loc.get("resourceName") or "",
                          target=loc.get("target") or ""),
        error_type=d.get("errorType"), duration_ms=float(d.get("durationMs") or 0.0), cause=d.get("cause") or "")


def rule_from_dict(d: Mapping[str, Any]) -> RuleInfo:
    return RuleInfo(id=d["id"], area=d.get("area") or "", title=d.get("title") or d["id"],
                    severity=d.get("severity") or "medium", kind=d.get("kind") or "check", level=d.get("level") or "",
                    default_level=d.get("defaultLevel") or "", remediation=d.get("remediation") or "")


def report_from_dict(doc: Mapping[str, Any]) -> Report:
    """A validated v2 document as a Report (its exit code is recomputed by the model, and equal)."""
    return Report(command=doc["command"], stack=doc.get("stack", ""),
                  findings=tuple(finding_from_dict(f) for f in doc.get("findings", ())),
                  rules=tuple(rule_from_dict(r) for r in doc.get("rules", ())),
                  errors=tuple(doc.get("errors", ())), subject=dict(doc.get("subject") or {}))


def is_plan_document(doc: Any) -> bool:
    """`launchready plan --format json` keeps its own document; its advisories are findings."""
    return isinstance(doc, dict) and "advisories" in doc and "components" in doc and "schema" not in doc


def _first_error(validator, instance) -> str | None:
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    e = errors[0]
    where = "/".join(str(p) for p in e.absolute_path) or "(top level)"
    return f"{where}: {e.message[:160]}"


def validate(doc: Any, name: str) -> None:
    """Raise ResultsError unless `doc` is a findings/v2 document or a plan document with valid advisories."""
    import jsonschema

    schema = json_schema()
    if is_plan_document(doc):
        item = {"$schema": schema["$schema"], **schema["properties"]["findings"]["items"]}
        validator = jsonschema.Draft202012Validator(item)
        for i, adv in enumerate(doc.get("advisories") or []):
            problem = _first_error(validator, adv)
            if problem:
                raise ResultsError(f"{name}: plan advisory {i} is not a finding ({problem.split(': ', 1)[-1]})")
        return
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA_ID:
        found = doc.get("schema") if isinstance(doc, dict) else type(doc).__name__
        raise ResultsError(f"{name}: not a launchready findings report (schema {SCHEMA_ID} expected, found {found!r})")
    problem = _first_error(jsonschema.Draft202012Validator(schema), doc)
    if problem:
        raise ResultsError(f"{name}: does not match schema {SCHEMA_ID} at {problem}")


def plan_report(doc: Mapping[str, Any]) -> Report:
    """A plan document's advisories as a plan Report (its other keys are the planned resources)."""
    return Report(command="plan", stack=doc.get("stack", ""),
                  findings=tuple(finding_from_dict(f) for f in doc.get("advisories") or ()),
                  subject={"resources": doc.get("resourceCount", 0), "zone": doc.get("zone", "")})


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise ResultsError(f"{path}: not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}: not JSON (line {exc.lineno} column {exc.colno}: {exc.msg})") from exc


def load_report(path: Path) -> tuple[Report, int]:
    """The findings of one results file and the exit code its command reported (plan: 0)."""
    doc = read_json(path)
    validate(doc, str(path))
    if is_plan_document(doc):
        return plan_report(doc), 0
    return report_from_dict(doc), int(doc["exitCode"])
