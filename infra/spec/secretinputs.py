"""The config keys a stack needs as secrets, and which of them a stack file does not set yet.

Secret values are never written into a stack file by hand: `pulumi config set --secret <key>` writes
them, encrypted for the stack's secrets provider. The example stack therefore ships without them
(a fake `secure:` value stops `pulumi preview`: the engine decrypts every config value first), and
`launchready plan` / `launchready gate` name the keys still unset, with the command that sets them.

Without a value the mock runtime still runs the program: the key is given the same placeholder as
a `secure:` value the CLI cannot decrypt (stackfile.MOCK_SECRET), marked secret. Under the real
engine an unset key stops the program at `require_secret`, with Pulumi's own message.
"""
from __future__ import annotations

from dataclasses import dataclass

from .secretspec import NAMESPACE
from .spec import Spec
from .stackfile import MOCK_SECRET, ConfigSource

# The finding id of an unset secret input, in plan advisories and in the gate.
SECRET_UNSET = "secret-unset"
# The Cloudflare provider's credential: a secret input of every stack (the program declares Cloudflare
# resources), which the provider may also read from the environment of `pulumi up`.
PROVIDER_SECRETS = (("cloudflare:apiToken", "the Cloudflare provider's API token", "CLOUDFLARE_API_TOKEN"),)


@dataclass(frozen=True)
class SecretInput:
    """One config key whose value must be a secret."""

    key: str                 # the full config key: launchready:smtpPassword, cloudflare:apiToken
    purpose: str             # what it is for, in words
    path: str = ""           # the spec key path that asks for it (secrets.items[1].fromConfig), if any
    env: str | None = None   # an environment variable the consumer accepts instead

    def command(self, stack: str | None = None) -> str:
        """The command that sets it (the value is prompted for, so it stays out of shell history)."""
        return f"pulumi config set --secret {self.key}" + (f" --stack {stack}" if stack else "")

    def unset_message(self, stack: str | None = None) -> str:
        alternative = f" (or export {self.env} where `pulumi up` runs)" if self.env else ""
        return f"{self.key} is not set ({self.purpose}): run `{self.command(stack)}`{alternative}"


def secret_inputs(spec: Spec) -> list[SecretInput]:
    """Every secret config key the spec's program reads, provider credentials first."""
    out = [SecretInput(key, purpose, env=env) for key, purpose, env in PROVIDER_SECRETS]
    if spec.secrets is not None:
        for i, item in enumerate(spec.secrets.items):
            if item.from_config:
                out.append(SecretInput(f"{NAMESPACE}:{item.from_config}", f"secret {item.name!r}",
                                       f"secrets.items[{i}].fromConfig"))
    first: dict[str, SecretInput] = {}
    for s in out:
        first.setdefault(s.key, s)  # two items may read one key: name it once
    return list(first.values())


def unset_secret_inputs(source: ConfigSource, spec: Spec) -> list[SecretInput]:
    """The secret inputs the config map has no value for (a plaintext value is judged elsewhere)."""
    return [s for s in secret_inputs(spec) if s.key not in source.values]


def mock_config(source: ConfigSource, spec: Spec | None) -> tuple[dict[str, str], list[str]]:
    """The config map and secret keys for the mock runtime: unset secret inputs get the placeholder
    a `secure:` value gets, marked secret, so the program runs without any secret value.
    Without a spec (one that did not build), the config map as it is."""
    unset = [s.key for s in unset_secret_inputs(source, spec)] if spec is not None else []
    values = {**source.values, **dict.fromkeys(unset, MOCK_SECRET)}
    return values, sorted(set(source.secret_keys) | set(unset))
