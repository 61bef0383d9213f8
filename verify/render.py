"""Renderers: console (rich) and JSON. They format the Report; none computes a verdict."""
from __future__ import annotations

import json
from typing import Any

from .model import Report, Status, _jsonable

JSON_SCHEMA_VERSION = 1

STYLE = {Status.PASS: "green", Status.WARN: "yellow", Status.FAIL: "bold red",
         Status.ERROR: "magenta", Status.SKIPPED: "dim"}


def to_json_dict(report: Report) -> dict[str, Any]:
    return {
        "schema": "launchready.verify/v1",
        "schema_version": JSON_SCHEMA_VERSION,
        "stack": report.stack,
        "domain": report.domain,
        "nameservers": list(report.nameservers),
        "started_at": report.started_at,
        "duration_s": report.duration_s,
        "deadline_hit": report.deadline_hit,
        "exit_code": report.exit_code,
        "summary": report.counts(),
        "results": [r.to_dict() for r in report.results],
    }


def json_schema() -> dict:
    """The JSON Schema of `--format json` (documented in docs/verify.md)."""
    from pathlib import Path

    return json.loads((Path(__file__).parent / "report.schema.json").read_text())


def to_json(report: Report) -> str:
    return json.dumps(to_json_dict(report), indent=2, sort_keys=False)


def render_console(report: Report, console) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"launchready verify: {report.domain} (stack {report.stack or '-'})", show_lines=False)
    table.add_column("status", no_wrap=True)
    table.add_column("check", no_wrap=True)
    table.add_column("target", overflow="fold")
    table.add_column("finding", overflow="fold")
    for r in report.results:
        finding = escape(r.message)  # DNS data and error texts may contain [brackets]
        if r.status in (Status.FAIL, Status.WARN):
            if r.evidence:
                ev = json.dumps(_jsonable(r.evidence), separators=(", ", ": "))
                finding += f"\n[dim]seen: {escape(ev if len(ev) <= 400 else ev[:397] + '...')}[/dim]"
            if r.remediation:
                finding += f"\n[italic]fix:[/italic] {escape(r.remediation)}"
        if r.error_type:
            finding += f" [dim]({escape(r.error_type)})[/dim]"
        table.add_row(f"[{STYLE[r.status]}]{r.status.value}[/]", r.check_id, escape(r.target), finding)
    console.print(table)
    c = report.counts()
    summary = "  ".join(f"[{STYLE[s]}]{s.value} {c[s.value]}[/]" for s in Status)
    console.print(f"{summary}   in {report.duration_s:.2f}s via {', '.join(report.nameservers)}"
                  + ("  [magenta]deadline reached[/]" if report.deadline_hit else ""))
    verdict = {0: "[green]all checks passed[/]", 1: "[bold red]a check failed[/]",
               2: "[magenta]some checks could not be carried out (ERROR), none failed[/]"}[report.exit_code]
    if report.nothing_checked:
        verdict = "[magenta]nothing was checked (no check selected, or every one SKIPPED)[/]"
    console.print(f"exit {report.exit_code}: {verdict}")
