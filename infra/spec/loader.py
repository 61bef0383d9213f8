"""Load the stack spec, in one place, from a stack file (CLI) or from pulumi.Config (program).

Both paths go through the same flat config map that the Pulumi engine hands a program
({"launchready:hosts": "<json>", ...} plus the set of secret keys), so `launchready plan` and
`pulumi up` see exactly the same spec.
"""
from __future__ import annotations

import json
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Optional

import yaml
from pydantic import ValidationError

from .errors import SpecError, SpecIssue, format_path, issues_from_validation
from .spec import Spec

NAMESPACE = "launchready"
# Placeholder the CLI gives the mock runtime for `secure:` values it cannot decrypt.
MOCK_SECRET = "mock-secret-value"


@dataclass
class ConfigSource:
    """The flat config map of one stack, as the engine presents it, plus where it came from."""

    values: dict[str, str]                       # "launchready:hosts" -> JSON text or plain string
    secret_keys: set[str] = field(default_factory=set)
    file: Optional[str] = None
    lines: dict[str, int] = field(default_factory=dict)  # key path (hosts[2].name, cloudflare:apiToken) -> line

    def section_values(self) -> tuple[dict[str, Any], dict[str, bool]]:
        """Spec sections (decoded) and the other keys of our namespace (name -> is secret)."""
        sections, others = {}, {}
        known = {f.alias or n for n, f in Spec.model_fields.items()}
        for key, raw in self.values.items():
            ns, _, name = key.partition(":")
            if ns != NAMESPACE:
                continue  # provider config (cloudflare:apiToken, aws:region) is not ours
            if name in known:
                sections[name] = _decode(raw)
            else:
                others[name] = key in self.secret_keys
        return sections, others


