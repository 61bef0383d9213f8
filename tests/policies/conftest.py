"""Helpers for the policy tests: build resources as the engine presents them and judge them; the gate's
insecure corpus (corpus.yaml: patches over the example stack) materialised as stack files."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from stackfiles import own_values

from policies.engine import Presented, run_rules
from policies.rules import BY_NAME

ZONE = "0" * 32


def resource(type_: str, resource_name: str, /, secret_paths=(), dependencies=(), **props: Any) -> Presented:
    """A resource with these inputs (engine property names); `name=` is the property, not the resource name."""
    return Presented(type=type_, name=resource_name, urn=f"urn:pulumi:test::launchready::{type_}::{resource_name}",
                     inputs=props, outputs=None, secret_paths=frozenset(secret_paths),
                     dependencies=list(dependencies))


def judge(rule_names, resources, config: dict | None = None) -> list[tuple[str, str, str]]:
    """(rule, level, message) of every violation the named rules report, run as the engine runs them."""
    if isinstance(rule_names, str):
        rule_names = [rule_names]
    rules = [BY_NAME[n] for n in rule_names]
    return [(d.policy, d.level.value, d.message) for d in run_rules(rules, list(resources), config)]


def messages(rule_name, resources, config=None) -> list[str]:
    return [m for _, _, m in judge(rule_name, resources, config)]


@pytest.fixture
def stack_spec():
    """Give the rules a typed stack spec (policies.context.use_spec) for the test, from spec sections
    keyed as in a stack file ({"launchready:hosts": [...]}). Each section is validated on its own;
    sections left out keep their defaults (the domain defaults to example.com), and the cross-section
    checks are skipped, so a test declares only what its rule reads."""
    from contextlib import ExitStack
    from typing import Annotated

    from pydantic import TypeAdapter

    from infra.spec import Spec
    from policies.context import use_spec

    fields = {(f.alias or n): (n, f) for n, f in Spec.model_fields.items()}
    stack = ExitStack()

    def set_(values: dict[str, Any]) -> Spec:
        typed: dict[str, Any] = {"domain": "example.com"}
        for key, value in values.items():
            name, fld = fields[key.split(":", 1)[1]]
            annotation = Annotated[(fld.annotation, *fld.metadata)] if fld.metadata else fld.annotation
            typed[name] = TypeAdapter(annotation).validate_python(value)
        spec = Spec.model_construct(**typed)
        stack.enter_context(use_spec(spec))
        return spec
    with stack:
        yield set_


# -- the gate corpus ----------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "stacks" / "Pulumi.example.yaml"
CORPUS_FILE = Path(__file__).resolve().with_name("corpus.yaml")
CORPUS_TRAILER = ("# One weakness on top of stacks/Pulumi.example.yaml; "
                  "`launchready gate --stack <this file>` must fail with the rule above.")


class CorpusError(ValueError):
    """corpus.yaml is malformed, or a case's patch no longer applies to the example stack."""


@dataclass(frozen=True)
class Edit:
    kind: str                 # "replace": `anchor` becomes `lines`; "insert": `lines` go after `anchor`
    anchor: tuple[str, ...]
    lines: tuple[str, ...]


@dataclass(frozen=True)
class CorpusCase:
    name: str
    about: str
    expect: str
    at: str | None
    edits: tuple[Edit, ...]


def _line_list(value: Any, where: str, *, empty_ok: bool) -> tuple[str, ...]:
    lines = [value] if isinstance(value, str) else value
    if not isinstance(lines, list) or not all(isinstance(v, str) and "\n" not in v for v in lines):
        raise CorpusError(f"{where}: expected a line or a list of lines, got {value!r}")
    if not lines and not empty_ok:
        raise CorpusError(f"{where}: must name at least one line of the example")
    return tuple(lines)


def _parse_edit(raw: Any, where: str) -> Edit:
    if isinstance(raw, dict) and set(raw) == {"find", "replace"}:
        return Edit("replace", _line_list(raw["find"], f"{where}.find", empty_ok=False),
                    _line_list(raw["replace"], f"{where}.replace", empty_ok=True))
    if isinstance(raw, dict) and set(raw) == {"after", "insert"}:
        return Edit("insert", _line_list(raw["after"], f"{where}.after", empty_ok=False),
                    _line_list(raw["insert"], f"{where}.insert", empty_ok=False))
    raise CorpusError(f"{where}: an edit is {{find, replace}} or {{after, insert}}, got {raw!r}")


