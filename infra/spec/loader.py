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
    """The validated spec of a config map. Raises SpecError with every problem one run can soundly
    report, located, and says which checks wait for them (SpecError.more_after)."""
    sections, others = source.section_values()
    held = _held_sections(source.problems)
    issues: list[SpecIssue] = list(source.problems)
    spec, waiting = None, set()
    try:
        spec = Spec.model_validate(sections, context={"config_keys": others})
    except ValidationError as exc:
        # A section a structural problem touches (a key given twice, a key outside config:) is not
        # judged: the value YAML kept may not be the one meant, and its absence is not news.
        issues += [i for i in issues_from_validation(exc, Spec, cross=not held) if _section_of(i.path) not in held]
    if held or len(issues) > len(source.problems):
        cross, waiting = _cross_issues_of_valid_sections(sections, others, issues, held)
        issues += cross
    issues += [i for i in _unknown_keys(spec, sections, others) if _section_of(i.path) not in held]
    if issues:
        located = sorted((_locate(i, source) for i in issues), key=lambda i: (i.line is None, i.line or 0))
        raise SpecError(located, source.file, _more_after(held, waiting))
    return spec


def _section_of(path: str) -> str:
    """The spec section a key path is in: 'hosts[2].name' → 'hosts', 'launchready:caa' → 'caa'."""
    return re.split(r"[.\[]", path.rpartition(":")[2], maxsplit=1)[0]


def _held_sections(problems: list[SpecIssue]) -> set[str]:
    """The sections that structural problems leave uncertain (all of them when config: is given twice)."""
    known = {f.alias or n for n, f in Spec.model_fields.items()}
    if any(p.path == "config" for p in problems):
        return known
    return {_section_of(p.path) for p in problems} & known


def _more_after(held: set[str], waiting: set[str]) -> str:
    parts = []
    if held:
        parts.append(f"{', '.join(sorted(held))}: judged once the key problems above are fixed")
    if waiting - held:
        parts.append(f"the checks across sections that read {', '.join(sorted(waiting - held))} run once those are valid")
    return "; ".join(parts)


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


def _cross_issues_of_valid_sections(sections: dict, others: dict, found: list[SpecIssue],
                                    held: set[str] = frozenset()) -> tuple[list[SpecIssue], set[str]]:
    """Run the cross-field checks over what did validate, so one run reports every problem it soundly
    can; (the problems, the sections that checks left unrun are waiting for).

    List sections are validated item by item; invalid items are left out, the checks that can judge
    the valid items alone run over them (Spec.PARTIAL_OK), and the indices in the messages are mapped
    back to the positions in the file.
    """
    valid, index_maps, broken, partial = _valid_parts(sections, {"config_keys": others})
    broken |= held
    partial -= held
    usable = {(f.alias or n) for n, f in Spec.model_fields.items()} - broken - partial
    stand_ins = _host_stand_ins(sections.get("hosts")) if "hosts" in partial else None
    named = {"hosts"} if stand_ins is not None else set()
    runnable = Spec.runnable_checks(usable, partial, named) if "domain" not in broken else []
    absent = {alias for alias in ("mail", "secrets", "monitoring", "portal") if sections.get(alias) is None}  # nothing to check
    waiting = set().union(*(needs for c, needs in Spec.CROSS_CHECKS.items()
                            if c not in runnable and not needs & absent)) & (broken | partial)
    by_name = [c for c in runnable if named and c in Spec.NAME_LOOKUPS and "hosts" not in usable]
    try:
        problems = Spec.model_construct(**valid).run_checks([c for c in runnable if c not in by_name])
        if by_name:
            problems += Spec.model_construct(**{**valid, "hosts": [*valid["hosts"], *stand_ins]}).run_checks(by_name)
    except Exception:  # noqa: BLE001 - too broken to cross-check; the field errors stand
        return [], waiting | broken | partial

    def remap(text: str) -> str:
        def sub(m):
            positions = index_maps.get(m.group(1))
            k = int(m.group(2))
            return f"{m.group(1)}[{positions[k] if positions and k < len(positions) else k}]"
        # \b: only word starts are tried, so a long word without a bracket costs linear time, not quadratic.
        return re.sub(r"\b(\w+)\[(\d+)\]", sub, text)

    seen = {(i.path, i.message) for i in found}
    out = [SpecIssue(remap(format_path(p)), remap(m)) for p, m in problems]
    return [i for i in out if (i.path, i.message) not in seen], waiting


def _valid_parts(sections: dict, ctx: dict) -> tuple[dict[str, Any], dict[str, list[int]], set[str], set[str]]:
    """(the fields that validate on their own, by attribute name; for list sections, the file
    position of each valid item; the aliases of sections that are missing or invalid; the aliases of
    list sections with some invalid items)."""
    valid: dict[str, Any] = {}
    index_maps: dict[str, list[int]] = {}
    broken: set[str] = set()
    partial: set[str] = set()
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
                    # A list with a bad item is incomplete: a check that looks a name up in it
                    # would report its absence as a second, false problem (Spec.PARTIAL_OK).
                    partial.add(alias)
            else:
                # fld.annotation alone drops the field's own validators and constraints (a Hostname
                # field's annotation is plain str): put them back, or a bad domain passes here.
                full = Annotated[(fld.annotation, *fld.metadata)] if fld.metadata else fld.annotation
                valid[name] = TypeAdapter(full).validate_python(raw, context=ctx)
        except ValidationError:
            broken.add(alias)
    return valid, index_maps, broken, partial


def _host_stand_ins(raw: Any) -> list | None:
    """Name-only hosts for the invalid items of `hosts`, for the checks that only look names up
    (Spec.NAME_LOOKUPS); None when an invalid item has no valid name (a lookup could then be wrong)."""
    from .fields import Hostname
    from .model import Host

    adapter, item = TypeAdapter(Host), TypeAdapter(Hostname)
    out = []
    for entry in raw if isinstance(raw, list) else []:
        try:
            adapter.validate_python(entry)
            continue
        except ValidationError:
            pass
        try:
            name = item.validate_python(entry.get("name") if isinstance(entry, dict) else None)
        except ValidationError:
            return None
        out.append(Host.model_construct(name=name))
    return out


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
    if not source.file or issue.line is not None:
        return issue  # a structural problem comes located from the file
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
