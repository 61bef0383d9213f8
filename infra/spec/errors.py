"""Turn validation failures into messages a person can act on.

Every message names the key path (hosts[2].name), the offending value and what was expected, with
file:line when the spec came from a stack file. Values under secret-looking keys are never echoed.
"""
from __future__ import annotations

import difflib
import re
import typing
from dataclasses import dataclass

from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel

from .redact import redact

_SECRETISH = re.compile(r"(secret|password|passwd|token|key|credential|private|value)", re.I)


@dataclass(frozen=True)
class SpecIssue:
    path: str
    message: str
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: " if self.file and self.line else (f"{self.file}: " if self.file else "")
        return f"{where}{self.path}: {self.message}" if self.path else f"{where}{self.message}"


class SpecError(Exception):
    """The spec is malformed; carries every problem found in one run, not just the first.

    `more_after` is set when some checks could not run because of these problems (the file does not
    parse, a key is given twice, a section is invalid): the message says so, and what waits."""

    def __init__(self, issues: list[SpecIssue], file: str | None = None, more_after: str = ""):
        self.issues = issues
        self.file = file
        self.more_after = more_after
        super().__init__(self.render())

    def render(self) -> str:
        # A line of its own that names the file too, as every other line does (CI annotations, grep).
        after = (f"{self.file + ': ' if self.file else ''}fix {'this' if len(self.issues) == 1 else 'these'} first; "
                 f"more checks run after ({self.more_after})")
        if len(self.issues) == 1 and not self.issues[0].path:
            # a file-level problem (not found, not YAML)
            return str(self.issues[0]) + (f"\n  {after}" if self.more_after else "")
        head = f"{self.file}: " if self.file else ""
        n = len(self.issues)
        lines = [f"{head}{n} problem{'s' if n != 1 else ''} in the stack spec:"]
        lines += [f"  {issue}" for issue in self.issues]
        if self.more_after:
            lines.append(f"  {after}")
        return "\n".join(lines)


def format_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def parse_path(text: str) -> tuple:
    """The inverse of format_path: 'hosts[1].name' → ('hosts', 1, 'name')."""
    out: list = []
    for part in text.split("."):
        if "[" in part:
            key, idx = part.rstrip("]").split("[")
            out += [key, int(idx)]
        else:
            out.append(part)
    return tuple(out)


def is_secret_path(loc: tuple) -> bool:
    return any(isinstance(p, str) and (p == "secrets" or _SECRETISH.search(p)) for p in loc)


def _show(value, loc) -> str:
    if is_secret_path(loc):
        return "(value hidden)"
    text = redact(repr(value))
    return text if len(text) <= 80 else text[:77] + "...'"


def _submodel_at(root: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The model class that holds the key at `loc` (to suggest the right spelling of a typo)."""
    model = root
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = next((f for n, f in model.model_fields.items() if n == part or f.alias == part), None)
        if field is None:
            return None
        ann = field.annotation
        # unwrap Optional[X], list[X], dict[str, X]
        for _ in range(3):
            args = [a for a in typing.get_args(ann) if a is not type(None)]
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                break
            ann = args[-1] if args else ann
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return None
        model = ann
    return model


# Shapes a null value was expected to have, by pydantic error type.
_SHAPE = {"list_type": "a list", "model_type": "a mapping of keys", "model_attributes_type": "a mapping of keys",
          "dict_type": "a mapping of keys", "string_type": "a string", "int_type": "an integer",
          "bool_type": "true or false"}


def _field_doc(root: type[BaseModel], loc: tuple) -> str | None:
    """The field's description (its unit: "seconds, e.g. 60"), to say what was expected."""
    model = _submodel_at(root, loc)
    name = next((p for p in reversed(loc) if isinstance(p, str)), None)
    if model is None or name is None:
        return None
    field = next((f for n, f in model.model_fields.items() if n == name or f.alias == name), None)
    return field.description if field is not None else None


def issues_from_validation(exc: ValidationError, root: type[BaseModel], *, cross: bool = True) -> list[SpecIssue]:
    """The issues of a validation failure; with cross=False, without the cross-section ones."""
    issues: list[SpecIssue] = []
    for err in exc.errors(include_url=False):
        loc, kind = tuple(err["loc"]), err["type"]
        if kind == "launchready_cross":
            if not cross:
                continue
            issues += [SpecIssue(format_path(p), m) for p, m in (err.get("ctx") or {})["problems"]]
            continue
        # "function-..." wrap validators, "tag-..." discriminated unions (secretspec.Rotation): not keys.
        loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith(("function-", "tag-"))))
        if loc[-1:] == ("[key]",):
            # A mapping key that is not allowed (dict[Literal[...], ...]): name the key, not "[key]".
            loc = loc[:-1]
            if kind == "literal_error":
                issues.append(SpecIssue(format_path(loc), f"unknown key (expected one of: {err['ctx']['expected']})"))
                continue
        issues.append(SpecIssue(format_path(loc), _message(err, loc, root)))
    return issues


def _message(err: dict, loc: tuple, root: type[BaseModel]) -> str:
    """What one pydantic error means for the key at `loc`, said the way a person fixes it."""
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    path = format_path(loc)
    if kind == "extra_forbidden":
        model = _submodel_at(root, loc)
        known = sorted(f.alias or n for n, f in model.model_fields.items()) if model else []
        camel = to_camel(str(loc[-1]))
        if camel in known and camel != loc[-1]:
            return f"unknown key (did you mean {camel!r}? stack files use camelCase keys)"
        guess = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f" (did you mean {guess[0]!r}?)" if guess else (f" (expected one of: {', '.join(known)})" if known else "")
        return f"unknown key{hint}"
    if kind == "missing":
        where = f" (add launchready:{path} under config:)" if len(loc) == 1 else ""
        return f"is required but missing{where}"
    if value is None and kind in _SHAPE:
        # `hosts:` with nothing after it: YAML reads null.
        return f"is empty (expected {_SHAPE[kind]})"
    if kind == "literal_error":
        return f"{_show(value, loc)} is not allowed (expected {ctx.get('expected')})"
    if kind in ("value_error", "assertion_error"):
        msg = str(ctx.get("error", err["msg"]))
        if msg[:1].isalpha() and ":" in msg.split(" ")[0]:
            return msg  # already names its own key ("origin: ...")
        elif msg.startswith(("is ", "must ", "expected ")):
            return f"{_show(value, loc)} {msg}"
        else:
            return msg
    if kind in ("int_parsing", "int_type", "int_from_float"):
        unit = _field_doc(root, loc)
        return f"{_show(value, loc)} is not an integer" + (f" ({unit})" if unit else "")
    if kind in ("bool_type", "bool_parsing"):
        return f"{_show(value, loc)} is not a boolean (expected true or false)"
    if kind in ("string_type",):
        return f"{_show(value, loc)} is not a string"
    if kind in ("list_type",):
        if isinstance(value, dict):
            return "is a mapping, expected a list (start each item with '- ')"
        else:
            return f"{_show(value, loc)} is not a list (write [a, b], or one '- item' per line)"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        if isinstance(value, list):
            return "is a list, expected a mapping of keys (write `key: value` lines without '- ')"
        else:
            return f"{_show(value, loc)} is not a mapping of keys (expected `key: value` lines)"
    if kind == "string_pattern_mismatch":
        return f"{_show(value, loc)} does not match the expected format {ctx.get('pattern')}"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')} item(s)"
    if kind == "greater_than_equal" or kind == "less_than_equal" or kind == "greater_than":
        return f"{_show(value, loc)}: {err['msg'].lower()}"
    return f"{_show(value, loc)}: {err['msg']}"
