"""Markdown, for a CI step summary ($GITHUB_STEP_SUMMARY) or a pull-request comment."""
from __future__ import annotations

from ..model import Report, Status
from .common import because, headline, label, ordered, root_cause_note, verdict
from .text import evidence_text

FENCE = "~~~"
_SECTIONS = ((Status.FAIL, "Failed"), (Status.ERROR, "Could not check"), (Status.WARN, "Warnings"))


def cell(text: str) -> str:
    """Table-cell safe: no pipes, no newlines, no raw HTML."""
    return (str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", " ").replace("\n", "<br>"))


def _fixes(findings) -> list[str]:
    """Each failing or warning rule's remediation once (it often holds a YAML snippet to copy)."""
    fixes: dict[str, str] = {}
    for f in findings:
        if f.status in (Status.FAIL, Status.WARN) and f.remediation and f.id not in fixes:
            fixes[f.id] = f.remediation
    if not fixes:
        return []
    out = ["### How to fix", ""]
    for rule, text in fixes.items():
        out += [f"<details><summary><code>{rule}</code></summary>", "", FENCE + "text", text.replace(FENCE, "~ ~ ~"),
                FENCE, "", "</details>", ""]
    return out


def render_markdown(report: Report) -> str:
    out = [f"## {cell(headline(report))}", ""]
    if report.errors:
        out += ["**Not run: fix these errors first.**", ""] + [f"- `{cell(e)}`" for e in report.errors]
        return "\n".join(out + ["", f"`{verdict(report)}`"]) + "\n"
    counts = report.counts()
    out += ["| " + " | ".join(counts) + " |", "|" + "---|" * len(counts),
            "| " + " | ".join(str(v) for v in counts.values()) + " |", ""]
    findings = ordered(report)
    if root_cause_note(report):
        out += [f"> **Root cause:** {cell(root_cause_note(report))}", ""]
    for status, title in _SECTIONS:
        chosen = [f for f in findings if f.status is status]
        if not chosen:
            continue
        if report.command == "gate":
            title = {Status.FAIL: "Mandatory violations", Status.WARN: "Advisory violations",
                     Status.ERROR: "Could not run"}[status]
        out += [f"### {title} ({len(chosen)})", "", "| | id | where | finding |", "|---|---|---|---|"]
        for f in chosen:
            seen = f"<br>seen: `{cell(evidence_text(f.evidence))}`" if f.evidence and status is not Status.ERROR else ""
            out.append(f"| {label(f, report)} | `{f.id}` | {cell(f.location.where())} | {cell(f.message + because(f))}{seen} |")
        out.append("")
    out += _fixes(findings)
    passed = [f for f in findings if f.status is Status.PASS]
    if passed:
        out += [f"<details><summary>Passed ({len(passed)})</summary>", ""]
        out += [f"- `{f.id}` {cell(f.location.where())}: {cell(f.message)}" for f in passed]
        out += ["", "</details>", ""]
    out.append(f"**{cell(verdict(report))}**")
    return "\n".join(out) + "\n"
