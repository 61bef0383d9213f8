"""Gate checks that only the offline gate can run: secrets in stack files, in the repository, and
secret values that would reach state unmarked.

They read files (the engine never shows a policy the stack file or the repository) or the
secretness of values (the engine unwraps secrets before a policy sees them). Each finding carries
a file and line, never the value.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

from infra.spec.stackfile import line_of

from .props import SM_SECRET_VERSION, SSM_PARAMETER
from .registry import CRITICAL, HIGH, MANDATORY, GateCheck
from .rules.secretrules import credential_kind

# Key names whose values are secrets (leaf keys of stack config and resource inputs).
SECRET_KEY = re.compile(
    r"(?i)(password|passwd|pwd|passphrase|secret|token|api[-_]?key|apikey|private[-_]?key|access[-_]?key|"
    r"credential|client[-_]?secret|signing[-_]?key|webhook[-_]?secret|\bdsn\b)")
# Inside the spec's structured sections only unambiguous names count ("token" is also a flow name).
NESTED_SECRET_KEY = re.compile(
    r"(?i)(password|passwd|passphrase|api[-_]?key|apikey|private[-_]?key|access[-_]?key|secret[-_]?key|"
    r"client[-_]?secret|auth[-_]?token|access[-_]?token|bearer|webhook[-_]?secret|signing[-_]?secret)$")
# ...except these, which name or point at a secret rather than hold one.
NOT_SECRET_KEY = re.compile(r"(?i)(^secret$|fromconfig|keyid$|kmskey|arn$|name$|description$|version$|"
                            r"^secrets$|rotation|length|url$|uri$|path$|header$|cookie$|dkimkey$)")

STACK_FILE_PLAINTEXT = GateCheck(
    name="stack-file-plaintext-secret", area="secrets", severity=CRITICAL, enforcement_level=MANDATORY,
    description="Stack files hold no plaintext secrets: every secret config value is a `secure:` ciphertext.",
    remediation="""
Remove the value from stacks/Pulumi.<stack>.yaml and set it encrypted instead:
  pulumi config set --secret <key> --stack <stack>     (paste the value when prompted)
which writes a `secure: v1:...` entry. A value inside a section (e.g. `launchready:secrets` →
`env.DATABASE_URL`) cannot be encrypted in place: store it under its own key as above (e.g.
`databaseUrl`), declare `- name: database-url` with `fromConfig: databaseUrl` under `secrets.items`,
and write `DATABASE_URL: {secret: database-url}`. Then rotate the credential at its issuer: the
plaintext is in the repository history.""".strip(),
)

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

STATE_PLAINTEXT = GateCheck(
    name="state-plaintext-secret", area="secrets", severity=HIGH, enforcement_level=MANDATORY,
    description="Values that are secrets (secret versions, SecureString parameters, inputs named password/token/key) are marked secret in the program, so state stores them encrypted.",
    remediation="""
Take the value from `pulumi.Config().require_secret(...)`, a pulumi-random resource, or wrap it in
`pulumi.Output.secret(...)`; prefer the write-only inputs (secret_string_wo, value_wo), which never
reach state at all. The policy engine cannot see secretness, so this check runs only in the gate.""".strip(),
)

GATE_CHECKS = (STACK_FILE_PLAINTEXT, REPO_SECRET, STATE_PLAINTEXT)


@dataclass(frozen=True)
class ScanFinding:
    check: str
    message: str
    file: Optional[str] = None
    line: Optional[int] = None
    secret: str = ""          # kept only to redact it from every output; never rendered
    urn: str = ""


# -- stack files -----------------------------------------------------------------------------------

def _leaves(value: Any, path: str) -> Iterator[tuple[str, str, Any]]:
    """(path, leaf key, value) of every scalar in a decoded config value."""
    if isinstance(value, dict):
        if set(value) == {"secret"}:
            return  # {secret: name}: a reference to a secret, not a value
        for k, v in value.items():
            sub = f"{path}.{k}"
            if isinstance(v, (dict, list)):
                yield from _leaves(v, sub)
            else:
                yield sub, str(k), v
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{path}[{i}]")


def scan_stack_file(source) -> list[ScanFinding]:
    """Plaintext secrets among a stack file's config values (ConfigSource from infra.spec)."""
    findings: list[ScanFinding] = []
    for key, raw in source.values.items():
        if key in source.secret_keys:
            continue
        ns, _, name = key.partition(":")
        try:
            decoded = json.loads(raw) if isinstance(raw, str) and raw[:1] in "[{" else raw
        except ValueError:
            decoded = raw
        short = name if ns == "launchready" else key
        if isinstance(decoded, (dict, list)):
            leaves = list(_leaves(decoded, short))
        else:
            leaves = [(short, name, decoded)]
        for path, leaf, value in leaves:
            if not isinstance(value, str) or not value.strip():
                continue
            kind = credential_kind(value)
            pattern = NESTED_SECRET_KEY if path != short else SECRET_KEY
            by_name = bool(pattern.search(leaf)) and not NOT_SECRET_KEY.search(leaf)
            if not (kind or by_name):
                continue
            line = line_of(source.lines, path) or source.lines.get(key)
            what = f"looks like a credential ({kind})" if kind else "is a secret by its name"
            shown = f"launchready:{path}" if ns == "launchready" else path
            findings.append(ScanFinding(
                STACK_FILE_PLAINTEXT.name,
                f"{shown} holds a plaintext value that {what}; store it with `pulumi config set --secret`.",
                source.file, line, value))
    return findings


