"""What an error page or a served file gives away: stack traces, debug pages, internal paths, and the
signatures of files that must never be served (.env, .git, server status pages, source maps).

Signatures match the content, not the status: a single-page app answers every path with 200 and its
index HTML, which is neither a leak nor a served `.env`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# (kind, pattern). Patterns are bounded (no nested quantifiers) and run over at most a page's bytes.
_TRACE = [
    ("Python traceback", r"Traceback \(most recent call last\)"),
    ("Python frame", r'File "/[^"\n]{1,200}\.py", line \d{1,6}'),
    ("Django debug page", r"You're seeing this error because you have <code>DEBUG = True</code>|DEBUG = True in your Django settings"),
    ("Werkzeug debugger", r"Werkzeug Debugger|The debugger caught an exception in your WSGI application"),
    ("Flask/Starlette debug", r"starlette\.exceptions|uvicorn\.protocols\.http"),
    ("Java stack trace", r"(?:Exception|Error)(?::[^\n]{0,200})?\n\s{1,8}at [a-zA-Z_$][\w$.]{1,200}\([\w$]{1,100}\.java:\d{1,6}\)"),
    ("Java exception", r"\bat (?:java|javax|org\.springframework|org\.apache)\.[\w$.]{1,200}\("),
    ("Node.js stack trace", r"\n\s{1,8}at [^\n]{0,200}\((?:/|[A-Za-z]:\\)[^\n)]{1,300}\.(?:js|ts|mjs|cjs):\d{1,6}:\d{1,6}\)"),
    (".NET stack trace", r"at [\w.]{1,200}\([^)\n]{0,200}\) in [^\n]{1,300}:line \d{1,6}|Server Error in '/' Application"),
    ("PHP error", r"(?:Fatal error|Parse error|Warning|Notice)</b>?:[^\n]{0,300} in <b>?/[^\n<]{1,300}</b>? on line|Stack trace:\n#0 /"),
    ("Laravel/Whoops page", r"Whoops, looks like something went wrong|Illuminate\\[A-Za-z\\]{1,200}Exception"),
    ("Rails error page", r"Action Controller: Exception caught|ActiveRecord::[A-Za-z]{1,60}Error"),
    ("Go panic", r"goroutine \d{1,9} \[running\]:|panic: runtime error"),
    ("SQL error", r"SQLSTATE\[|syntax error at or near|You have an error in your SQL syntax|psycopg2?\.errors\."),
]
# A server path is a leak when it names a source file: "/home/features" in a link is not one.
_PATHS = [
    ("internal path", r"(?<![\w/.])(?:/home/|/var/www/|/usr/src/|/srv/|/opt/|/usr/lib/python|[A-Z]:\\)"
                      r"[^\s\"'<>()]{0,200}\.(?:py|js|ts|mjs|cjs|rb|php|java|go|cs|ex|exs|rs|scala|kt)\b"),
]
_COMPILED = [(k, re.compile(p)) for k, p in _TRACE + _PATHS]


@dataclass(frozen=True)
class Leak:
    kind: str
    line: int
    excerpt: str    # the matched text, cut to 120 characters: a marker or a path, never a whole page


def find_leaks(text: str, limit: int = 5) -> list[Leak]:
    out: list[Leak] = []
    for kind, pat in _COMPILED:
        m = pat.search(text)
        if m:
            out.append(Leak(kind, text.count("\n", 0, m.start()) + 1, _shown(m.group(0).strip()[:120], kind)))
            if len(out) >= limit:
                break
    return out


# Kinds whose match is a marker or a path, fit to show; the others match an exception's or a query's own
# message, which can hold customer data (an invoice number, an address, a duplicate key's value).
_SHOWN_KINDS = {"Python traceback", "Python frame", "internal path", "Django debug page", "Werkzeug debugger",
                "Flask/Starlette debug", "Go panic"}


def _shown(excerpt: str, kind: str = "internal path") -> str:
    """The excerpt as a report may show it: only markers and paths, and never one holding a credential
    (a debug page can print a DSN with its password right in the matched text)."""
    from infra.knowledge.bundlesecrets import scan_text

    if kind not in _SHOWN_KINDS:
        return f"[{kind}: its message is not shown]"
    if scan_text(excerpt) or re.search(r"://[^/\s:@]+:[^/\s@]+@", excerpt) or "@" in excerpt:
        return "[excerpt withheld: it holds a credential or an address]"
    return excerpt


# ------------------------------------------------------------------------------ files never to serve

@dataclass(frozen=True)
class Exposure:
    path: str
    what: str
    signature: re.Pattern


def _sig(p: str) -> re.Pattern:
    return re.compile(p, re.M)


_ENV_LINE = r"^[ \t]*(?:export[ \t]+)?[A-Z][A-Z0-9_]{1,64}[ \t]*=[ \t]*\S"

EXPOSURES: tuple[Exposure, ...] = (
    # [ \t], not \s: with re.M, \s* crosses newlines and a body of blank lines costs quadratic time.
    Exposure("/.env", "environment file (credentials)", _sig(_ENV_LINE)),
    Exposure("/.env.production", "environment file (credentials)", _sig(_ENV_LINE)),
    Exposure("/.git/config", "git repository config", _sig(r"^\[core\]|repositoryformatversion")),
    Exposure("/.git/HEAD", "git repository (the source can be downloaded)", _sig(r"\Aref: refs/|\A[0-9a-f]{40}\s*\Z")),
    Exposure("/server-status", "Apache server status page", _sig(r"Apache Server Status|Server uptime:|Total accesses:")),
    Exposure("/nginx_status", "nginx stub status page", _sig(r"\AActive connections: \d")),
    Exposure("/.DS_Store", "macOS folder index (file names)", _sig(r"\A\x00\x00\x00\x01Bud1")),
    Exposure("/phpinfo.php", "PHP configuration page", _sig(r"<title>(?:PHP \d[^<]{0,20} - )?phpinfo\(\)</title>")),
)

SOURCE_MAP = _sig(r'\A\s*\{[^{}]{0,4000}"(?:mappings|sources)"\s*:')


def exposed(exposure: Exposure, body: bytes, content_type: str) -> bool:
    """Whether a 200 answer is the file itself (an HTML shell of a single-page app is not)."""
    if content_type in ("text/html", "application/xhtml+xml") and exposure.path != "/phpinfo.php":
        return False
    text = body[:65536].decode("utf-8", "replace") if exposure.path != "/.DS_Store" else body[:8].decode("latin-1")
    if text.lstrip().lower().startswith(("<!doctype html", "<html")) and exposure.path != "/phpinfo.php":
        return False
    return bool(exposure.signature.search(text))
