"""Build the stack spec, in one place, from a stack file (CLI) or from pulumi.Config (program).

Both paths go through the same flat config map that the Pulumi engine hands a program
({"launchready:hosts": "<json>", ...} plus the set of secret keys), so `launchready plan` and
`pulumi up` see exactly the same spec. Reading a stack file into that map is stackfile.py's.
"""
from __future__ import annotations

import difflib
import re
import typing
from pathlib import Path
from typing import Annotated, Any

from pydantic import TypeAdapter, ValidationError

from .errors import SpecError, SpecIssue, format_path, issues_from_validation
from .spec import Spec
from .stackfile import NAMESPACE, ConfigSource, read_stack_file, stack_path


def parse_spec(source: ConfigSource) -> Spec:
    """The validated spec of a config map. Raises SpecError with every problem, located."""
    sections, others = source.section_values()
    issues: list[SpecIssue] = []
    spec = None
    try:
        spec = Spec.model_validate(sections, context={"config_keys": others})
    except ValidationError as exc:
        issues = issues_from_validation(exc, Spec)
        issues += _cross_issues_of_valid_sections(sections, others, issues)
    issues += _unknown_keys(spec, sections, others)
    if issues:
        located = sorted((_locate(i, source) for i in issues), key=lambda i: (i.line is None, i.line or 0))
        raise SpecError(located, source.file)
    return spec


def _unknown_keys(spec: Spec | None, sections: dict, others: dict[str, bool]) -> list[SpecIssue]:
    """Keys in our namespace that are neither a section nor a secret referenced by one: typos."""
    if spec is not None:
        referenced = spec.secrets.referenced_config_keys() if spec.secrets is not None and hasattr(spec.secrets, "referenced_config_keys") else set()
    else:
        # The spec did not validate: still honour the secret references, so a plaintext secret is
        # reported once (by the secrets section), not again as an "unknown key".
        from .secretspec import Secrets
        referenced = Secrets.referenced_in_raw(sections.get("secrets"))
    known = sorted(f.alias or n for n, f in Spec.model_fields.items())
    issues = []
    for name, secret in sorted(others.items()):
        if secret or name in referenced:
            continue
        guess = difflib.get_close_matches(name, known, n=1)
        issues.append(SpecIssue(f"{NAMESPACE}:{name}", "unknown key" + (f" (did you mean {NAMESPACE}:{guess[0]}?)" if guess else "")))
    return issues


def _cross_issues_of_valid_sections(sections: dict, others: dict, found: list[SpecIssue]) -> list[SpecIssue]:
    """Run the cross-field checks over what did validate, so one run reports every problem.

    List sections are validated item by item; invalid items are left out and the indices in the
    messages are mapped back to the positions in the file.
    """
    valid, index_maps, broken = _valid_parts(sections, {"config_keys": others})
    if "domain" in broken:
        return []
    partial = Spec.model_construct(**valid)
    names = {(f.alias or n) for n, f in Spec.model_fields.items()} - broken
    try:
        problems = partial.cross_problems(names)
    except Exception:  # noqa: BLE001 - too broken to cross-check; the field errors stand
        return []

    def remap(text: str) -> str:
        def sub(m):
            positions = index_maps.get(m.group(1))
            k = int(m.group(2))
            return f"{m.group(1)}[{positions[k] if positions and k < len(positions) else k}]"
        # \b: only word starts are tried, so a long word without a bracket costs linear time, not quadratic.
        return re.sub(r"\b(\w+)\[(\d+)\]", sub, text)

    seen = {(i.path, i.message) for i in found}
    out = [SpecIssue(remap(format_path(p)), remap(m)) for p, m in problems]
    return [i for i in out if (i.path, i.message) not in seen]


def _valid_parts(sections: dict, ctx: dict) -> tuple[dict[str, Any], dict[str, list[int]], set[str]]:
    """(the fields that validate on their own, by attribute name; for list sections, the file
    position of each valid item; the aliases of sections that are missing, invalid or incomplete)."""
    valid: dict[str, Any] = {}
    index_maps: dict[str, list[int]] = {}
    broken: set[str] = set()
    for name, fld in Spec.model_fields.items():
        alias = fld.alias or name
        if alias not in sections:
            if fld.is_required():
                broken.add(alias)
            else:
                valid[name] = fld.get_default(call_default_factory=True)
            continue
        raw = sections[alias]
        item_type = typing.get_args(fld.annotation)[0] if typing.get_origin(fld.annotation) is list else None
        try:
            if item_type is not None and isinstance(raw, list):
                valid[name], index_maps[alias], complete = _valid_items(item_type, raw, ctx)
                if not complete:
                    # A list with a bad item is incomplete: checks that read it would
                    # report its absence as a second, false problem.
                    broken.add(alias)
            else:
                # fld.annotation alone drops the field's own validators and constraints (a Hostname
                # field's annotation is plain str): put them back, or a bad domain passes here.
                full = Annotated[(fld.annotation, *fld.metadata)] if fld.metadata else fld.annotation
                valid[name] = TypeAdapter(full).validate_python(raw, context=ctx)
        except ValidationError:
            broken.add(alias)
    return valid, index_maps, broken


def _valid_items(item_type: Any, raw: list, ctx: dict) -> tuple[list, list[int], bool]:
    """(the items that validate, their positions in the list, whether every item did)."""
    items, positions = [], []
    adapter = TypeAdapter(item_type)
    for pos, item in enumerate(raw):
        try:
            items.append(adapter.validate_python(item, context=ctx))
            positions.append(pos)
        except ValidationError:
            pass
    return items, positions, len(items) == len(raw)


def _locate(issue: SpecIssue, source: ConfigSource) -> SpecIssue:
    if not source.file:
        return issue
    return SpecIssue(issue.path, issue.message, source.file, source.line_of(issue.path))


# -- from a stack file -----------------------------------------------------------------------------

def load_stack(stack: str, stacks_dir: str | Path = "stacks") -> Spec:
    """The validated spec of stacks/Pulumi.<stack>.yaml (or a path). Raises SpecError."""
    return parse_spec(read_stack_file(stack_path(stack, stacks_dir)))


def load_source(stack: str, stacks_dir: str | Path = "stacks") -> tuple[ConfigSource, Spec]:
    source = read_stack_file(stack_path(stack, stacks_dir))
    return source, parse_spec(source)


# -- inside the Pulumi program ---------------------------------------------------------------------

def source_from_pulumi() -> ConfigSource:
    """The config map the engine gave this program (also what the mock runtime is given)."""
    from pulumi.runtime import config as rc

    values = {**rc.get_config_env(), **rc.CONFIG.get()}
    values = {k: v for k, v in values.items() if k.startswith(NAMESPACE + ":")}
    secret = {k for k in values if rc.is_config_secret(k)} | set(rc.get_config_secret_keys_env())
    return ConfigSource(values, secret)


def spec_from_pulumi() -> Spec:
    return parse_spec(source_from_pulumi())
