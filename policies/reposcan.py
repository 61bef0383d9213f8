"""The repository secret scan (gate only): detect-secrets' plugins over the files git tracks.

Split from policies.scan, which re-exports its public names; the gate and the catalogue reach it
through policies.scan.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

from infra.knowledge.credentials import find_shapes
from infra.knowledge.credentials import plugins as high_signal_plugins

from .registry import CRITICAL, MANDATORY, GateCheck, ScanFinding

REPO_SECRET = GateCheck(
    name="repo-secret-committed", area="repository", severity=CRITICAL, enforcement_level=MANDATORY,
    description="No credential (private keys, cloud, SaaS and API tokens, URLs with passwords) is committed in the repository, outside the accepted findings of the detect-secrets baseline.",
    remediation="""
Delete the credential from the file, move it to `pulumi config set --secret` (or the secret store the
app reads), and rotate it at the issuer: it stays in git history. If the finding is not a secret
(a test fixture, a public key), accept it: add `# pragma: allowlist secret` at the end of the line,
or record it in the baseline with `detect-secrets scan --baseline .secrets.baseline`
and `detect-secrets audit .secrets.baseline`.""".strip(),
    config={
        "paths": {"type": "array", "items": {"type": "string"}, "default": ["."],
                  "description": "Files or directories to scan (directories: the files git tracks, else all); "
                                 "one that does not exist stops the gate with exit 2."},
        "excludeFiles": {"type": "string", "default": r"(^|/)(\.git|\.venv|node_modules|__pycache__)/|\.secrets\.baseline$",
                         "description": "Regex of paths not to scan."},
        "baseline": {"type": "string", "default": ".secrets.baseline",
                     "description": "detect-secrets baseline of accepted findings (the default is ignored when absent; "
                                    "a baseline set explicitly must exist, and any baseline must be valid JSON)."},
        "allPlugins": {"type": "boolean", "default": False,
                       "description": "Also run detect-secrets' entropy and keyword plugins (slower, noisier)."},
    },
)

# The default plugins are infra.knowledge.credentials' high-signal ones, as for every scan here.
# The keyword-assignment plugins (Cloudant, IBM, Softlayer) and the entropy/keyword ones are slower
# and noisier: they run with allPlugins.
_PUBLIC_KEY_LINE = re.compile(r"v=DKIM1|k=rsa;\s*p=|BEGIN PUBLIC KEY|ssh-(rsa|ed25519) ")
_SECURE_LINE = re.compile(r"^\s*secure:\s")
_ALLOWLIST = re.compile(r"pragma:\s*allowlist[ -]secret", re.I)


class ScanError(Exception):
    """The repository scan could not check what it was asked to: a scan path or the root that does
    not exist or cannot be read, an explicit baseline that is missing or not valid JSON. The gate
    reports it as "could not check" (exit 2), never as a pass over zero files."""


def _scan_path(root: Path, p: str) -> Path:
    return (root / p) if not os.path.isabs(p) else Path(p)


def check_scan_config(config: dict, root: Path, require_baseline: bool = False) -> list[str]:
    """What stops the repository scan from checking anything it was asked to (empty: it can run)."""
    problems = []
    if not root.is_dir():
        problems.append(f"secret scan: root {root}: no such directory")
        return problems
    for p in config["paths"]:
        path = _scan_path(root, p)
        if not (path.is_file() or path.is_dir()):
            problems.append(f"secret scan: scan path {path}: no such file or directory")
        elif not os.access(path, os.R_OK | (os.X_OK if path.is_dir() else 0)):
            problems.append(f"secret scan: scan path {path}: not readable")
    baseline = root / config["baseline"]
    if baseline.exists() or require_baseline:
        try:
            _load_baseline(baseline)
        except ScanError as exc:
            problems.append(str(exc))
    return problems


# Directories never worth reading outside a git repository: installed code, not the project's.
_INSTALLED_DIRS = frozenset({"site-packages", "dist-packages", "node_modules", "__pycache__", ".git", ".tox",
                             ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".wheelhouse"})


def _walk(top: Path, exclude: re.Pattern, root: Path, onerror) -> Iterator[Path]:
    """Files under `top` as git would list them if it could: virtual environments (any folder with a
    pyvenv.cfg, whatever its name), site-packages and tool caches are pruned before they are walked."""
    for d, dirs, files in os.walk(top, onerror=onerror):
        here = Path(d)
        dirs[:] = [x for x in dirs if x not in _INSTALLED_DIRS and not (here / x / "pyvenv.cfg").is_file()
                   and not exclude.search(os.path.relpath(here / x, root).replace(os.sep, "/") + "/")]
        yield from (here / f for f in files)


def _list_files(paths: Iterable[str], exclude: re.Pattern, root: Path) -> list[str]:
    """The files to scan: in a git repository, what git lists (tracked, and untracked but not ignored);
    elsewhere a walk that skips virtual environments and installed packages."""
    out: list[str] = []

    def unreadable(exc: OSError):
        raise ScanError(f"secret scan: {exc.filename}: cannot be read ({exc.strerror})")

    for p in paths:
        path = _scan_path(root, p)
        if path.is_file():
            out.append(os.path.relpath(path, root))
            continue
        if not path.is_dir():
            raise ScanError(f"secret scan: scan path {path}: no such file or directory")
        try:
            listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                    cwd=path, capture_output=True, check=True, timeout=30).stdout
            files = [os.path.relpath(path / f, root) for f in listed.decode().split("\0") if f]
        except (OSError, subprocess.SubprocessError):
            files = [os.path.relpath(f, root) for f in _walk(path, exclude, root, unreadable)]
        out += files
    return sorted({f for f in out if not exclude.search(f.replace(os.sep, "/"))})


def _load_baseline(path: Path) -> set[tuple[str, str]]:
    """Accepted findings of a detect-secrets baseline. A file that is there but unreadable or not a
    baseline is an error: silently ignoring it would turn every accepted finding into a failure with
    no word on why (and a missing explicit baseline is reported by check_scan_config)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScanError(f"secret scan: baseline {path}: not found") from None
    except OSError as exc:
        raise ScanError(f"secret scan: baseline {path}: cannot be read ({exc.strerror})") from None
    except ValueError as exc:
        raise ScanError(f"secret scan: baseline {path}: not valid JSON ({exc})") from None
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, dict) or not all(isinstance(v, list) for v in results.values()):
        raise ScanError(f"secret scan: baseline {path}: not a detect-secrets baseline (expected \"results\": {{file: [...]}})")
    accepted = set()
    for filename, items in results.items():
        for item in items:
            if not isinstance(item, dict):
                continue
            if item.get("is_secret") is not True:  # audited as a real secret: never accepted
                accepted.add((filename, item.get("hashed_secret", "")))
    return accepted


