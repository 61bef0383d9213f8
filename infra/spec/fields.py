"""Reusable validated field types for the stack spec.

Each type raises a ValueError whose text is the user-facing message ("is not a valid hostname");
infra.spec.errors prefixes it with the key path, the offending value and the file:line.
"""
from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_UNDERSCORE_LABEL = re.compile(r"^_?(?!-)[a-z0-9_-]{1,63}(?<!-)$")


def normalise_hostname(value: str, *, allow_underscore: bool = False, allow_wildcard: bool = False) -> str:
    if not isinstance(value, str):
        raise ValueError("is not a valid hostname (expected a string)")
    name = value.strip().lower().rstrip(".")
    hint = _not_a_bare_name(name)
    if hint:
        raise ValueError(f"is not a valid hostname ({hint})")
    if not name or len(name) > 253 or " " in name:
        raise ValueError("is not a valid hostname")
    labels = name.split(".")
    if len(labels) < 2:
        raise ValueError("is not a valid hostname (expected a fully qualified name such as app.example.com)")
    pattern = _UNDERSCORE_LABEL if allow_underscore else _LABEL
    for i, label in enumerate(labels):
        if label == "*" and i == 0 and allow_wildcard:
            continue
        if not pattern.match(label):
            raise ValueError("is not a valid hostname")
    if labels[-1].isdigit():
        raise ValueError("is not a valid hostname (the last label is numeric)")
    return name


def _not_a_bare_name(text: str) -> str:
    """What is around the name when a URL or host:port was pasted where a bare name belongs."""
    if "://" in text:
        return "write the name alone, without the scheme " + repr(text.split("://", 1)[0] + "://")
    if "/" in text:
        return "write the name alone, without a path"
    host, sep, port = text.rpartition(":")
    if sep and port.isdigit() and host.count(":") == 0:
        return "write the name alone, without the port :" + port
    if "@" in text:
        return "a hostname, not an e-mail address"
    return ""


def _hostname(value: str) -> str:
    return normalise_hostname(value)


def _record_name(value: str) -> str:
    return normalise_hostname(value, allow_underscore=True, allow_wildcard=True)


def _ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise ValueError("is not a valid IPv4 or IPv6 address") from None


def _path(value: str) -> str:
    if not isinstance(value, str) or not value.startswith("/") or " " in value or "?" in value or "#" in value:
        raise ValueError("is not a valid URL path (expected something like /login, without query or fragment)")
    return value


def _positive(value: int) -> int:
    if value <= 0:
        raise ValueError("must be a positive number")
    return value


def _non_negative(value: int) -> int:
    if value < 0:
        raise ValueError("must be 0 or a positive number")
    return value


def _strict_int(value):
    # YAML gives bool for `yes`/`true`; an int field must not silently accept it.
    if isinstance(value, bool):
        raise ValueError("expected an integer, not a boolean")
    return value


Hostname = Annotated[str, AfterValidator(_hostname)]
RecordName = Annotated[str, AfterValidator(_record_name)]
IPAddress = Annotated[str, AfterValidator(_ip)]
UrlPath = Annotated[str, AfterValidator(_path)]
PositiveInt = Annotated[int, BeforeValidator(_strict_int), AfterValidator(_positive)]
StrictInt = Annotated[int, BeforeValidator(_strict_int)]
NonNegativeInt = Annotated[int, BeforeValidator(_strict_int), AfterValidator(_non_negative)]


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return False


def in_zone(name: str, apex: str) -> bool:
    return name == apex or name.endswith("." + apex)
