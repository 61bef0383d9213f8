"""Cloudflare ruleset expressions, built in one place so every ruleset quotes the same way."""
from __future__ import annotations

import json
from typing import Iterable


def quote(value: str) -> str:
    # Cloudflare's expression language uses double-quoted strings with backslash escapes, as JSON does.
    return json.dumps(value)


def host_in(hosts: Iterable[str]) -> str:
    hosts = sorted(set(hosts))
    if len(hosts) == 1:
        return f"http.host eq {quote(hosts[0])}"
    return "http.host in {" + " ".join(quote(h) for h in hosts) + "}"


def path_prefix(path: str) -> str:
    return f"starts_with(http.request.uri.path, {quote(path)})"


def path_is(path: str) -> str:
    return f"http.request.uri.path eq {quote(path)}"


def any_of(parts: Iterable[str]) -> str:
    parts = list(parts)
    return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"


def all_of(parts: Iterable[str]) -> str:
    parts = [p for p in parts if p]
    return parts[0] if len(parts) == 1 else "(" + " and ".join(parts) + ")"


def method_in(methods: Iterable[str]) -> str:
    methods = sorted(set(methods))
    return "http.request.method in {" + " ".join(quote(m) for m in methods) + "}"


def cookie_has(name: str) -> str:
    return f"http.cookie contains {quote(name + '=')}"