@functools.cache
def load_corpus(path: Path = CORPUS_FILE) -> tuple[CorpusCase, ...]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list) or not data:
        raise CorpusError(f"{path}: expected a non-empty list of cases")
    cases, seen = [], set()
    for i, raw in enumerate(data):
        where = f"{path.name}[{i}]"
        if not isinstance(raw, dict) or not {"name", "about", "expect", "edits"} <= set(raw) <= {
                "name", "about", "expect", "at", "edits"}:
            raise CorpusError(f"{where}: a case has name, about, expect, edits and optionally at; got {raw!r}")
        name = raw["name"]
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name) or name in seen:
            raise CorpusError(f"{where}: case name {name!r} is not a unique lower-case stack name")
        seen.add(name)
        where = f"{path.name}: case {name!r}"
        for key in ("about", "expect", "at"):
            if key in raw and not (isinstance(raw[key], str) and raw[key].strip()):
                raise CorpusError(f"{where}: {key} must be a non-empty string")
        if not isinstance(raw["edits"], list) or not raw["edits"]:
            raise CorpusError(f"{where}: edits must be a non-empty list")
        edits = tuple(_parse_edit(e, f"{where} edit {j + 1}") for j, e in enumerate(raw["edits"]))
        cases.append(CorpusCase(name, raw["about"], raw["expect"], raw.get("at"), edits))
    return tuple(cases)


def corpus_case(name: str) -> CorpusCase:
    for case in load_corpus():
        if case.name == name:
            return case
    raise CorpusError(f"{CORPUS_FILE.name}: no case named {name!r}")


def _find_once(block: tuple[str, ...], lines: list[str], where: str) -> int:
    n = len(block)
    hits = [i for i in range(len(lines) - n + 1) if tuple(lines[i:i + n]) == block]
    shown = "\n".join(f"    {line!r}" for line in block)
    if not hits:
        raise CorpusError(f"{where}: this text is not in {EXAMPLE.name} (the example changed? "
                          f"update the patch in {CORPUS_FILE.name}):\n{shown}")
    if len(hits) > 1:
        raise CorpusError(f"{where}: this text is in {EXAMPLE.name} {len(hits)} times (lines "
                          f"{', '.join(str(h + 1) for h in hits)}); add a neighbouring line to make it unique:\n{shown}")
    return hits[0]


def materialise(case: CorpusCase, example_text: str) -> str:
    """The text of the case's stack file: the example with the case header and the case's edits."""
    lines = example_text.splitlines()
    head = 0
    while head < len(lines) and lines[head].startswith("#"):
        head += 1
    if head == 0:
        raise CorpusError(f"{EXAMPLE.name} has no leading comment block for the corpus header to replace")
    spans = []  # (start, end, new lines) over the example's lines, found in the unmodified example
    for j, edit in enumerate(case.edits):
        where = f"{CORPUS_FILE.name}: case {case.name!r} edit {j + 1} ({'find' if edit.kind == 'replace' else 'after'})"
        start = _find_once(edit.anchor, lines, where)
        end = start + len(edit.anchor)
        if start < head:
            raise CorpusError(f"{where}: edits the example's header comment, which the case header replaces")
        spans.append((start, end, edit.lines) if edit.kind == "replace" else (end, end, edit.lines))
    spans.sort(key=lambda s: (s[0], s[1]))
    for (s1, e1, _), (s2, _, _) in zip(spans, spans[1:], strict=False):
        if s2 < e1 or s2 == s1 == e1:
            raise CorpusError(f"{CORPUS_FILE.name}: case {case.name!r}: two edits touch the same lines ({s1 + 1}-{e1})")
    header = [f"# Corpus: {case.about}", f"# expect: {case.expect}"]
    header += [f"# at: {case.at}"] if case.at is not None else []
    out, pos = header + [CORPUS_TRAILER], head
    for start, end, new in spans:
        out += lines[pos:start] + list(new)
        pos = end
    out += lines[pos:]
    return "\n".join(out) + ("\n" if example_text.endswith("\n") else "")


def pytest_generate_tests(metafunc):
    """A test taking `corpus_case` runs once per corpus case, with the case name as its id."""
    if "corpus_case" in metafunc.fixturenames:
        cases = load_corpus()
        metafunc.parametrize("corpus_case", cases, ids=[c.name for c in cases])


@pytest.fixture(scope="session")
def corpus() -> tuple[CorpusCase, ...]:
    return load_corpus()


@pytest.fixture
def corpus_stack(tmp_path):
    """corpus_stack(case or name, example=None) -> path of `Pulumi.<name>.yaml` in tmp_path; `example` is
    the example stack's text (default: stacks/Pulumi.example.yaml as it is now). The case's weakness is
    its only one: the example's documentation values, which the gate blocks in a production stack
    not named `example` (example-values-replaced), are replaced by real-looking ones after the edits
    (tests/stackfiles.py: own_values; a test compares names and messages through `own`)."""
    def make(case: CorpusCase | str, example: str | None = None) -> Path:
        case = corpus_case(case) if isinstance(case, str) else case
        text = own_values(materialise(case, EXAMPLE.read_text(encoding="utf-8") if example is None else example))
        path = tmp_path / f"Pulumi.{case.name}.yaml"
        path.write_text(text, encoding="utf-8")
        return path
    return make
