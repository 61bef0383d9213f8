"""Which strings are credentials: the detect-secrets plugins every secret scan here uses.

The gate's repository scan, its stack-file and state scans, and the policy rules that look for a
credential in an ordinary value all recognise credentials with the same high-signal plugins: ones
that match a credential by its own shape. detect-secrets' keyword and entropy plugins are left out
of the default set (they would flag ids, hashes and ARNs); the repository scan adds them on request.

detect-secrets lacks some credentials a client portal holds; `SHAPES` adds them, each with its
documented shape, for every text scan (the repository scan and the JS-bundle scan,
infra.knowledge.bundlesecrets): Supabase service-role JWTs and secret keys, Cloudflare API tokens and
global API keys (the 2026 prefixed ones anywhere, the older unprefixed ones only next to a Cloudflare
name), Postmark server tokens next to a Postmark name, AWS secret access keys next to their name.
A shape is an anchor that is cheap to find plus a bounded regex run only in a window around it, so
a scan stays linear on a multi-megabyte single-line file.
"""
from __future__ import annotations

import base64
import binascii
import importlib
import inspect
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

# (detect-secrets module, plugin class) of the high-signal plugins.
HIGH_SIGNAL_PLUGINS: tuple[tuple[str, str], ...] = (
    ("aws", "AWSKeyDetector"), ("artifactory", "ArtifactoryDetector"),
    ("azure_storage_key", "AzureStorageKeyDetector"), ("basic_auth", "BasicAuthDetector"),
    ("discord", "DiscordBotTokenDetector"), ("github_token", "GitHubTokenDetector"),
    ("gitlab_token", "GitLabTokenDetector"), ("jwt", "JwtTokenDetector"), ("mailchimp", "MailchimpDetector"),
    ("npm", "NpmDetector"), ("openai", "OpenAIDetector"), ("private_key", "PrivateKeyDetector"),
    ("pypi_token", "PypiTokenDetector"), ("sendgrid", "SendGridDetector"), ("slack", "SlackDetector"),
    ("square_oauth", "SquareOAuthDetector"), ("stripe", "StripeDetector"),
    ("telegram_token", "TelegramBotTokenDetector"), ("twilio", "TwilioKeyDetector"),
)
PLUGIN_NAMES = tuple(name for _, name in HIGH_SIGNAL_PLUGINS)

# For one value (a resource input, a config value) rather than a file, a narrower set: Telegram's
# `<digits>:<35 characters>` matches every SNS topic or alarm ARN (`123456789012:portal-alerts...`).
# Artifactory, Azure storage key and Square OAuth have not been shown safe on ids and ARNs either.
VALUE_PLUGINS = tuple(p for p in HIGH_SIGNAL_PLUGINS if p[1] not in (
    "TelegramBotTokenDetector", "ArtifactoryDetector", "AzureStorageKeyDetector", "SquareOAuthDetector"))


def plugins(which: tuple[tuple[str, str], ...] = HIGH_SIGNAL_PLUGINS) -> list:
    """Fresh instances of the plugins (detect-secrets plugins keep per-scan state)."""
    out = []
    for module_name, class_name in which:
        module = importlib.import_module(f"detect_secrets.plugins.{module_name}")
        cls = getattr(module, class_name)
        assert inspect.isclass(cls), class_name
        out.append(cls())
    return out


@lru_cache(maxsize=1)
def _value_plugins() -> tuple:
    return tuple(plugins(VALUE_PLUGINS))


@lru_cache(maxsize=65536)
def credential_kind(value: str) -> str | None:
    """The detect-secrets plugin name that recognises `value` as a credential, or None.

    Cached: the same ids, ARNs and tags recur on thousands of resources."""
    if len(value) < 12:
        return None
    for plugin in _value_plugins():
        try:
            if any(True for _ in plugin.analyze_string(value)):
                return plugin.secret_type
        except Exception:  # noqa: BLE001 - a plugin choking on odd input is not a finding
            continue
    return None


