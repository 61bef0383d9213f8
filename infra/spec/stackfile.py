"""Read a stack file (stacks/Pulumi.<stack>.yaml) into the flat config map the engine would hand the
program, with an index from spec key paths to lines of the file.

Everything the Pulumi CLI itself would reject (not YAML, duplicate keys, keys at the wrong level, a
recursive alias) is reported here, before the spec is built (loader.py builds it).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import yamlsafe
from .errors import SpecError, SpecIssue, format_path
from .spec import Spec

NAMESPACE = "launchready"
# Placeholder the CLI gives the mock runtime for `secure:` values it cannot decrypt.
MOCK_SECRET = "mock-secret-value"


def line_of(lines: Mapping[str, int], path: str, *, nearest: bool = True) -> int | None:
    """The 1-based stack-file line of a key path ('hosts[2].name', 'cloudflare:apiToken').

    With nearest (the default), a path that is not in the index takes the line of its nearest
    indexed parent: a missing key is reported where its parent is, a provider key's nested value
    (indexed at the top key only) where that key is. With nearest=False, only the path itself."""
    if not nearest:
        return lines.get(path)
    candidate = path
    while candidate:
        if candidate in lines:
            return lines[candidate]
        cut = max(candidate.rfind("."), candidate.rfind("["))
        candidate = candidate[:cut] if cut > 0 else ""
    return None


@dataclass
class ConfigSource:
    """The flat config map of one stack, as the engine presents it, plus where it came from."""

    values: dict[str, str]                       # "launchready:hosts" -> JSON text or plain string
    secret_keys: set[str] = field(default_factory=set)
    file: str | None = None
    lines: dict[str, int] = field(default_factory=dict)  # key path (hosts[2].name, cloudflare:apiToken) -> line
    # What the Pulumi CLI rejects in a file that still reads (a key given twice, a key outside
    # config: or without a namespace): parse_spec reports them with every other problem, in one run.
    problems: list[SpecIssue] = field(default_factory=list)

    def line_of(self, path: str, *, nearest: bool = True) -> int | None:
        """The stack-file line of a key path (see the module-level line_of)."""
        return line_of(self.lines, path, nearest=nearest)

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


# -- stack file names ------------------------------------------------------------------------------

def stack_path(stack: str, stacks_dir: str | Path = "stacks") -> Path:
    p = Path(stack)
    if p.suffix in (".yaml", ".yml") or "/" in stack:
        return p
    return Path(stacks_dir) / f"Pulumi.{stack}.yaml"


def stack_name(stack: str) -> str:
    """The stack's name from a name or a path: 'prod', 'stacks/Pulumi.prod.yaml' → 'prod'."""
    name = Path(stack).name
    if name.startswith("Pulumi.") and name.endswith((".yaml", ".yml")):
        return name[len("Pulumi."):].rsplit(".", 1)[0]
    return name


# -- reading one ------------------------------------------------------------------------------------

# Said when a problem stops every later check (the file does not read as a stack file at all).
_SPEC_WAITS = "the stack spec is checked once the file reads as a stack file"


def read_stack_file(path: str | Path) -> ConfigSource:
    """The config map of a stack file, with its line index. Raises SpecError for a file that does
    not read as a stack file (not found, not YAML, not a mapping with a `config:` mapping). What the
    Pulumi CLI also rejects in a readable file (duplicate or misplaced keys) is kept in `problems`,
    which parse_spec raises together with the spec's own problems."""
    path = Path(path)
    shown = str(path)
    text = _read_text(path, shown)
    root, data = _parse_yaml(text, shown)
    structural = _check_document(root, data, shown)
    values, secret_keys = _config_map(data.get("config") or {})
    return ConfigSource(values, secret_keys, shown, _line_index(root), structural)


def _read_text(path: Path, shown: str) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise SpecError([SpecIssue("", "stack file not found", shown)], shown) from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise SpecError([SpecIssue("", f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); save the file as UTF-8", shown, line)], shown) from None
    except OSError as exc:
        raise SpecError([SpecIssue("", f"cannot read the stack file ({exc.strerror})", shown)], shown) from None


def _parse_yaml(text: str, shown: str) -> tuple[Any, Any]:
    """(the node tree, for lines and structure checks; the loaded data), read as YAML 1.2 core
    within bounds (infra/spec/yamlsafe.py)."""
    try:
        return yamlsafe.load(text)
    except yamlsafe.Refusal as exc:
        raise SpecError([SpecIssue("", exc.message, shown, exc.line)], shown, _SPEC_WAITS) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError([SpecIssue("", f"not valid YAML: {_yaml_hint(problem)}", shown, mark.line + 1 if mark else None)],
                        shown, _SPEC_WAITS) from None


def _check_document(root, data: Any, shown: str) -> list[SpecIssue]:
    """The document is a mapping with a `config:` mapping (else SpecError); the problems the CLI
    rejects in such a document (duplicate keys, keys outside config: or without a namespace)."""
    if data is None:
        raise SpecError([SpecIssue("", "the stack file is empty: expected `config:` with launchready:domain, launchready:hosts, ... "
                                       "(copy stacks/Pulumi.example.yaml)", shown, 1)], shown)
    if not isinstance(data, dict):
        raise SpecError([SpecIssue("", f"the stack file is {_kind(data)}: expected a mapping with `config:` at the top "
                                       "(config: {launchready:domain: ...})", shown, 1)], shown)
    structural = _duplicate_keys(root, shown) + _misplaced_keys(root, shown)
    if not isinstance(data.get("config", {}) or {}, dict):
        structural.append(SpecIssue("config", f"is {_kind(data['config'])}: expected a mapping of config keys "
                                              "(launchready:domain: ..., without '- ')", shown, _top_line(root, "config")))
        raise SpecError(structural, shown, _SPEC_WAITS)
    return structural


def _config_map(config: dict) -> tuple[dict[str, str], set[str]]:
    """Config values as the engine passes them (JSON text or a plain string), and the secret keys."""
    values, secret_keys = {}, set()
    for key, value in config.items():
        key = str(key)
        if isinstance(value, dict) and set(value) == {"secure"}:
            values[key] = MOCK_SECRET
            secret_keys.add(key)
        else:
            values[key] = _encode(value)
    return values, secret_keys


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


def _top_line(root, key: str) -> int | None:
    node = next((k for k, _ in root.value if k.value == key), None) if isinstance(root, yaml.MappingNode) else None
    return node.start_mark.line + 1 if node is not None else 1


# -- what the Pulumi CLI rejects ---------------------------------------------------------------------

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
    for k, _v in root.value:
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


# -- the line index --------------------------------------------------------------------------------

def _line_index(root) -> dict[str, int]:
    """Map spec key paths ('hosts[2].name') to 1-based lines of the stack file (read with line_of)."""
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
