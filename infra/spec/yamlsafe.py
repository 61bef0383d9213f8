"""A bounded YAML 1.2 reader for stack files: what the Pulumi CLI reads, in linear time, or a located error.

PyYAML reads YAML 1.1, and unbounded: `yes` is a boolean, `1:20` is 80 (base 60), `2024-01-01` is a
date, `!!binary`/`!!set`/`!!python/...` tags build objects the spec never expects, an alias bomb
("billion laughs") expands exponentially, and deep nesting ends in RecursionError. The Pulumi CLI
(Go yaml.v3) reads YAML 1.2. Here the core schema of YAML 1.2 is the only one: null, booleans,
decimal/hex integers, floats and strings, plain mappings and sequences. Every refusal is a
`(line, message)` the caller turns into a spec error; nothing here raises anything else.
"""
from __future__ import annotations

import re
from typing import Any

import yaml

MAX_FILE_BYTES = 1 << 20        # a stack file is a few kilobytes; 1 MiB is far beyond any real one
MAX_SCALAR_CHARS = 64 * 1024    # one value (a DKIM key is ~400 characters, a CSP a few hundred)
MAX_NODES = 100_000             # values after alias expansion (the example has ~700)
MAX_DEPTH = 64                  # nesting of mappings and sequences (the spec needs 6)
MAX_INT_DIGITS = 18             # beyond, no field means it and protobuf's double would round it

CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {CORE + t for t in ("str", "int", "float", "bool", "null", "map", "seq")}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Refusal(Exception):
    """What the reader will not read, and where (1-based line)."""

    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


class Yaml12Loader(yaml.SafeLoader):
    """The YAML 1.2 core schema's implicit types, as yaml.v3 resolves plain scalars."""


Yaml12Loader.yaml_implicit_resolvers = {}
for _tag, _rx, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("int", r"^(?:[-+]?[0-9]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    ("float", r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
     "-+0123456789."),
):
    Yaml12Loader.add_implicit_resolver(CORE + _tag, re.compile(_rx), list(_first))
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


def _construct_int(loader: Yaml12Loader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    # YAML 1.2: 010 is ten (1.1 read it as octal 8); 0x1F is hex.
    return int(text, 16) if text.startswith("0x") else int(text, 10)


Yaml12Loader.add_constructor(CORE + "int", _construct_int)


def _line(node) -> int:
    return node.start_mark.line + 1


def _check_text(text: str) -> None:
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise Refusal(None, f"the stack file is larger than {MAX_FILE_BYTES // 1024} KiB: a stack file "
                            "holds a few kilobytes of settings")
    m = _CONTROL.search(text)
    if m:
        line = text.count("\n", 0, m.start()) + 1
        column = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
        raise Refusal(line, f"a control character (U+{ord(m.group()):04X}) at column {column}: "
                            "stack files are plain text; remove it")
    # PyYAML's scanner and composer recurse per level: refuse deep nesting before they see it.
    depth = 0
    for number, row in enumerate(text.splitlines(), 1):
        indent = len(row) - len(row.lstrip(" "))
        depth = _flow_depth(row, depth)
        if indent > 4 * MAX_DEPTH or depth > MAX_DEPTH:
            raise Refusal(number, f"nested more than {MAX_DEPTH} levels deep: a stack file needs a handful")


def _flow_depth(row: str, depth: int) -> int:
    """The flow-collection depth ([ and {) after `row`, or MAX_DEPTH + 1 as soon as it is exceeded
    within the row; quoted text and comments are skipped."""
    quote = None
    for ch in row:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            break
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return depth
        elif ch in "]}":
            depth = max(0, depth - 1)
    return depth


def _check_tree(root) -> None:
    """Tags, sizes and the expanded size, in one pass over each node (aliases are visited once)."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list = [(root, 1, False)]
    while stack:
        node, depth, leaving = stack.pop()
        key = id(node)
        if leaving:
            on_path.discard(key)
            children = _children(node)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[key] > MAX_NODES:
                raise Refusal(_line(node), f"aliases expand this value to more than {MAX_NODES:,} values "
                                           "(an alias bomb?): write the values out")
            continue
        if key in on_path:
            raise Refusal(_line(node), "a YAML alias refers to a mapping or list that contains it (a "
                                       "recursive &anchor/*alias): write the value out instead")
        if key in sizes:
            continue
        _check_node(node, depth)
        on_path.add(key)
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in _children(node) if id(c) not in sizes or id(c) in on_path)


def _children(node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [c for kv in node.value for c in kv]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_node(node, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise Refusal(_line(node), f"nested more than {MAX_DEPTH} levels deep: a stack file needs a handful")
    tag = node.tag
    if tag not in _ALLOWED_TAGS and tag != CORE + "merge":
        shown = tag.replace(CORE, "!!")
        raise Refusal(_line(node), f"a YAML tag ({shown}) that stack files do not allow: write the value plainly "
                                   "(dates, binary data and sets are not settings here)")
    if isinstance(node, yaml.ScalarNode):
        if len(node.value) > MAX_SCALAR_CHARS:
            raise Refusal(_line(node), f"a value of {len(node.value):,} characters: at most {MAX_SCALAR_CHARS:,}")
        implicit = Yaml12Loader.resolve(Yaml12Loader, yaml.ScalarNode, node.value, (True, False))
        if tag != CORE + "str" and (node.style or tag != implicit):
            # An explicit !!int/!!float/!!bool/!!null: only where the text already is one.
            raise Refusal(_line(node), f"an explicit YAML tag ({tag.replace(CORE, '!!')}) on {node.value[:40]!r}: "
                                       "write the value plainly")
        if tag == CORE + "float" and not node.style and _overflows(node.value):
            raise Refusal(_line(node), f"{node.value!r} reads as a number too large for any setting (YAML 1.2 "
                                       "reads digits-e-digits as an exponent): quote it if it is an id or a hash")
        if tag == CORE + "int" and len(node.value.lstrip("+-")) > MAX_INT_DIGITS:
            raise Refusal(_line(node), f"a number of {len(node.value.lstrip('+-'))} digits: no setting takes one "
                                       "that large (quote it if it is an id)")


def _overflows(text: str) -> bool:
    """A plain float that is not written as .inf but reads as infinity (372e6795: a hex id, unquoted)."""
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        return False
    return value in (float("inf"), float("-inf")) and "inf" not in text.lower()


def load(text: str) -> tuple[Any, Any]:
    """(the node tree, the data) of one YAML document, or Refusal. yaml.YAMLError for malformed YAML
    is the caller's to report (it carries its own mark)."""
    _check_text(text)
    loader = Yaml12Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None
        _check_tree(root)
        try:
            data = loader.construct_document(root)
        except (ValueError, TypeError, OverflowError) as exc:  # a scalar its tag cannot hold
            raise Refusal(_line(root), f"a value YAML cannot read: {exc}") from None
        return root, data
    finally:
        loader.dispose()