def _decode(raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw  # a plain string such as a domain name


def _encode(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def parse_spec(source: ConfigSource) -> Spec:
    sections, others = source.section_values()
    issues: list[SpecIssue] = []
    spec = None
    try:
        spec = Spec.model_validate(sections, context={"config_keys": others})
    except ValidationError as exc:
        issues = issues_from_validation(exc, Spec)
        issues += _cross_issues_of_valid_sections(sections, others, issues)
    # Keys in our namespace that are neither a section nor a secret referenced by one: typos.
    referenced = spec.secrets.referenced_config_keys() if spec is not None and spec.secrets is not None and hasattr(spec.secrets, "referenced_config_keys") else set()
    if spec is None:
        # The spec did not validate: still honour the secret references, so a plaintext secret is
        # reported once (by the secrets section), not again as an "unknown key".
        from .secretspec import Secrets
        referenced = Secrets.referenced_in_raw(sections.get("secrets"))
    import difflib

    known = sorted(f.alias or n for n, f in Spec.model_fields.items())
    for name, secret in sorted(others.items()):
        if secret or name in referenced:
            continue
        guess = difflib.get_close_matches(name, known, n=1)
        issues.append(SpecIssue(f"{NAMESPACE}:{name}", "unknown key" + (f" (did you mean {NAMESPACE}:{guess[0]}?)" if guess else "")))
    if issues:
        located = sorted((_locate(i, source) for i in issues), key=lambda i: (i.line is None, i.line or 0))
        raise SpecError(located, source.file)
    return spec


def _cross_issues_of_valid_sections(sections: dict, others: dict, found: list[SpecIssue]) -> list[SpecIssue]:
    """Run the cross-field checks over what did validate, so one run reports every problem.

    List sections are validated item by item; invalid items are left out and the indices in the
    messages are mapped back to the positions in the file.
    """
    import re

    from pydantic import TypeAdapter

    ctx = {"config_keys": others}
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
                items, positions = [], []
                adapter = TypeAdapter(item_type)
                for pos, item in enumerate(raw):
                    try:
                        items.append(adapter.validate_python(item, context=ctx))
                        positions.append(pos)
                    except ValidationError:
                        # A list with a bad item is incomplete: checks that read it would
                        # report its absence as a second, false problem.
                        broken.add(alias)
                valid[name], index_maps[alias] = items, positions
            else:
                # fld.annotation alone drops the field's own validators and constraints (a Hostname
                # field's annotation is plain str): put them back, or a bad domain passes here.
                full = Annotated[(fld.annotation, *fld.metadata)] if fld.metadata else fld.annotation
                valid[name] = TypeAdapter(full).validate_python(raw, context=ctx)
        except ValidationError:
            broken.add(alias)
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
        return re.sub(r"(\w+)\[(\d+)\]", sub, text)

    seen = {(i.path, i.message) for i in found}
    out = [SpecIssue(remap(format_path(p)), remap(m)) for p, m in problems]
    return [i for i in out if (i.path, i.message) not in seen]


def _locate(issue: SpecIssue, source: ConfigSource) -> SpecIssue:
    if not source.file:
        return issue
    line = _best_line(issue.path, source.lines)
    return SpecIssue(issue.path, issue.message, source.file, line)


def _best_line(path: str, lines: dict[str, int]) -> Optional[int]:
    # Walk up the key path until a key with a known line is found (a missing key's parent).
    candidate = path
    while candidate:
        if candidate in lines:
            return lines[candidate]
        cut = max(candidate.rfind("."), candidate.rfind("["))
        candidate = candidate[:cut] if cut > 0 else ""
    return None


class _Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2 booleans, as the Pulumi CLI reads stack files: only true/false are booleans, so
    `proxied: yes` is the string 'yes' here too (and rejected), not a silent True."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


# -- stack files -----------------------------------------------------------------------------------

def stack_path(stack: str, stacks_dir: str | Path = "stacks") -> Path:
    p = Path(stack)
    if p.suffix in (".yaml", ".yml") or "/" in stack:
        return p
    return Path(stacks_dir) / f"Pulumi.{stack}.yaml"


def _alias_cycle(root) -> Optional[int]:
    """The line of a node that contains itself through an alias (`a: &x {b: *x}`), if any.

    Every later walk over the document would recurse forever on such a node."""
    stack: list = [(root, False)]
    open_nodes: set[int] = set()
    while stack:
        node, leaving = stack.pop()
        if leaving:
            open_nodes.discard(id(node))
            continue
        if id(node) in open_nodes:
            return node.start_mark.line + 1
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            open_nodes.add(id(node))
            stack.append((node, True))
            children = [c for kv in node.value for c in kv] if isinstance(node, yaml.MappingNode) else node.value
            stack.extend((c, False) for c in children)
    return None


def stack_name(stack: str) -> str:
    """The stack's name from a name or a path: 'prod', 'stacks/Pulumi.prod.yaml' → 'prod'."""
    name = Path(stack).name
    if name.startswith("Pulumi.") and name.endswith((".yaml", ".yml")):
        return name[len("Pulumi."):].rsplit(".", 1)[0]
    return name


def read_stack_file(path: str | Path) -> ConfigSource:
    path = Path(path)
    shown = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise SpecError([SpecIssue("", "stack file not found", shown)], shown) from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise SpecError([SpecIssue("", f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); save the file as UTF-8", shown, line)], shown) from None
    except OSError as exc:
        raise SpecError([SpecIssue("", f"cannot read the stack file ({exc.strerror})", shown)], shown) from None
    try:
        root = yaml.compose(text, Loader=_Yaml12Loader)
        data = yaml.load(text, Loader=_Yaml12Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError([SpecIssue("", f"not valid YAML: {_yaml_hint(problem)}", shown, mark.line + 1 if mark else None)], shown) from None
    if data is None:
        raise SpecError([SpecIssue("", "the stack file is empty: expected `config:` with launchready:domain, launchready:hosts, ... "
                                       "(copy stacks/Pulumi.example.yaml)", shown, 1)], shown)
    if not isinstance(data, dict):
        raise SpecError([SpecIssue("", f"the stack file is {_kind(data)}: expected a mapping with `config:` at the top "
                                       "(config: {launchready:domain: ...})", shown, 1)], shown)
    # The Pulumi CLI rejects the whole file for these, so they are reported before anything else.
    cycle = _alias_cycle(root)
    if cycle is not None:
        raise SpecError([SpecIssue("", "a YAML alias refers to a mapping or list that contains it (a recursive "
                                       "&anchor/*alias): write the value out instead", shown, cycle)], shown)
    structural = _duplicate_keys(root, shown) + _misplaced_keys(root, shown)
    if structural:
        raise SpecError(structural, shown)
    if not isinstance(data.get("config", {}) or {}, dict):
        raise SpecError([SpecIssue("config", f"is {_kind(data['config'])}: expected a mapping of config keys "
                                             "(launchready:domain: ..., without '- ')", shown, _top_line(root, "config"))], shown)
    config = data.get("config") or {}
    values, secret_keys = {}, set()
    for key, value in config.items():
        key = str(key)
        if isinstance(value, dict) and set(value) == {"secure"}:
            values[key] = MOCK_SECRET
            secret_keys.add(key)
        else:
            values[key] = _encode(value)
    return ConfigSource(values, secret_keys, shown, _line_index(root))


# Top-level keys of a Pulumi stack file (workspace.ProjectStack); anything else is ignored by the
# CLI, which would silently drop a spec section written at the wrong level.
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")

_YAML_HINTS = (
    # PyYAML's parser jargon → what a person most likely did.
    ("found character '\\t'", "a tab character: YAML indents with spaces only"),
    ("expected <block end>, but found", "the indentation is off here: keys of one mapping must line up, "
                                        "and list items start with '- ' at one depth"),
    ("mapping values are not allowed here", "a ':' where a value was expected: quote values that contain ': ', "
                                            "or check the indentation"),
    ("found duplicate anchor", "an anchor (&name) is defined twice"),
    ("could not determine a constructor", "a YAML tag (!!...) that stack files do not allow"),
)


def _yaml_hint(problem: str) -> str:
    for needle, hint in _YAML_HINTS:
        if needle in problem:
            return f"{problem} ({hint})"
    return problem


def _kind(value: Any) -> str:
    return {list: "a list", dict: "a mapping", str: "a string", type(None): "empty"}.get(type(value), f"a {type(value).__name__}")


def _top_line(root, key: str) -> Optional[int]:
    node = next((k for k, _ in root.value if k.value == key), None) if isinstance(root, yaml.MappingNode) else None
    return node.start_mark.line + 1 if node is not None else 1


def _duplicate_keys(root, shown: str) -> list[SpecIssue]:
    """Every key given twice in one mapping. PyYAML silently keeps the last one; the Pulumi CLI
    (Go yaml.v3) rejects the file ("mapping key ... already defined"). Reject it here too, or the
    plan would show a spec the engine never runs."""
    issues: list[SpecIssue] = []

    def walk(node, loc: tuple, deep: bool = True):
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for k, v in node.value:
                name = str(k.value)
                # Config keys are named as written (launchready:caa); keys inside a section by spec path.
                shown_path = format_path(loc + (name,)) if loc else name
                line = k.start_mark.line + 1
                if name in first:
                    issues.append(SpecIssue(shown_path, f"is given twice (first at line {first[name]}): YAML would "
                                                        "silently keep only this one and the Pulumi CLI rejects the file; "
                                                        "remove one", shown, line))
                else:
                    first[name] = line
                if deep:
                    walk(v, loc + (name.split(":", 1)[1] if not loc and ":" in name else name,))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, loc + (i,))

    if isinstance(root, yaml.MappingNode):
        walk(root, (), deep=False)  # config:, environment: ...
        for k, v in root.value:
            if k.value == "config":
                walk(v, ())
    return issues


def _misplaced_keys(root, shown: str) -> list[SpecIssue]:
    """Top-level keys that are not stack-file keys, and config keys without a namespace."""
    issues: list[SpecIssue] = []
    if not isinstance(root, yaml.MappingNode):
        return issues
    for k, v in root.value:
        name = str(k.value)
        if name in STACK_FILE_KEYS:
            continue
        bare = name.split(":", 1)[1] if name.startswith(NAMESPACE + ":") else name
        known = {f.alias or n for n, f in Spec.model_fields.items()}
        hint = (f"indent it under config: as {NAMESPACE}:{bare}" if bare in known or name.startswith(NAMESPACE + ":")
                else f"expected one of: {', '.join(STACK_FILE_KEYS)}")
        issues.append(SpecIssue(name, f"is not a stack file key ({hint})", shown, k.start_mark.line + 1))
    config = next((v for k, v in root.value if k.value == "config"), None)
    if isinstance(config, yaml.MappingNode):
        for k, _ in config.value:
            name = str(k.value)
            if ":" not in name:
                # config.ParseKey: a stack file key must be <namespace>:<name>; `pulumi config set hosts`
                # writes launchready:hosts, but a hand-written `hosts:` makes the CLI reject the file.
                issues.append(SpecIssue(name, f"has no namespace: write {NAMESPACE}:{name} (the Pulumi CLI rejects "
                                              "stack config keys that are not <namespace>:<name>)",
                                        shown, k.start_mark.line + 1))
    return issues


def _line_index(root) -> dict[str, int]:
    """Map spec key paths ('hosts[2].name') to 1-based lines of the stack file."""
    index: dict[str, int] = {}
    if root is None or not isinstance(root, yaml.MappingNode):
        return index
    config = next((v for k, v in root.value if k.value == "config"), None)
    if not isinstance(config, yaml.MappingNode):
        return index

    def walk(node, loc: tuple):
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                sub = loc + (k.value,)
                index[format_path(sub)] = k.start_mark.line + 1
                walk(v, sub)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                sub = loc + (i,)
                index[format_path(sub)] = item.start_mark.line + 1
                walk(item, sub)

    for k, v in config.value:
        ns, _, name = k.value.rpartition(":")
        line = k.start_mark.line + 1
        index[k.value if ns else f"{NAMESPACE}:{name}"] = line
        if ns in ("", NAMESPACE):
            # Spec key paths are unqualified ('hosts[2].name'); provider keys keep their namespace.
            index[name] = line
            walk(v, (name,))
    return index


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
