"""Set-Cookie as verify reads it: a name and its attributes; the value is dropped where it is read."""
from __future__ import annotations


def parse_set_cookie(value: str) -> tuple[str, dict[str, str]]:
    """(name, attributes lower-cased) of one Set-Cookie value; the cookie's value is dropped here."""
    first, *attrs = value.split(";")
    name = first.split("=", 1)[0].strip()
    out: dict[str, str] = {}
    for a in attrs:
        k, _, v = a.strip().partition("=")
        if k.strip():
            out[k.strip().lower()] = v.strip()
    return name, out
