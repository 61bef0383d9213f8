"""Where a violation lives: a line of the stack file, else the infra source that declares the resource."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

from .props import DNS_RECORD

INFRA_DIR = Path(__file__).resolve().parent.parent / "infra"


def _record_keys(spec: Any, inputs: dict) -> list[str]:
    name = str(inputs.get("name", "")).lower().rstrip(".")
    rtype = str(inputs.get("type", "")).upper()
    keys: list[str] = []
    if spec is None:
        return keys
    for i, host in enumerate(getattr(spec, "hosts", []) or []):
        if host.name == name and rtype in ("A", "AAAA", "CNAME"):
            keys += [f"hosts[{i}].proxied", f"hosts[{i}]"]
    for i, rec in enumerate(getattr(spec, "records", []) or []):
        if rec.name == name and rec.type == rtype:
            keys.append(f"records[{i}]")
    if rtype == "CAA":
        keys.append("caa")
    if rtype in ("TXT", "MX") or "_domainkey" in name:
        keys.append("mail")
    return keys


@lru_cache(maxsize=64)
def _infra_declaration(type_token: str) -> Optional[tuple[str, int]]:
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


def locate(rule: Any, resource: Any, spec: Any, source: Any) -> tuple[Optional[str], Optional[int]]:
    keys: list[str] = []
    if resource is not None and resource.type == DNS_RECORD:
        keys += _record_keys(spec, resource.inputs)
    keys += list(getattr(rule, "spec_keys", ()) or ())
    lines = getattr(source, "lines", {}) or {}
    for key in keys:
        if key in lines:
            return source.file, lines[key]
    if resource is not None:
        found = _infra_declaration(resource.type)
        if found:
            return found
    return (getattr(source, "file", None), 1) if getattr(source, "file", None) else (None, None)
