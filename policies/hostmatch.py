"""Which hosts a Cloudflare rule expression is limited to: exact names and wildcard patterns, minus exclusions.

The program writes host conditions three ways (infra/edgerules.py): `http.host eq "a"`,
`http.host in {"a" "b"}` and, for a tenant group, `http.host wildcard "*.portal.example.com"` with
`not http.host in {...}` / `not http.host wildcard "*.x.portal.example.com"` exclusions, joined by
and/or/not and parentheses. `host_match(expression)` reads any such expression into a HostMatch: a
union of terms, each a set of names and patterns minus excluded names and patterns.

Conditions on other fields do not limit the host. A host condition this module cannot read (a regex
`matches`, `contains`, a managed list) limits nothing, as does `xor`. Where an `and` of two patterns
is not itself a pattern the result is taken narrower, never wider.

Cloudflare's `wildcard` operator (all plans): `*` matches zero or more of any character, dots
included, case-insensitively; `\\*` is a literal star. Host names are compared in lower case.
"""
from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

_STAR = ""  # the token of an unescaped `*` (every other token is one character)


@functools.lru_cache(maxsize=4096)
def _tokens(pattern: str) -> tuple[str, ...]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            out.append(pattern[i + 1].lower())
            i += 2
            continue
        out.append(_STAR if pattern[i] == "*" else pattern[i].lower())
        i += 1
    return tuple(out)


@functools.lru_cache(maxsize=4096)
def _regex(pattern: str) -> re.Pattern:
    return re.compile("".join(".*" if t == _STAR else re.escape(t) for t in _tokens(pattern)), re.S)


def glob_match(pattern: str, host: str) -> bool:
    """Whether `http.host wildcard pattern` is true for `host`."""
    return _regex(pattern).fullmatch(host.lower()) is not None


@functools.lru_cache(maxsize=4096)
def glob_covers(outer: str, inner: str) -> bool:
    """Whether every host `inner` matches, `outer` matches too: outer's stars may absorb any run of
    inner's characters and stars, a literal only the same literal."""
    p, q = _tokens(outer), _tokens(inner)
    reach = [[False] * (len(q) + 1) for _ in range(len(p) + 1)]
    reach[0][0] = True
    for i in range(len(p) + 1):
        for j in range(len(q) + 1):
            if not reach[i][j] or i == len(p):
                continue
            if p[i] == _STAR:
                reach[i + 1][j] = True
                if j < len(q):
                    reach[i][j + 1] = True
            elif j < len(q) and q[j] != _STAR and p[i] == q[j]:
                reach[i + 1][j + 1] = True
    return reach[len(p)][len(q)]


@functools.lru_cache(maxsize=4096)
def glob_meets(a: str, b: str) -> bool:
    """Whether some host matches both patterns."""
    p, q = _tokens(a), _tokens(b)
    reach = [[False] * (len(q) + 1) for _ in range(len(p) + 1)]
    reach[0][0] = True
    for i in range(len(p) + 1):
        for j in range(len(q) + 1):
            if not reach[i][j]:
                continue
            pi, qj = (p[i] if i < len(p) else None), (q[j] if j < len(q) else None)
            if pi == _STAR:
                reach[i + 1][j] = True
            if qj == _STAR:
                reach[i][j + 1] = True
            if pi == _STAR and qj not in (None, _STAR):
                reach[i][j + 1] = True
            if qj == _STAR and pi not in (None, _STAR):
                reach[i + 1][j] = True
            if pi is not None and pi == qj and pi != _STAR:
                reach[i + 1][j + 1] = True
    return reach[len(p)][len(q)]


def _fs(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.lower().rstrip(".") for v in values)


