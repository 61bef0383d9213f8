"""The report's formats: Markdown and HTML from jinja2 templates shipped beside this module (package
data), JSON, JUnit and SARIF from the shared findings renderers over the combined findings."""
from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree as ET

from infra.findings import Report
from infra.findings.render.jsonfmt import render_json
from infra.findings.render.junit import render_junit
from infra.findings.render.markdown import cell
from infra.findings.render.sarif import render_sarif

from . import view
from .combine import split

FORMATS = ("md", "html", "json", "junit", "sarif")
TEMPLATES = Path(__file__).resolve().parent


_TICKS = re.compile(r"`([^`\n]+)`")


def ticks(text) -> str:
    """HTML: text escaped, then its `backtick spans` shown as code (what the messages mean by them)."""
    from markupsafe import Markup, escape

    return Markup(_TICKS.sub(r"<code>\1</code>", str(escape(text))))


def environment():
    import jinja2

    # Autoescape for HTML: every value is text (a finding's message may hold "<script>"); Markdown
    # escapes per table cell with the shared `cell` filter.
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                             autoescape=lambda name: bool(name) and name.endswith(".html.j2"),
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["cell"] = cell
    env.filters["ticks"] = ticks
    return env


def render_template(report: Report, name: str) -> str:
    return environment().get_template(name).render(**view.build(report))


def render_junit_combined(report: Report) -> str:
    """One <testsuites>, one <testsuite> per command (each as that command's own JUnit renders it)."""
    suites = ET.Element("testsuites", name=f"launchready-report.{report.stack}")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for part in split(report):
        root = ET.fromstring(render_junit(part).split("\n", 1)[1])
        for suite in root.iter("testsuite"):
            suites.append(suite)
            for k in totals:
                totals[k] += int(suite.get(k, "0"))
    for k, v in totals.items():
        suites.set(k, str(v))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def render_sarif_combined(report: Report) -> str:
    """One SARIF log, one run per command; each run's invocation carries that command's exit code."""
    runs = []
    codes = [p.get("exitCode", 0) for p in report.subject.get("parts", [])]
    for part, code in zip(split(report), codes, strict=True):
        doc = json.loads(render_sarif(part))
        for run in doc["runs"]:
            run["invocations"][0]["exitCode"] = code
            runs.append(run)
    doc = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": runs}
    return json.dumps(doc, indent=2) + "\n"


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return render_json(report)
    if fmt == "junit":
        return render_junit_combined(report)
    if fmt == "sarif":
        return render_sarif_combined(report)
    return render_template(report, {"md": "handover.md.j2", "html": "handover.html.j2"}[fmt])
