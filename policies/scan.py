"""Gate checks that only the offline gate can run: secrets in stack files, in the repository
(policies.reposcan, re-exported here), and secret values that would reach state unmarked.

They read files (the engine never shows a policy the stack file or the repository) or the
secretness of values (the engine unwraps secrets before a policy sees them). Each finding carries
a file and line, never the value.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from infra.knowledge.credentials import credential_kind
from infra.spec.secretinputs import SECRET_UNSET as SECRET_UNSET_ID
from infra.spec.secretinputs import unset_secret_inputs
from infra.spec.stackfile import line_of

from .props import SM_SECRET_VERSION, SSM_PARAMETER
from .registry import ADVISORY, CRITICAL, HIGH, MANDATORY, MEDIUM, GateCheck, ScanFinding
from .reposcan import REPO_SECRET, ScanError, check_scan_config, scan_repository

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

STATE_PLAINTEXT = GateCheck(
    name="state-plaintext-secret", area="secrets", severity=HIGH, enforcement_level=MANDATORY,
    description="Values that are secrets (secret versions, SecureString parameters, inputs named password/token/key) are marked secret in the program, so state stores them encrypted.",
    remediation="""
Take the value from `pulumi.Config().require_secret(...)`, a pulumi-random resource, or wrap it in
`pulumi.Output.secret(...)`; prefer the write-only inputs (secret_string_wo, value_wo): never in
plaintext; stored encrypted by the stack's secrets provider in state inputs (bridge issue #3201), so
pass them as secrets too. The policy engine cannot see secretness, so this check runs only in the gate.""".strip(),
)

SECRET_UNSET = GateCheck(
    name=SECRET_UNSET_ID, area="secrets", severity=MEDIUM, enforcement_level=ADVISORY,
    description="Every secret config key the program reads (the Cloudflare token, each secrets.items fromConfig key) is set in the stack.",
    remediation="""
Set the value encrypted for the stack (the CLI prompts for it, so it stays out of shell history):
  pulumi config set --secret <key> --stack <stack>
Advisory in every environment, production included: the value may come from where the gate cannot
look (a Pulumi ESC `environment:`, CLOUDFLARE_API_TOKEN in the deploy job), and a key that is really
missing stops `pulumi preview` / `pulumi up` at `require_secret` before anything is created, so an
unset key cannot ship anything insecure. Values are never shown: an unset key has none.""".strip(),
)

GATE_CHECKS = (STACK_FILE_PLAINTEXT, REPO_SECRET, STATE_PLAINTEXT, SECRET_UNSET)


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


# -- secret config keys not set yet ----------------------------------------------------------------

def scan_unset_secrets(source, spec, stack: str | None = None) -> list[ScanFinding]:
    """One finding per secret config key the stack file does not set, with the command that sets it."""
    return [ScanFinding(SECRET_UNSET.name, s.unset_message(stack), source.file, source.line_of(s.path) if s.path else None)
            for s in unset_secret_inputs(source, spec)]


# -- secrets that would reach state unmarked -------------------------------------------------------
# Per type: input properties that always hold secrets. Write-only inputs (…Wo) are among them: the
# current bridge still stores them in state inputs (pulumi-terraform-bridge issue #3201), so they too
# must be marked secret to be stored encrypted.
STATE_CARRIERS = {
    SM_SECRET_VERSION: ("secretString", "secretBinary", "secretStringWo"),
    SSM_PARAMETER: ("value", "valueWo"),           # judged only for SecureString parameters
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


__all__ = [
    "GATE_CHECKS", "REPO_SECRET", "SECRET_UNSET", "STACK_FILE_PLAINTEXT", "STATE_PLAINTEXT", "ScanError", "ScanFinding",
    "check_scan_config", "scan_repository", "scan_stack_file", "scan_state", "scan_unset_secrets",
]
