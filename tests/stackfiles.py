"""Helpers the spec and infra tests share: the example stack, edited copies of it, spec errors."""
from __future__ import annotations

import copy
import functools
import re
from pathlib import Path

import pytest
import yaml

from infra.spec import SpecError, load_stack

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_FILE = ROOT / "stacks" / "Pulumi.example.yaml"
EXAMPLE = yaml.safe_load(EXAMPLE_FILE.read_text())


def stack_with(tmp_path: Path, edit, name: str = "Pulumi.variant.yaml") -> Path:
    """A copy of the example stack with `edit(config)` applied, written under tmp_path."""
    doc = copy.deepcopy(EXAMPLE)
    edit(doc["config"])
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def spec_error(path) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_stack(str(path))
    return info.value


def problems(path) -> list[str]:
    """'key.path: message' for every problem the spec reports in the file."""
    return [f"{i.path}: {i.message}" for i in spec_error(path).issues]


# -- a stack of one's own --------------------------------------------------------------------------------
# The example's values are reserved for documentation (infra/knowledge/placeholders.py), and the gate
# blocks them in any production stack but `example` (rule example-values-replaced). A test that judges
# something else in a production copy of the example gives it values of its own, as a user would.
OWN_DOMAIN = "acme-portal.eu"
_OWN_VALUES = (
    ("example.com", OWN_DOMAIN),
    ("203.0.113.", "52.30.1."), ("198.51.100.", "52.30.2."), ("192.0.2.", "52.30.3."), ("2001:db8:", "2a05:d018:"),
    ("0123456789abcdef0123456789abcdef", "9f3c1a7be0d24c6e8b5a0f1d2c3e4b5a"),
    ("123456789012", "210987654321"),
)


@functools.cache
def _real_dkim_key() -> str:
    """A real RSA public key (base64 DER), made once per test session: nothing to commit."""
    import base64

    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return base64.b64encode(key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)).decode()


def own_values(text: str) -> str:
    """A stack file's text with every documentation value of the example replaced by a real-looking one."""
    for old, new in _OWN_VALUES:
        text = text.replace(old, new)
    return re.sub(r"p=[A-Za-z0-9+/=]*FAKE[A-Za-z0-9+/=]*", lambda _: "p=" + _real_dkim_key(), text)


def own(value: str) -> str:
    """The same replacement for one expected value (a host name, a message) of a test."""
    for old, new in _OWN_VALUES:
        value = value.replace(old, new)
    return value


# -- tenant groups ---------------------------------------------------------------------------------------
# A wildcard group below a subdomain (with an exception) and an explicit group at the apex.
CLIENTS = {"name": "clients", "domain": "portal.example.com", "origin": "portal-lb.example.net", "wildcard": True,
           "flows": {"login": "/login", "dashboard": "/dashboard"}, "tenants": ["acme", "globex", "initech"],
           "except": ["admin"], "sample": 2}
PARTNERS = {"name": "partners", "domain": "example.com", "origin": "203.0.113.30",
            "tenants": ["partner0", "partner1", "partner2"], "flows": {"login": "/login"}}


def with_groups(*groups, **more):
    def edit(config):
        config["launchready:tenantGroups"] = [dict(g) for g in groups]
        for key, value in more.items():
            config[f"launchready:{key}"] = value
    return edit
