"""Where a violation lives: a line of the stack file, else the infra source that declares the resource."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from infra.spec.stackfile import line_of

from .props import DNS_RECORD

INFRA_DIR = Path(__file__).resolve().parent.parent / "infra"


def _record_keys(spec: Any, inputs: dict) -> tuple[list[str], list[str]]:
    """(keys that declare this very record, broader sections that build records of its kind)."""
    name = str(inputs.get("name", "")).lower().rstrip(".")
    rtype = str(inputs.get("type", "")).upper()
    exact: list[str] = []
    broad: list[str] = []
    if spec is None:
        return exact, broad
    for i, host in enumerate(getattr(spec, "hosts", []) or []):
        if host.name == name and rtype in ("A", "AAAA", "CNAME"):
            exact += [f"hosts[{i}].proxied", f"hosts[{i}]"]
    for i, rec in enumerate(getattr(spec, "records", []) or []):
        if rec.name == name and rec.type == rtype:
            exact.append(f"records[{i}]")
    if rtype == "CAA":
        broad.append("caa")
    if rtype in ("TXT", "MX") or "_domainkey" in name:
        broad.append("mail")
    return exact, broad


@lru_cache(maxsize=64)
def _infra_declaration(type_token: str) -> tuple[str, int] | None:
    """The first line in infra/ that constructs a resource of this type (e.g. `cloudflare.ZoneSetting(`)."""
    cls = type_token.rsplit(":", 1)[-1]
    if not cls or not INFRA_DIR.is_dir():
        return None
    pattern = re.compile(rf"\b{re.escape(cls)}\(")
    for path in sorted(INFRA_DIR.rglob("*.py")):
        try:
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(line) and "class " not in line:
                    return str(path.relative_to(INFRA_DIR.parent)), n
        except OSError:
            continue
    return None


def locate(rule: Any, resource: Any, spec: Any, source: Any, message: str = "") -> tuple[str | None, int | None]:
    """The stack-file line of the most specific key that explains the violation, in this order:
    the rule's own locator (the exact key a message names), the record's own declaration, the
    rule's usual keys, the section that builds records of that kind; else the infra source."""
    keys: list[str] = []
    locate_keys = getattr(rule, "locate_keys", None)
    if locate_keys is not None:
        keys += locate_keys(message, resource, spec)
    broad: list[str] = []
    if resource is not None and resource.type == DNS_RECORD:
        exact, broad = _record_keys(spec, resource.inputs)
        keys += exact
    keys += list(getattr(rule, "spec_keys", ()) or ())
    keys += broad
    lines = getattr(source, "lines", {}) or {}
    for key in keys:
        # The key itself only: a rule's keys are ordered most specific first, so a missing key
        # falls to the next one, not to its own parent.
        line = line_of(lines, key, nearest=False)
        if line is not None:
            return source.file, line
    if resource is not None:
        found = _infra_declaration(resource.type)
        if found:
            return found
    return (getattr(source, "file", None), 1) if getattr(source, "file", None) else (None, None)