# -- shapes detect-secrets lacks --------------------------------------------------------------------

CRITICAL, HIGH, LOW = "critical", "high", "low"      # infra.findings.model.SEVERITIES


@dataclass(frozen=True)
class Shape:
    """A credential shape: `anchor` (a literal-led regex; a bytes one runs over the ASCII-lowercased
    text) is searched over the whole text, `regex` (group "s" is the secret; every quantifier bounded)
    only over [anchor start - before, anchor end + after). `judge(match)` may rename the hit
    (kind, severity) or drop it (None)."""

    kind: str
    severity: str
    anchor: str | bytes
    before: int
    after: int
    regex: str
    judge: Callable[[re.Match], tuple[str, str] | None] | None = None

    @property
    def folded(self) -> bool:
        return isinstance(self.anchor, bytes)


@dataclass(frozen=True)
class ShapeMatch:
    offset: int
    secret: str
    kind: str
    severity: str


def jwt_role(payload_b64: str) -> str | None:
    """The `role` claim of a JWT payload (base64url, at most 8 KiB), or None."""
    if len(payload_b64) > 8192:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    role = data.get("role") if isinstance(data, dict) else None
    return role if isinstance(role, str) else None


# role claim -> (kind, severity). Any other JWT (a Supabase anon key, public by design; a session token)
# is not a credential leak by itself.
PRIVILEGED_JWT_ROLES = {"service_role": ("Supabase service-role key", CRITICAL),
                        "supabase_admin": ("Supabase admin key", CRITICAL)}


def _privileged_jwt(m: re.Match) -> tuple[str, str] | None:
    return PRIVILEGED_JWT_ROLES.get(jwt_role(m.group("p")) or "")


def _cloudflare_kind(m: re.Match) -> tuple[str, str]:
    value = m.group("s")
    if value.startswith("cfk_") or (len(value) != 40 and re.fullmatch("[0-9a-f]+", value)):
        return "Cloudflare global API key", CRITICAL
    return "Cloudflare API token", CRITICAL


_B64URL = "[A-Za-z0-9_-]"
# After a name (whose characters never include these): an optional quote, ":" "=" "(" or ",", a quote.
_ASSIGN = r"""["'`]?\s{0,4}[:=(,]\s{0,4}["'`]"""
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

SHAPES: tuple[Shape, ...] = (
    # A JWT is reported only for a privileged role claim (Supabase's service_role bypasses RLS).
    Shape("Supabase service-role key", CRITICAL, "eyJ", 0, 10_300,
          rf"(?<!{_B64URL})(?P<s>eyJ{_B64URL}{{2,1024}}+\.(?P<p>{_B64URL}{{2,8192}}+)\.{_B64URL}{{0,1024}}+)(?!{_B64URL})",
          _privileged_jwt),
    # Supabase's 2025 keys: sb_secret_ (server only); sb_publishable_ is public and never matches.
    Shape("Supabase secret key", CRITICAL, "sb_secret_", 0, 140,
          r"(?<![A-Za-z0-9_])(?P<s>sb_secret_[A-Za-z0-9_-]{20,120}+)(?![A-Za-z0-9_-])"),
    Shape("Supabase access token", CRITICAL, "sbp_", 0, 44, r"(?<![A-Za-z0-9_])(?P<s>sbp_[0-9a-f]{40})(?![A-Za-z0-9])"),
    # Cloudflare (developers.cloudflare.com/fundamentals/api/get-started/token-formats): since 2026
    # cfk_ (global API key), cfut_ (user token), cfat_ (account token) + 40 characters + a checksum;
    # before that, tokens are 40 characters [A-Za-z0-9_-] and global keys 37-45 lowercase hex, with
    # nothing to tell them from any id: reported only next to a Cloudflare name (or X-Auth-Key).
    Shape("Cloudflare API token", CRITICAL, r"cf(?:k|ut|at)_", 0, 90,
          r"(?<![A-Za-z0-9_])(?P<s>cf(?:k|ut|at)_[A-Za-z0-9_-]{40,80}+)(?![A-Za-z0-9_-])", _cloudflare_kind),
    Shape("Cloudflare API token", CRITICAL, rb"c(?:loudflare|f[_-]?(?:api|token|key|global|auth))", 0, 140,
          r"(?i:cloudflare|(?<![A-Za-z0-9])cf)[A-Za-z0-9_.-]{0,30}+(?:(?<=[Tt][Oo][Kk][Ee][Nn])|(?<=[Kk][Ee][Yy]))"
          rf"{_ASSIGN}(?P<s>[A-Za-z0-9_-]{{40}}|[0-9a-f]{{37,45}})[\"'`]", _cloudflare_kind),
    Shape("Cloudflare global API key", CRITICAL, rb"x-auth-key", 0, 70,
          rf"(?i:x-auth-key){_ASSIGN}(?P<s>[0-9a-f]{{37,45}})[\"'`]"),
    # Postmark server and account tokens are UUIDs: only next to a Postmark name or header.
    Shape("Postmark API token", HIGH, rb"postmark", 0, 140,
          rf"(?i:postmark)[A-Za-z0-9_.-]{{0,40}}+{_ASSIGN}(?P<s>(?i:{_UUID}))[\"'`]"),
    # AWS secret access keys: 40 characters [A-Za-z0-9/+], only next to their name.
    Shape("AWS secret access key", CRITICAL, rb"secret[_-]?access[_-]?key", 0, 100,
          rf"(?i:secret[_-]?access[_-]?key){_ASSIGN}(?P<s>[A-Za-z0-9/+]{{40}})[\"'`]"),
)