class _RepoFindings:
    """Findings of the repository scan, without allowlisted lines, baseline entries or repeats."""

    def __init__(self, accepted: set):
        self.accepted = accepted
        self.findings: list[ScanFinding] = []
        self.seen: set[tuple[str, int, str]] = set()

    def add(self, rel: str, line_no: int, kind: str, secret: str, line_text: str) -> None:
        if _ALLOWLIST.search(line_text) or _PUBLIC_KEY_LINE.search(line_text) or _SECURE_LINE.search(line_text):
            return
        digest = hashlib.sha1(secret.encode("utf-8")).hexdigest()
        if (rel, digest) in self.accepted or (rel, line_no, digest) in self.seen:
            return
        self.seen.add((rel, line_no, digest))
        self.findings.append(ScanFinding(REPO_SECRET.name, f"{rel}:{line_no}: a credential ({kind}) is committed.",
                                         rel, line_no, secret))


def _read_text(path: Path) -> str | None:
    """A file's text, or None when it is too large, unreadable or binary."""
    try:
        if path.stat().st_size > 2_000_000:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:8192]:
        return None  # binary
    return data.decode("utf-8", errors="replace")


def _scan_patterns(rel: str, text: str, plugins: list, out: _RepoFindings) -> None:
    """The high-signal plugins' regexes over a file's whole text at once (fast), each match confirmed
    by the plugin itself; before them, infra.knowledge.credentials.SHAPES."""
    lines = text.splitlines()
    # First the shapes detect-secrets lacks (Supabase service-role keys, Cloudflare and Postmark tokens
    # next to their names, AWS secret access keys next to theirs; anchored, so as fast as the plugins):
    # a secret both find is named by the shape ("Supabase service-role key", not "JSON Web Token").
    named: dict[int, list[str]] = {}
    for shape in find_shapes(text):
        line_no = text.count("\n", 0, shape.offset) + 1
        named.setdefault(line_no, []).append(shape.secret)
        out.add(rel, line_no, shape.kind, shape.secret, lines[line_no - 1] if line_no <= len(lines) else "")
    for plugin in plugins:
        for regex in getattr(plugin, "denylist", ()):
            for m in regex.finditer(text):
                try:
                    secrets = [s for s in plugin.analyze_string(m.group(0)) if s]
                except Exception:  # noqa: BLE001
                    secrets = []
                if secrets:
                    line_no = text.count("\n", 0, m.start()) + 1
                    if any(secrets[0] in secret for secret in named.get(line_no, ())):
                        continue    # part of what a shape reported (the JWT plugin's header.payload)
                    out.add(rel, line_no, plugin.secret_type, secrets[0], lines[line_no - 1] if line_no <= len(lines) else "")


def _scan_all_plugins(files: list[str], root: Path, out: _RepoFindings) -> None:
    """detect-secrets' own line-by-line scan, entropy and keyword plugins included (`allPlugins`)."""
    from detect_secrets import SecretsCollection
    from detect_secrets.settings import default_settings

    collection = SecretsCollection(root=str(root))
    with default_settings():
        for rel in files:
            collection.scan_file(rel)
    for filename, secret in collection:
        line_text = ""
        try:
            line_text = (root / filename).read_text(errors="replace").splitlines()[secret.line_number - 1]
        except (OSError, IndexError):
            pass
        out.add(filename, secret.line_number, secret.type, secret.secret_value or secret.secret_hash, line_text)


def scan_repository(config: dict, root: Path, require_baseline: bool = False) -> list[ScanFinding]:
    """detect-secrets' plugins over the repository's files, minus the baseline's accepted findings.

    Raises ScanError when a scan path (or the root) is missing or unreadable, or the baseline is
    invalid (or missing, when `require_baseline`: it was given explicitly).

    The high-signal (pattern) plugins run over each file's whole text at once, which keeps the gate
    fast; `allPlugins` adds detect-secrets' own line-by-line scan with entropy and keyword plugins.
    """
    problems = check_scan_config(config, root, require_baseline)
    if problems:
        raise ScanError("\n".join(problems))
    exclude = re.compile(config["excludeFiles"])
    files = _list_files(config["paths"], exclude, root)
    baseline_path = root / config["baseline"]
    out = _RepoFindings(_load_baseline(baseline_path) if baseline_path.exists() else set())
    plugins = high_signal_plugins()
    for rel in files:
        text = _read_text(root / rel)
        if text is not None:
            _scan_patterns(rel, text, plugins, out)
    if config.get("allPlugins"):
        _scan_all_plugins(files, root, out)
    return out.findings
