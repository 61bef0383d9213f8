"""Secrets section of the stack spec: the app's runtime secrets and its production env contract.

A secret value never appears in the spec. It comes either from another key of the stack's config
that Pulumi keeps encrypted (`pulumi config set --secret smtpPassword ...`, a `secure:` value in the
stack file) or is generated at deploy time. A plaintext value where a secret is expected is a spec
error that names the key and the file and never the value.
"""
from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Discriminator, Field, StrictBool, Tag, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from .fields import StrictInt
from .model import Model

NAMESPACE = "launchready"
# Tags every secret and parameter carries, so verify can find them in AWS without our state.
TAG_STACK = "launchready:stack"
TAG_SECRET = "launchready:secret"
TAG_ENV = "launchready:env"
# A secret nobody's function rotates carries its promise as tags (the pack and verify read them):
# launchready:rotation=manual, launchready:max-age-days=<days>, launchready:owner=<who replaces it>.
TAG_ROTATION = "launchready:rotation"
TAG_MAX_AGE = "launchready:max-age-days"
TAG_OWNER = "launchready:owner"
# Env keys whose names say "secret": a plain value under one of these is almost surely a leak.
_SECRET_ENV_NAME = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE|CREDENTIAL|API_?KEY|(^|_)KEY$|DSN)")


def secret_name(stack: str, item: str) -> str:
    """The Secrets Manager name of one secret."""
    return f"{NAMESPACE}/{stack}/{item}"


def env_path(stack: str) -> str:
    """The SSM Parameter Store path the env contract lives under."""
    return f"/{NAMESPACE}/{stack}/env"


_KEY_NAME = re.compile(r"^[a-z][a-z0-9]*(?:[A-Z][a-z0-9]+)*(?:[_-][a-z0-9]+)*$")
_SECRET_PREFIX = re.compile(r"^(sk|pk|rk|whsec|xox[abpors]|ghp|gho|ghs|github_pat|glpat|AKIA|ASIA|SG\.|key-)", re.I)