# -- repository ------------------------------------------------------------------------------------

# Plugins that recognise a credential by its own shape. The keyword-assignment plugins (Cloudant,
# IBM, Softlayer) and the entropy/keyword ones are slower and noisier: they run with allPlugins.
HIGH_SIGNAL_PLUGINS = (
    "AWSKeyDetector", "ArtifactoryDetector", "AzureStorageKeyDetector", "BasicAuthDetector",
    "DiscordBotTokenDetector", "GitHubTokenDetector", "GitLabTokenDetector", "JwtTokenDetector",
    "MailchimpDetector", "NpmDetector", "OpenAIDetector", "PrivateKeyDetector", "PypiTokenDetector",
    "SendGridDetector", "SlackDetector", "SquareOAuthDetector", "StripeDetector", "TelegramBotTokenDetector",
    "TwilioKeyDetector",
)
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


def _list_files(paths: Iterable[str], exclude: re.Pattern, root: Path) -> list[str]:
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
            files = [os.path.relpath(Path(d) / f, root) for d, _, fs in os.walk(path, onerror=unreadable) for f in fs]
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


def _plugins():
    import importlib
    import inspect

    import detect_secrets.plugins as package
    from detect_secrets.plugins.base import RegexBasedDetector

    out = []
    for module_name in ("aws", "artifactory", "azure_storage_key", "basic_auth", "discord", "github_token",
                        "gitlab_token", "jwt", "mailchimp", "npm", "openai", "private_key", "pypi_token",
                        "sendgrid", "slack", "square_oauth", "stripe", "telegram_token", "twilio"):
        module = importlib.import_module(f"{package.__name__}.{module_name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, RegexBasedDetector) and cls.__name__ in HIGH_SIGNAL_PLUGINS:
                out.append(cls())
    return out


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
    accepted = _load_baseline(baseline_path) if baseline_path.exists() else set()
    plugins = _plugins()
    findings: list[ScanFinding] = []
    seen: set[tuple[str, int, str]] = set()

    def add(rel: str, line_no: int, kind: str, secret: str, line_text: str):
        if _ALLOWLIST.search(line_text) or _PUBLIC_KEY_LINE.search(line_text) or _SECURE_LINE.search(line_text):
            return
        digest = hashlib.sha1(secret.encode("utf-8")).hexdigest()
        if (rel, digest) in accepted or (rel, line_no, digest) in seen:
            return
        seen.add((rel, line_no, digest))
        findings.append(ScanFinding(REPO_SECRET.name, f"{rel}:{line_no}: a credential ({kind}) is committed.", rel, line_no, secret))

    for rel in files:
        path = root / rel
        try:
            if path.stat().st_size > 2_000_000:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        if b"\0" in data[:8192]:
            continue  # binary
        text = data.decode("utf-8", errors="replace")
        lines = text.splitlines()
        for plugin in plugins:
            for regex in getattr(plugin, "denylist", ()):
                for m in regex.finditer(text):
                    try:
                        secrets = [s for s in plugin.analyze_string(m.group(0)) if s]
                    except Exception:  # noqa: BLE001
                        secrets = []
                    if secrets:
                        line_no = text.count("\n", 0, m.start()) + 1
                        add(rel, line_no, plugin.secret_type, secrets[0], lines[line_no - 1] if line_no <= len(lines) else "")
    if config.get("allPlugins"):
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
            add(filename, secret.line_number, secret.type, secret.secret_value or secret.secret_hash, line_text)
    return findings


# -- secrets that would reach state unmarked -------------------------------------------------------
# Per type: input properties that always hold secrets (write-only inputs never reach state).
STATE_CARRIERS = {
    SM_SECRET_VERSION: ("secretString", "secretBinary"),
    SSM_PARAMETER: ("value",),           # judged only for SecureString parameters
}


def scan_state(resources) -> list[ScanFinding]:
    """PlannedResource-like objects (inputs, secret_paths) whose secret values are not marked secret."""
    findings = []
    for r in resources:
        if not getattr(r, "custom", True):
            continue
        paths: list[str] = []
        for prop in STATE_CARRIERS.get(r.type, ()):
            if prop in r.inputs and r.inputs[prop] not in (None, ""):
                if r.type == SSM_PARAMETER and r.inputs.get("type") != "SecureString":
                    continue
                paths.append(prop)
        for key, value in r.inputs.items():
            if (isinstance(value, str) and value and key.lower().endswith(("password", "token", "secret", "privatekey"))
                    and not key.endswith("Wo") and not NOT_SECRET_KEY.search(key)):
                paths.append(key)
        for prop in dict.fromkeys(paths):
            if prop not in r.secret_paths:
                findings.append(ScanFinding(
                    STATE_PLAINTEXT.name,
                    f"{r.type.split(':')[-1]} {r.name}: input {prop} is not marked secret; state would store it in plaintext.",
                    urn=r.urn, secret=str(r.inputs.get(prop, ""))))
    return findings