@dataclass(frozen=True)
class HostTerm:
    """(names ∪ hosts matching patterns) − (except_names ∪ hosts matching except_patterns)."""

    names: frozenset[str] = frozenset()
    patterns: frozenset[str] = frozenset()
    except_names: frozenset[str] = frozenset()
    except_patterns: frozenset[str] = frozenset()

    def positive(self, host: str) -> bool:
        return host in self.names or any(glob_match(p, host) for p in self.patterns)

    def excluded(self, host: str) -> bool:
        return host in self.except_names or any(glob_match(p, host) for p in self.except_patterns)

    def matches(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return self.positive(host) and not self.excluded(host)

    def covers_pattern(self, pattern: str, within: HostTerm) -> bool:
        """Whether this term matches every host of `pattern` that `within` does not exclude."""
        if not any(glob_covers(p, pattern) for p in self.patterns):
            return False
        if any(glob_match(pattern, x) and not within.excluded(x) for x in self.except_names):
            return False
        return all(not glob_meets(xp, pattern) or any(glob_covers(w, xp) for w in within.except_patterns)
                   for xp in self.except_patterns)

    def meet(self, other: HostTerm) -> HostTerm | None:
        names = {n for n in self.names if other.positive(n)} | {n for n in other.names if self.positive(n)}
        patterns = set()
        for p in self.patterns:
            for q in other.patterns:
                if glob_covers(p, q):
                    patterns.add(q)
                elif glob_covers(q, p):
                    patterns.add(p)
        if not names and not patterns:
            return None
        return HostTerm(frozenset(names), frozenset(patterns), self.except_names | other.except_names,
                        self.except_patterns | other.except_patterns)

    def negation(self) -> HostMatch:
        """Every host but this term's: (* − positives) ∪ exclusions."""
        terms = [HostTerm(patterns=frozenset({"*"}), except_names=self.names, except_patterns=self.patterns)]
        if self.except_names or self.except_patterns:
            terms.append(HostTerm(self.except_names, self.except_patterns))
        return HostMatch(tuple(terms))

    def describe(self, limit: int) -> str:
        text = _listing(sorted(self.names) + sorted(self.patterns), limit) or "no host"
        if text == "*":
            text = "every host"
        excepted = _listing(sorted(self.except_names) + sorted(self.except_patterns), limit)
        return f"{text} except {excepted}" if excepted else text


def _listing(items: list[str], limit: int) -> str:
    more = f" and {len(items) - limit:,} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


@dataclass(frozen=True)
class HostMatch:
    """The hosts an expression is limited to: a union of HostTerms."""

    terms: tuple[HostTerm, ...] = ()

    @classmethod
    def of(cls, names: Iterable[str] = (), patterns: Iterable[str] = (), except_names: Iterable[str] = (),
           except_patterns: Iterable[str] = ()) -> HostMatch:
        return cls((HostTerm(_fs(names), _fs(patterns), _fs(except_names), _fs(except_patterns)),))

    def matches(self, host: str) -> bool:
        return any(t.matches(host) for t in self.terms)

    def uncovered(self, other: HostMatch) -> list[str]:
        """The names and patterns of `other` this match does not wholly cover ([]: it covers them all)."""
        out: list[str] = []
        for t in other.terms:
            out += sorted(n for n in t.names if not t.excluded(n) and not self.matches(n))
            out += sorted(p for p in t.patterns if not any(s.covers_pattern(p, t) for s in self.terms))
        return out

    def covers(self, other: HostMatch) -> bool:
        return not self.uncovered(other)

    def meets(self, other: HostMatch) -> bool:
        """Whether some host is matched by both (exclusions of exact names considered; of patterns not)."""
        for s in self.terms:
            for t in other.terms:
                if any(s.matches(n) for n in t.names if not t.excluded(n)) or \
                        any(t.matches(n) for n in s.names if not s.excluded(n)):
                    return True
                if any(glob_meets(p, q) for p in s.patterns for q in t.patterns):
                    return True
        return False

    def union(self, other: HostMatch) -> HostMatch:
        plain = [t for t in self.terms + other.terms if not t.except_names and not t.except_patterns]
        rest = tuple(t for t in self.terms + other.terms if t.except_names or t.except_patterns)
        if len(plain) < 2:
            return HostMatch(tuple(plain) + rest)
        merged = HostTerm(frozenset().union(*(t.names for t in plain)), frozenset().union(*(t.patterns for t in plain)))
        return HostMatch((merged,) + rest)

    def intersect(self, other: HostMatch) -> HostMatch:
        met = (s.meet(t) for s in self.terms for t in other.terms)
        return HostMatch(tuple(m for m in met if m is not None))

    def negate(self) -> HostMatch:
        out = HostMatch.of(patterns=["*"])
        for t in self.terms:
            out = out.intersect(t.negation())
        return out

    def positives(self) -> list[str]:
        """Every name and pattern the match is built from (not its exclusions), sorted."""
        return sorted({v for t in self.terms for v in t.names | t.patterns})

    def describe(self, limit: int = 5) -> str:
        return "; ".join(t.describe(limit) for t in self.terms) or "no host"


# -- reading an expression ---------------------------------------------------------------------------

_TOKEN = re.compile(r'\s*(?:(?P<str>r?"(?:[^"\\]|\\.)*")|(?P<op>==|!=|>=|<=|&&|\|\||\^\^|[(){}\[\],!<>~])'
                    r'|(?P<word>[A-Za-z0-9_$][A-Za-z0-9_.$:/]*)|(?P<other>\S))')
_BOOL = {"and", "or", "xor", "&&", "||", "^^"}
_OPEN, _CLOSE = {"(", "[", "{"}, {")", "]", "}"}


def _tokenize(expression: str) -> list[tuple[str, str]]:
    return [(m.lastgroup or "", m.group(m.lastgroup or 0)) for m in _TOKEN.finditer(expression)
            if m.lastgroup is not None]


def _unquote(token: str) -> str:
    if token.startswith("r"):
        return token[2:-1]
    try:
        return json.loads(token)
    except ValueError:
        return token[1:-1]


def _and(a: HostMatch | None, b: HostMatch | None) -> HostMatch | None:
    return b if a is None else a if b is None else a.intersect(b)


def _or(a: HostMatch | None, b: HostMatch | None) -> HostMatch | None:
    return None if a is None or b is None else a.union(b)


class _Parser:
    """Recursive descent over and/or/not and parentheses; every comparison is read for its hosts."""

    def __init__(self, expression: str):
        self.toks, self.i, self.named = _tokenize(expression), 0, False

    def _peek(self) -> str:
        return self.toks[self.i][1].lower() if self.i < len(self.toks) else ""

    def any_of(self) -> HostMatch | None:
        left = self.all_of()
        while self._peek() in ("or", "||", "xor", "^^"):
            op = self.toks[self.i][1].lower()
            self.i += 1
            right = self.all_of()
            left = _or(left, right) if op in ("or", "||") else None
        return left

    def all_of(self) -> HostMatch | None:
        left = self.factor()
        while self._peek() in ("and", "&&"):
            self.i += 1
            left = _and(left, self.factor())
        return left

    def factor(self) -> HostMatch | None:
        if self._peek() in ("not", "!"):
            self.i += 1
            inner = self.factor()
            return None if inner is None else inner.negate()
        if self._peek() == "(":
            self.i += 1
            inner = self.any_of()
            if self._peek() == ")":
                self.i += 1
            return inner
        return self.comparison()

    def comparison(self) -> HostMatch | None:
        toks: list[tuple[str, str]] = []
        depth = 0
        while self.i < len(self.toks):
            kind, text = self.toks[self.i]
            if depth == 0 and (text == ")" or text.lower() in _BOOL):
                break
            depth += (kind == "op" and text in _OPEN) - (kind == "op" and text in _CLOSE)
            toks.append(self.toks[self.i])
            self.i += 1
        if not toks and self.i < len(self.toks) and self._peek() != ")":
            self.i += 1  # a stray operator: skip it rather than loop
        return self._hosts(toks)

    def _hosts(self, toks: list[tuple[str, str]]) -> HostMatch | None:
        if len(toks) < 3 or toks[0][1].lower() != "http.host":
            return None
        op, rest = toks[1][1].lower(), toks[2:]
        if op == "strict" and rest[0][1].lower() == "wildcard":
            op, rest = "wildcard", rest[1:]
        values = [_unquote(t) for k, t in rest if k == "str"]
        if op in ("eq", "==", "ne", "!=") and len(values) == 1:
            found = HostMatch.of(names=values)
            found = found if op in ("eq", "==") else found.negate()
        elif op == "in" and rest[0][1] == "{":
            found = HostMatch.of(names=values)
        elif op == "wildcard" and len(values) == 1:
            found = HostMatch.of(patterns=values)
        else:
            return None
        self.named = True
        return found


def host_match(expression: str) -> HostMatch | None:
    """The hosts `expression` is limited to, or None when it names no host it can read."""
    parser = _Parser(expression)
    try:
        found = parser.any_of()
    except (IndexError, ValueError):
        return None
    return found if parser.named else None


__all__ = ["HostMatch", "HostTerm", "glob_covers", "glob_match", "glob_meets", "host_match"]