def looks_like_key_name(text: str) -> bool:
    """A config key name such as stripeApiKey or smtp_password, as opposed to a pasted secret value
    (tokens have known prefixes, digit runs, or mixed case that is not camelCase)."""
    return (len(text) <= 40 and bool(_KEY_NAME.match(text)) and not _SECRET_PREFIX.match(text)
            and not re.search(r"\d{3,}", text) and sum(c.isdigit() for c in text) <= len(text) // 5)


def _camel(name: str) -> str:
    head, *rest = name.split("-")
    return head + "".join(p.title() for p in rest)


class Generate(Model):
    """Generate the value at deploy time (pulumi-random), for keys the app itself owns (JWT, cookies)."""

    length: StrictInt = Field(default=48, ge=16, le=4096)
    # Off by default: env files and connection strings tend to break on quotes and dollars.
    special: StrictBool = False


class LambdaRotation(Model):
    """Secrets Manager rotates the value with this function every `days` days."""

    lambda_arn: str = Field(pattern=r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$")
    days: StrictInt = Field(default=30, ge=1, le=1000)


class ManualRotation(Model):
    """A value no function can rotate (a third-party API key): a person replaces it within
    `maxAgeDays` (verify FAILs an older value, from the secret's last-changed date)."""

    manual: Literal[True]
    max_age_days: StrictInt = Field(ge=1, le=3650, description="days, e.g. 180")
    # Who replaces it: a team or an address; a tag value, so AWS's tag alphabet.
    owner: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.:/=+@-]{0,127}$")


# Discriminator tags; infra/spec/errors.py drops them from key paths ("tag-" prefix).
ROTATION_TAG_LAMBDA, ROTATION_TAG_MANUAL = "tag-lambda", "tag-manual"


def _rotation_kind(value: Any) -> str:
    # `manual:` present means a manual rotation; anything else is judged as a Lambda rotation, so a
    # spec without `manual` keeps its messages (rotation.lambdaArn: ...).
    manual = isinstance(value, ManualRotation) or (isinstance(value, dict) and "manual" in value)
    return ROTATION_TAG_MANUAL if manual else ROTATION_TAG_LAMBDA


Rotation = Annotated[
    Annotated[LambdaRotation, Tag(ROTATION_TAG_LAMBDA)] | Annotated[ManualRotation, Tag(ROTATION_TAG_MANUAL)],
    Discriminator(_rotation_kind),
]


class SecretItem(Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    description: str = ""
    # The key of another launchready: config value that Pulumi keeps encrypted.
    from_config: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")
    generate: Generate | None = None
    # Write-only values are not diffed: bump the version to write a new value.
    version: StrictInt = Field(default=1, ge=1)
    rotation: Rotation | None = None

    @model_validator(mode="after")
    def _one_source(self):
        if (self.from_config is None) == (self.generate is None):
            raise ValueError("give exactly one of fromConfig (a secret config key) or generate")
        return self


def rotation_tags(item: SecretItem) -> dict[str, str]:
    """The tags a secret carries for its rotation (none for a Lambda rotation: AWS records that)."""
    r = item.rotation
    if isinstance(r, ManualRotation):
        return {TAG_ROTATION: "manual", TAG_MAX_AGE: str(r.max_age_days), TAG_OWNER: r.owner}
    return {}


class SecretRef(Model):
    """An env value taken from one of the declared secrets (stored as an SSM SecureString)."""

    secret: str


def _env_scalar(value: Any) -> Any:
    # YAML reads COOKIE_SECURE: true as a bool and PORT: 443 as an int; the env holds strings.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return value


EnvValue = Annotated[str, BeforeValidator(_env_scalar)] | SecretRef


class Kms(Model):
    """The customer-managed key the secrets and SecureString parameters are encrypted with."""

    alias: str | None = Field(default=None, pattern=r"^[A-Za-z0-9/_-]{1,200}$")  # default launchready/<stack>
    deletion_window_days: StrictInt = Field(default=30, ge=7, le=30)
    rotation_period_days: StrictInt = Field(default=365, ge=90, le=2560)


class Secrets(Model):
    kms: Kms = Kms()
    items: list[SecretItem] = Field(default_factory=list)
    # The production env contract: every key the app requires, with its value or a secret reference.
    env: dict[Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")], EnvValue] = Field(default_factory=dict)
    recovery_window_days: StrictInt = Field(default=30, ge=7, le=30)

    def referenced_config_keys(self) -> set[str]:
        """Config keys (without namespace) this section reads secrets from; the loader accepts them."""
        return {i.from_config for i in self.items if i.from_config}

    @staticmethod
    def referenced_in_raw(raw: Any) -> set[str]:
        """The same, from an unvalidated section (so a broken section does not add 'unknown key' noise)."""
        items = raw.get("items") if isinstance(raw, dict) else None
        return {i["fromConfig"] for i in items or [] if isinstance(i, dict) and isinstance(i.get("fromConfig"), str)}

    def item(self, name: str) -> SecretItem | None:
        return next((i for i in self.items if i.name == name), None)

    def secret_env(self) -> dict[str, str]:
        return {k: v.secret for k, v in self.env.items() if isinstance(v, SecretRef)}

    def plain_env(self) -> dict[str, str]:
        return {k: v for k, v in self.env.items() if isinstance(v, str)}

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo):
        problems: list[tuple[tuple, str]] = []
        seen: dict[str, int] = {}
        config_keys = (info.context or {}).get("config_keys")
        for i, item in enumerate(self.items):
            if item.name in seen:
                problems.append((("secrets", "items", i, "name"), f"{item.name!r} is declared twice (first at secrets.items[{seen[item.name]}])"))
            seen.setdefault(item.name, i)
            key = item.from_config
            if key is None or config_keys is None:
                continue
            full = f"{NAMESPACE}:{key}"
            if key not in config_keys and not looks_like_key_name(key):
                # Someone pasted the secret itself where its config key belongs: never echo it.
                problems.append((("secrets", "items", i, "fromConfig"),
                                 f"must name a config key (e.g. {_camel(item.name)}), and this looks like a secret value "
                                 f"(value not shown): remove it from the file, run `pulumi config set --secret {_camel(item.name)}` "
                                 f"and write fromConfig: {_camel(item.name)}"))
            elif key not in config_keys:
                # Not set yet is not an error: plan and gate name it (infra/spec/secretinputs.py).
                continue
            elif not config_keys[key]:
                # Reported at the plaintext key itself, so file:line points at it. Never the value.
                problems.append(((full,), f"is plaintext in the stack file, but secrets.items[{i}] ({item.name}) needs a secret: "
                                          f"remove it and run `pulumi config set --secret {key}` (value not shown)"))
        for key, value in self.env.items():
            if isinstance(value, SecretRef) and value.secret not in seen:
                problems.append((("secrets", "env", key, "secret"), f"{value.secret!r} is not among secrets.items"))
            elif isinstance(value, str) and _SECRET_ENV_NAME.search(key):
                problems.append((("secrets", "env", key),
                                 "looks like a secret but has a plain value: declare it under secrets.items and write {secret: <name>} (value not shown)"))
        if problems:
            raise PydanticCustomError("launchready_cross", "{count} problems", {"count": len(problems), "problems": problems})
        return self