@lru_cache(maxsize=64)
def _compiled(shape: Shape) -> tuple[re.Pattern, re.Pattern]:
    return re.compile(shape.anchor), re.compile(shape.regex)


MAX_ANCHOR = 64  # no anchor match is longer (the longest, Telegram's, is 36 characters)


def windows(anchor: re.Pattern, subject: str | bytes, before: int, after: int,
            chunk: int = 4096) -> Iterator[tuple[int, int, int]]:
    """(lo, mid, hi): read text[lo:hi], keep what starts before `mid`. From each anchor found, a chunk
    of `chunk` characters of possible starts is read at once and the anchors inside it are skipped,
    not visited (a run of anchors costs one read, not one per anchor); `hi` leaves room for a match
    that starts just before `mid` (before + after + MAX_ANCHOR), so no match is cut short."""
    n = len(subject)
    chunk = max(chunk, before + after + MAX_ANCHOR)
    pos = 0
    while (a := anchor.search(subject, pos)) is not None:
        lo = max(0, a.start() - before)
        mid = min(n, max(lo + chunk, a.end() + 1))
        yield lo, mid, min(n, mid + before + after + MAX_ANCHOR)
        # an anchor that starts before mid - MAX_ANCHOR ends before mid: its secret starts in [lo, mid)
        pos = max(a.start() + 1, mid - MAX_ANCHOR)


def find_shapes(text: str, shapes: tuple[Shape, ...] = SHAPES, folded: bytes | None = None) -> Iterator[ShapeMatch]:
    """Every match of `shapes` in `text` (possibly repeated where windows overlap). `folded` is
    `text.encode("ascii", "replace").lower()` (one byte per character), computed when not given.
    Each regex starts at a token boundary (a lookbehind) and its runs are bounded, most possessive."""
    for shape in shapes:
        anchor, regex = _compiled(shape)
        if shape.folded and folded is None:
            folded = text.encode("ascii", "replace").lower()
        for lo, mid, hi in windows(anchor, folded if shape.folded else text, shape.before, shape.after):
            for m in regex.finditer(text, lo, hi):
                if m.start() >= mid:
                    break
                named = shape.judge(m) if shape.judge else (shape.kind, shape.severity)
                if named:
                    yield ShapeMatch(m.start("s"), m.group("s"), *named)
