"""Secret rules: Secrets Manager on customer-managed KMS keys with rotation, nothing secret in
plaintext in state or in plain SSM parameters, no credentials pasted into resource inputs."""
from __future__ import annotations

import re
from collections.abc import Mapping

from infra.knowledge.credentials import credential_kind
from infra.spec.secretspec import TAG_MAX_AGE, TAG_OWNER, TAG_ROTATION, TAG_SECRET

from ..props import KMS_KEY, SM_SECRET, SM_SECRET_ROTATION, SM_SECRET_VERSION, SSM_PARAMETER, get, of_type, strings
from ..registry import CRITICAL, HIGH, MANDATORY, MEDIUM, resource_rule, stack_rule

SECRETISH_NAME = r"(?i)(secret|passw|pwd|token|api[-_]?key|private[-_]?key|credential|signing[-_]?key|dsn|smtp[-_]?pass|client[-_]?secret|webhook)"


@resource_rule(
    "secret-customer-managed-key", area="secrets", types=[SM_SECRET], severity=HIGH, enforcement=MANDATORY,
    description="Secrets Manager secrets are encrypted with a customer-managed KMS key (not the AWS-managed aws/secretsmanager key), so access and rotation are under the team's control.",
    remediation="""
Keep the secret in `launchready:secrets` (stacks/Pulumi.<stack>.yaml): the program creates one
customer-managed KMS key with rotation and passes it as `kmsKeyId`. If you wrote the secret by
hand, pass `kms_key_id=<that key's arn>`; never `alias/aws/secretsmanager`.""",
    spec_keys=("secrets",),
)
def secret_customer_managed_key(props, config):
    key = str(get(props, "kmsKeyId", default="") or "")
    name = get(props, "name") or get(props, "namePrefix") or "secret"
    if not key:
        yield f"{name}: no kmsKeyId, so the AWS-managed key aws/secretsmanager is used."
    elif key.startswith("alias/aws/") or ":alias/aws/" in key:
        yield f"{name}: kmsKeyId {key} is an AWS-managed key; use a customer-managed key."


@resource_rule(
    "kms-key-rotation", area="secrets", types=[KMS_KEY], severity=MEDIUM, enforcement=MANDATORY,
    description="Customer-managed symmetric KMS keys rotate their key material automatically (enableKeyRotation).",
    remediation="""
Set `enable_key_rotation=True` on the `aws.kms.Key` (the secrets component does this; do not turn it
off). AWS then rotates the key material yearly (or per rotationPeriodInDays) without re-encrypting data.""",
    spec_keys=("secrets",),
)
def kms_key_rotation(props, config):
    spec = str(get(props, "customerMasterKeySpec", default="") or get(props, "keySpec", default="") or "SYMMETRIC_DEFAULT")
    if spec != "SYMMETRIC_DEFAULT":
        return  # AWS rotates only symmetric encryption keys
    if get(props, "enableKeyRotation") is not True:
        yield f"{get(props, 'description') or 'KMS key'}: enableKeyRotation is not true."


@resource_rule(
    "secret-value-write-only", area="secrets", types=[SM_SECRET_VERSION], severity=HIGH, enforcement=MANDATORY,
    description="Secret values are written with the write-only attribute (secretStringWo), not secretString: never in plaintext; "
                "stored encrypted by the stack's secrets provider in state inputs (bridge issue #3201).",
    remediation="""
In the component that writes the secret, pass the value as `secret_string_wo=` together with
`secret_string_wo_version=` (bump the version to rotate) instead of `secret_string=` /
`secret_binary=`. A value in `secretString` is stored in every state snapshot, in the inputs and the
outputs, and the provider reads it back on every refresh. A write-only value is still stored, encrypted
by the stack's secrets provider, in the state inputs until pulumi-terraform-bridge issue #3201 is
fixed: whoever holds the stack's secrets provider key and the state can decrypt either.""",
    spec_keys=("secrets",),
)
def secret_value_write_only(props, config):
    for prop in ("secretString", "secretBinary"):
        if get(props, prop) not in (None, ""):
            yield f"{prop} is set: the value is stored in state; use secretStringWo instead."


def _rotated_by_function(secret, rotations) -> bool:
    ids = {secret.urn, *(str(get(secret.props, k)) for k in ("arn", "id", "name") if get(secret.props, k))}
    return any(any(d.urn == secret.urn for d in (getattr(r, "dependencies", None) or []))
               or str(get(r.props, "secretId", default="")) in ids for r in rotations)


def _manual_promise(tags) -> str | None:
    """What is missing from a manual rotation's tags (None: a complete promise, or not manual)."""
    if str(tags.get(TAG_ROTATION, "")) != "manual":
        return "no rotation function and no `rotation: {manual: true, ...}`"
    age = str(tags.get(TAG_MAX_AGE, ""))
    if not age.isdigit() or int(age) < 1:
        return f"manual rotation without a maximum age ({TAG_MAX_AGE})"
    if not str(tags.get(TAG_OWNER, "")).strip():
        return f"manual rotation without an owner ({TAG_OWNER})"
    return None


def _rotation_locator(message, resource, spec) -> list[str]:
    """A secret launchready/<stack>/<item> comes from `launchready:secrets` → items[i]."""
    items = getattr(getattr(spec, "secrets", None), "items", None) or []
    for i, item in enumerate(items):
        if f"/{item.name}:" in message:
            return [f"secrets.items[{i}].rotation", f"secrets.items[{i}]"]
    return []


