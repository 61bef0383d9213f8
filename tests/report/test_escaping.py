"""Whatever a finding says (HTML or Markdown metacharacters, pipes, newlines, backticks), it stays
text: no tag breaks out of the HTML page (autoescape), no row of a Markdown table gains a column."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.findings import Finding, Location, Report, Status
from infra.report.build import build_report
from infra.report.combine import Part
from infra.report.formats import render
from infra.spec import parse_spec, read_stack_file, stack_path

pytestmark = pytest.mark.unit

SPEC = parse_spec(read_stack_file(stack_path("example", "stacks")))
PIECES = list("<>&\"'`|\\*_[]()#!-~\n\r ab1") + ["<script>", "</td>", "<!--", "{{", "{%", "|---|", "<br>"]
NASTY = st.lists(st.sampled_from(PIECES), max_size=20).map("".join)


def _report(texts: list[str]):
    statuses = (Status.FAIL, Status.WARN, Status.PASS, Status.ERROR)
    findings = tuple(Finding(id=f"check-{i}", status=statuses[i % 4], area="dns", message=t, remediation=t,
                             evidence={"seen": t}, location=Location(target=t or "x"))
                     for i, t in enumerate(texts))
    part = Part(Report(command="verify", stack="example", findings=findings), 1, "verify.json")
    return build_report(SPEC, "example", "stacks/Pulumi.example.yaml", [part], {})


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def _tags(html: str) -> list[str]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def _plain(texts: list[str]) -> list[str]:
    """The same texts with every character a letter: what the page's structure must equal."""
    return ["x" * len(t) for t in texts]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(NASTY, min_size=4, max_size=4))
def test_no_message_breaks_out_of_the_html(texts):
    html = render(_report(texts), "html")
    # the same elements as with plain text of the same length (backtick spans may add <code>, nothing else)
    baseline = _tags(render(_report(_plain(texts)), "html"))
    assert [t for t in _tags(html) if t != "code"] == [t for t in baseline if t != "code"]
    assert "<script>" not in html


def _cells(row: str) -> int:
    return len(re.findall(r"(?<!\\)\|", row)) - 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(NASTY, min_size=4, max_size=4))
def test_no_message_breaks_a_markdown_table(texts):
    md = render(_report(texts), "md")
    lines = md.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|---"):
            width = _cells(line)
            j = i + 1
            while j < len(lines) and lines[j].startswith("|"):
                assert _cells(lines[j]) == width, lines[j]
                j += 1
    outside_fences = re.sub(r"(?ms)^~~~text\n.*?^~~~$", "", md)   # a fenced block is literal text in Markdown
    assert "<script>" not in outside_fences
