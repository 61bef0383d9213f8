"""Secrets in client-side JavaScript: a text scanner for the bundles a browser downloads.

verify scans the portal's same-origin JS bundles with it, after deploy; the gate's repository scan
(policies/reposcan.py) recognises credentials with the same detect-secrets plugins
and the same credential shapes (`SHAPES`), both in infra.knowledge.credentials.

What is scanned, and why this way:
- The detect-secrets high-signal plugins, minus three that do not fit a bundle (`EXCLUDED_PLUGINS`),
  plus `infra.knowledge.credentials.SHAPES` (Supabase, Cloudflare, Postmark, AWS secret access keys)
  and `BUNDLE_SHAPES` here (Stripe keys live and test, OpenAI keys, JWT signing secrets, npm tokens).
- A minified bundle is one very long line. Every detector starts from a cheap anchor (a literal or a
  literal-led regex; the case-insensitive ones run over an ASCII-lowercased copy of the text) and
  runs its full regex, or the plugin's own `analyze_string`, only over a bounded window around the
  anchor. So no quantifier reaches further than its window, nothing backtracks across the file, and
  a plugin's unbounded regex (`[a-zA-Z0-9]{10,}`, `.+`) sees at most a few hundred characters.
- A token glued to a longer base64/alphanumeric run (embedded fonts, wasm, images) is not a token:
  a hit must not be preceded by [A-Za-z0-9+/].
- Public values are not reported: Stripe publishable keys (pk_live_/pk_test_) never match, a JWT is
  reported only when its payload names a privileged role (a Supabase anon key is public by design),
  Supabase publishable keys (sb_publishable_) never match.

Severity: critical for what grants account-wide control (Stripe live secret/restricted keys, AWS
secret access keys, Cloudflare tokens and keys, Supabase service-role and secret keys, private keys);
low for Stripe test-mode keys (sk_test_/rk_test_: no money moves, but test data and account settings
are exposed, and they should not ship either); high for everything else.

A hit never holds the secret: only a 16-hex-digit sha256 prefix (`fingerprint`), enough to tell two
reports of the same value apart from two different values. It is not a protection for a guessable
secret (a short jwtSecret can be found from its hash by trying candidates).
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from infra.knowledge.credentials import (
    CRITICAL,
    HIGH,
    HIGH_SIGNAL_PLUGINS,
    LOW,
    SHAPES,
    Shape,
    ShapeMatch,
    find_shapes,
    plugins,
    windows,
)

DEFAULT_MAX_BYTES = 16_000_000
DEFAULT_MAX_HITS = 1000

# detect-secrets plugins that do not run over bundles, and why.
EXCLUDED_PLUGINS = {
    "JwtTokenDetector": "every well-formed JWT, and a bundle carries public ones (Supabase anon keys); "
                        "SHAPES decodes the payload and reports privileged roles only",
    "OpenAIDetector": "its leading `[A-Za-z0-9-_]*` backtracks over the whole window at every `sk-`; the "
                      "OpenAI key shape of BUNDLE_SHAPES matches every key it does (and sk-proj- keys it misses)",
    "NpmDetector": "matches .npmrc lines; its `.+` runs to the end of the line, which in a minified bundle "
                   "is the rest of the file (and becomes the 'secret'); the npm_ token shape replaces it",
}

_TOKEN_BEFORE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


@dataclass(frozen=True)
class SecretHit:
    """One credential in a text: what it is and where (1-based line and column, in characters), and
    a severity of infra.findings.model.SEVERITIES; never its value: `fingerprint` is a short sha256
    prefix of it."""

    kind: str
    line: int
    column: int
    fingerprint: str
    severity: str = HIGH


def fingerprint(value: str) -> str:
    """The first 16 hex digits of sha256(value): compares two reports without the value."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _stripe(m: re.Match) -> tuple[str, str]:
    if m.group("mode") == "test":
        return "Stripe test key", LOW
    return ("Stripe secret key" if m.group("p") == "s" else "Stripe restricted key"), CRITICAL


_PLACEHOLDER = re.compile(r"\$\{|\{\{|^<.*>$|^process\.env")


def _jwt_secret(m: re.Match) -> tuple[str, str] | None:
    return None if _PLACEHOLDER.search(m.group("s")) else ("JWT signing secret", HIGH)


