"""Console: a rich table of every finding, colour by status, and the verdict line."""
from __future__ import annotations

from ..model import Report, Status
from .common import because, headline, label, ordered, root_cause_note, verdict
from .text import evidence_text

STYLE = {Status.PASS: "green", Status.WARN: "yellow", Status.FAIL: "bold red",
         Status.ERROR: "magenta", Status.SKIPPED: "dim"}


def render_console(report: Report, console) -> None:
    from rich.markup import escape
    from rich.table import Table

    if report.errors:
        for e in report.errors:
            console.print(escape(e))
        console.print(escape(verdict(report)))
        return
    table = Table(title=escape(headline(report)), show_lines=False)
    for name in ("status", "check", "target"):
        table.add_column(name, no_wrap=name != "target", overflow="fold")
    table.add_column("finding", overflow="fold")
    for f in ordered(report):
        text = escape(f.message)  # DNS data and error texts may contain [brackets]
        if f.status in (Status.FAIL, Status.WARN):
            if f.evidence:
                text += f"\n[dim]seen: {escape(evidence_text(f.evidence))}[/dim]"
            if f.remediation:
                text += f"\n[italic]fix:[/italic] {escape(f.remediation)}"
        if f.error_type:
            text += f" [dim]({escape(f.error_type)})[/dim]"
        if f.cause:
            text += f" [dim]{escape(because(f))}[/dim]"
        table.add_row(f"[{STYLE[f.status]}]{escape(label(f, report))}[/]", f.id, escape(f.location.where()), text)
    console.print(table)
    s = report.subject
    extra = ""
    if s.get("duration_s") is not None:
        extra += f"   in {s['duration_s']:.2f}s"
    if s.get("nameservers"):
        extra += f" via {', '.join(s['nameservers'])}"
    if s.get("deadline_hit"):
        extra += "  [magenta]deadline reached[/]"
    if extra:
        console.print(extra.strip())
    if root_cause_note(report):
        console.print(f"[bold]{escape(root_cause_note(report))}[/]")
    code = report.exit_code
    colour = {0: "green", 1: "bold red", 2: "magenta"}[code]
    console.print(f"[{colour}]{escape(verdict(report))}[/]")