@stack_rule(
    "secret-rotation-declared", area="secrets", severity=HIGH, enforcement=MANDATORY,
    description="Every Secrets Manager secret rotates: by a rotation function (SecretRotation), or by a person within a "
                "declared maximum age (`rotation: {manual: true, maxAgeDays, owner}`, carried as tags verify reads).",
    remediation="""
Give every item of `launchready:secrets` a rotation in stacks/Pulumi.<stack>.yaml:
* a rotation function: `rotation: {lambdaArn: arn:aws:lambda:<region>:<account>:function:<name>, days: 30}`;
* or, for a value no function can rotate (a third-party API key, a signing key you roll yourself):
  `rotation: {manual: true, maxAgeDays: 180, owner: <team or address>}`. verify then FAILs
  `aws-secret-rotation` when the value is older than maxAgeDays; bump `version` when you replace it.""",
    spec_keys=("secrets.items", "secrets"),
    locator=_rotation_locator,
)
def secret_rotation_declared(resources, config):
    rotations = of_type(resources, SM_SECRET_ROTATION)
    for secret in of_type(resources, SM_SECRET):
        if _rotated_by_function(secret, rotations):
            continue
        tags = get(secret.props, "tags", default=None) or {}
        missing = _manual_promise(tags if isinstance(tags, Mapping) else {})
        if missing:
            name = get(secret.props, "name") or tags.get(TAG_SECRET) or secret.name
            yield (f"{name}: {missing}.", secret.urn)


# Properties that are meant to carry secrets (judged by the rules above, not as leaks).
SECRET_CARRIERS = {
    SM_SECRET_VERSION: {"secretString", "secretBinary", "secretStringWo"},
    SSM_PARAMETER: {"value", "valueWo"},
}


def _env_key_locator(message, resource, spec) -> list[str]:
    """An SSM parameter /launchready/<stack>/env/KEY comes from `launchready:secrets` → env.KEY."""
    if resource is None or resource.type != SSM_PARAMETER:
        return []
    name = str((resource.inputs or {}).get("name", ""))
    return [f"secrets.env.{name.rsplit('/env/', 1)[1]}"] if "/env/" in name else []


@resource_rule(
    "ssm-secure-string", area="secrets", types=[SSM_PARAMETER], severity=HIGH, enforcement=MANDATORY,
    description="SSM parameters that hold secrets (by name, or a value that looks like a credential) are SecureString, never String or insecureValue.",
    remediation="""
The value was written in plain text under `launchready:secrets` → `env` in stacks/Pulumi.<stack>.yaml.
Make it a secret reference instead (example for DATABASE_URL):
1. store the value encrypted: `pulumi config set --secret databaseUrl --stack <stack>`
2. declare it under `secrets.items`:
       - name: database-url
         fromConfig: databaseUrl
3. point the env key at it: `DATABASE_URL: {secret: database-url}`
The program then stores it as a SecureString encrypted with the stack's KMS key. Rotate the
credential afterwards: it is in the repository history and was readable with ssm:GetParameter.""",
    config={"secretNamePattern": {"type": "string", "default": SECRETISH_NAME,
                                  "description": "Parameter names matching this regex hold secrets."}},
    spec_keys=("secrets.env", "secrets"),
    locator=_env_key_locator,
)
def ssm_secure_string(props, config):
    name = str(get(props, "name", default="") or "")
    ptype = str(get(props, "type", default="") or "")
    if ptype == "SecureString":
        return
    secret_name = bool(re.search(config["secretNamePattern"], name.rsplit("/", 1)[-1]))
    value = get(props, "value", default=None)
    insecure = get(props, "insecureValue", default=None)
    looks = next((k for k in (credential_kind(v) for v in (value, insecure) if isinstance(v, str)) if k), None)
    if secret_name or looks:
        why = f"its value looks like a credential ({looks})" if looks else "its name says it holds a secret"
        yield f"{name or 'parameter'} is {ptype or 'String'} but {why}; it must be SecureString."


@resource_rule(
    "no-plaintext-credentials", area="secrets", types=[], severity=CRITICAL, enforcement=MANDATORY,
    description="No resource input (record content, header value, tag, description, environment value...) contains a recognisable credential: private keys, AWS/GitHub/Slack/Stripe/SendGrid tokens, JWTs, URLs with passwords.",
    remediation="""
Remove the credential from the stack file and the code, store it with `pulumi config set --secret
<key>` and reference it from `launchready:secrets`. Then rotate it at the issuer: it has already
been written to the repository history and possibly to state.""",
    spec_keys=("secrets",),
    locator=_env_key_locator,
)
def no_plaintext_credentials(props, config, resource_type):
    # Runs on every resource type; secret-carrying properties are judged by the rules above.
    for path, value in strings(props):
        if path in SECRET_CARRIERS.get(resource_type, ()):
            continue
        kind = credential_kind(value)
        if kind:
            yield f"input {path} contains what looks like a credential ({kind})."


# This module's rules, in catalogue order (policies.rules.MODULES collects them).
RULES = (
    secret_customer_managed_key, kms_key_rotation, secret_rotation_declared, secret_value_write_only,
    ssm_secure_string, no_plaintext_credentials,
)