# Shapes worth reporting in a bundle but too noisy for a repository (test keys and JWT secrets sit
# in fixtures), or covered there by a plugin (npm, OpenAI legacy keys).
BUNDLE_SHAPES: tuple[Shape, ...] = (
    # Stripe secret (sk_) and restricted (rk_) keys, live and test; publishable pk_ keys never match.
    Shape("Stripe secret key", CRITICAL, r"k_(?:live|test)_", 1, 260,
          r"(?<![A-Za-z0-9])(?P<s>(?P<p>[sr])k_(?P<mode>live|test)_[0-9A-Za-z]{20,247}+)(?![0-9A-Za-z])", _stripe),
    # OpenAI keys: sk-, sk-proj-, sk-svcacct-, ... all carry "T3BlbkFJ" (base64 of "OpenAI").
    Shape("OpenAI API key", HIGH, "T3BlbkFJ", 220, 220,
          r"(?<![A-Za-z0-9_-])(?P<s>sk-[A-Za-z0-9_-]{20,200}T3BlbkFJ[A-Za-z0-9_-]{20,200})(?![A-Za-z0-9_-])"),
    # jwtSecret: "...", JWT_SECRET = '...', "jwt-signing-secret": `...` (16 to 512 characters).
    Shape("JWT signing secret", HIGH, rb"jwt", 0, 600,
          r"(?i:jwt[_-]?(?:signing[_-]?)?secret(?:[_-]?key)?)[\"'`]?\s{0,4}[:=]\s{0,4}(?P<q>[\"'`])"
          r"(?P<s>[^\"'`\s\\]{16,512})(?P=q)", _jwt_secret),
    Shape("npm access token", HIGH, "npm_", 0, 45, r"(?<![A-Za-z0-9_])(?P<s>npm_[A-Za-z0-9]{36})(?![A-Za-z0-9])"),
)


# -- the detect-secrets plugins ---------------------------------------------------------------------

# plugin class -> anchors (pattern, folded, before, after). Every plugin of credentials.HIGH_SIGNAL_PLUGINS
# is either here or in EXCLUDED_PLUGINS (tests/knowledge/test_bundlesecrets.py holds that).
PLUGIN_ANCHORS: dict[str, tuple[tuple, ...]] = {
    # its second regex (aws ... key ... '<40>') is anchored on the quoted 40-character value: anchored on
    # "aws", its lazy `.{0,20}?` runs at every "aws" of the text
    "AWSKeyDetector": ((r"A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA", False, 0, 24),
                       (r"['\"][0-9a-zA-Z/+]{40}['\"]", False, 64, 0)),
    "ArtifactoryDetector": ((r"AKC|AP[\dA-F]", False, 1, 200),),
    "AzureStorageKeyDetector": ((r"AccountKey=", False, 0, 100),),
    "BasicAuthDetector": ((r"://", False, 0, 256),),
    "DiscordBotTokenDetector": ((r"\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27}", False, 27, 40),),
    "GitHubTokenDetector": ((r"gh[pousr]_", False, 0, 44),),
    "GitLabTokenDetector": ((r"gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-|GR1348941", False, 0, 1100),),
    "MailchimpDetector": ((r"-us\d", False, 32, 4),),
    "PrivateKeyDetector": ((r"PRIVATE KEY|PuTTY-User-Key-File-2", False, 30, 12),),  # pragma: allowlist secret
    "PypiTokenDetector": ((r"pypi-AgE", False, 0, 400),),
    "SendGridDetector": ((r"SG\.", False, 0, 70),),
    "SlackDetector": ((rb"xox[abposr]-", True, 0, 200), (rb"hooks\.slack\.com/services/", True, 8, 200)),
    "SquareOAuthDetector": ((r"sq0csp-", False, 0, 52),),
    "StripeDetector": ((r"k_live_", False, 1, 30),),
    "TelegramBotTokenDetector": ((r":[0-9A-Za-z_-]{35}", False, 10, 35),),
    "TwilioKeyDetector": ((r"AC[a-z0-9]{32}", False, 0, 34), (r"SK[a-z0-9]{32}", False, 0, 34)),
}
_PLUGIN_SEVERITY = {"PrivateKeyDetector": CRITICAL}
# Plugin regexes are not ours to bound (`{10,}`, `*`): their windows stay short, so a plugin's
# worst case (quadratic in its window) stays small.
_PLUGIN_CHUNK = 1024
_STRIP = " \t\r\n\"'=:"


@dataclass(frozen=True)
class _PluginAnchor:
    plugin: object
    anchor: re.Pattern
    folded: bool
    before: int
    after: int


@lru_cache(maxsize=1)
def _plugin_anchors() -> tuple[_PluginAnchor, ...]:
    wanted = tuple(p for p in HIGH_SIGNAL_PLUGINS if p[1] not in EXCLUDED_PLUGINS)
    return tuple(_PluginAnchor(plugin, re.compile(a), isinstance(a, bytes), before, after)
                 for plugin in plugins(wanted) for a, _, before, after in PLUGIN_ANCHORS[type(plugin).__name__])


def _plugin_window(plugin, text: str, lo: int, hi: int) -> Iterator[ShapeMatch]:
    """The plugin's own analyze_string over text[lo:hi], each secret located in the window (every
    occurrence: two equal secrets in one window are two hits). The windows overlap (see
    credentials.windows), so what one cuts short the next reads whole."""
    window = text[lo:hi]
    try:
        secrets = {s.strip(_STRIP) for s in plugin.analyze_string(window) if s}
    except Exception:  # noqa: BLE001 - a plugin choking on odd input is not a finding
        return
    severity = _PLUGIN_SEVERITY.get(type(plugin).__name__, HIGH)
    for secret in secrets:
        at = window.find(secret) if secret else -1
        while at >= 0:
            if lo + at + len(secret) < hi or hi == len(text):   # one that runs into the cut may be cut short
                yield ShapeMatch(lo + at, secret, plugin.secret_type, severity)
            at = window.find(secret, at + 1)


def _plugin_matches(text: str, folded: bytes, pa: _PluginAnchor) -> Iterator[ShapeMatch]:
    for lo, _, hi in windows(pa.anchor, folded if pa.folded else text, pa.before, pa.after, _PLUGIN_CHUNK):
        yield from _plugin_window(pa.plugin, text, lo, hi)


# -- the scan ---------------------------------------------------------------------------------------

def _bounded(text: str, max_bytes: int) -> str:
    """At most `max_bytes` of the text's UTF-8 (cut at a character boundary)."""
    if len(text) > max_bytes:
        text = text[:max_bytes]
    if len(text) * 4 <= max_bytes:
        return text
    data = text.encode("utf-8", "surrogatepass")
    return text if len(data) <= max_bytes else data[:max_bytes].decode("utf-8", "ignore")


def _matches(text: str, max_hits: int) -> list[ShapeMatch]:
    """One match per offset, in order; the named shapes come first, so their names win over a
    plugin's at the same offset; a match glued to a longer base64/alphanumeric run is dropped.
    Each detector stops after its first `max_hits` (the earliest overall are among those)."""
    folded = text.encode("ascii", "replace").lower()       # one byte per character: offsets hold
    by_offset: dict[int, ShapeMatch] = {}
    detectors = [find_shapes(text, (shape,), folded) for shape in BUNDLE_SHAPES + SHAPES]
    detectors += [_plugin_matches(text, folded, pa) for pa in _plugin_anchors()]
    for found in detectors:
        kept = 0
        for m in found:
            if m.offset in by_offset or (m.offset > 0 and text[m.offset - 1] in _TOKEN_BEFORE):
                continue
            by_offset[m.offset] = m
            kept += 1
            if kept >= max_hits:
                break
    return sorted(by_offset.values(), key=lambda m: m.offset)


def _without_overlaps(found: list[ShapeMatch]) -> list[ShapeMatch]:
    """One hit per span: a match that starts inside an earlier one goes."""
    out: list[ShapeMatch] = []
    for m in found:
        if not out or m.offset >= out[-1].offset + len(out[-1].secret):
            out.append(m)
    return out


def scan_text(text: str, *, max_bytes: int = DEFAULT_MAX_BYTES, max_hits: int = DEFAULT_MAX_HITS) -> list[SecretHit]:
    """The credentials in `text` (a JS bundle, or any text), in order of position: the first
    `max_hits` of them (a text with more is not a bundle but a list of keys; the cap bounds the time
    such a text takes).

    Only the first `max_bytes` of its UTF-8 are scanned (compare `len(text.encode())` to know whether
    the rest was left out). Line and column are 1-based; the column counts characters (code points)
    from the last "\\n". Never returns, and never keeps, a secret value."""
    text = _bounded(text, max_bytes)
    out: list[SecretHit] = []
    line, line_start, prev = 1, 0, 0
    for m in _without_overlaps(_matches(text, max_hits))[:max_hits]:     # newlines counted once, left to right: O(len(text))
        line += text.count("\n", prev, m.offset)
        last = text.rfind("\n", prev, m.offset)
        if last >= 0:
            line_start = last + 1
        prev = m.offset
        out.append(SecretHit(m.kind, line, m.offset - line_start + 1, fingerprint(m.secret), m.severity))
    return out
