"""The placeholder predicates plan and gate share (infra/knowledge/placeholders.py)."""
from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from infra.knowledge.placeholders import (
    address_host,
    dkim_key_is_fake,
    is_doc_account_function,
    is_doc_ip,
    is_fake_account_id,
    is_public_key_der,
    reserved_domain,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("text,expected", [("203.0.113.10", True), ("198.51.100.1", True), ("192.0.2.255", True),
                                           ("2001:db8::1", True), ("52.30.1.10", False), ("203.0.114.1", False),
                                           ("lb.example.net", False), ("", False)])
def test_documentation_addresses(text, expected):
    assert is_doc_ip(text) is expected


@pytest.mark.parametrize("name,expected", [("example.com", "example.com"), ("app.example.org", "example.org"),
                                           ("portal.test", "portal.test"), ("x.y.invalid", "y.invalid"),
                                           ("Example.COM.", "example.com"), ("myexample.com", None),
                                           ("example.com.au", None), ("acme-portal.eu", None)])
def test_reserved_domains(name, expected):
    assert reserved_domain(name) == expected


@pytest.mark.parametrize("address,host", [("oncall@example.com", "example.com"), ("mailto:a@b.org", "b.org"),
                                          ("https://hooks.example.com/x?y=1", "hooks.example.com"),
                                          ("https://user:pw@h.example.net:8443/p", "h.example.net")])  # pragma: allowlist secret
def test_address_host(address, host):
    assert address_host(address) == host


def test_fake_ids_and_documentation_account():
    assert is_fake_account_id("0123456789abcdef0123456789abcdef")
    assert not is_fake_account_id("9f3c1a7be0d24c6e8b5a0f1d2c3e4b5a")
    assert is_doc_account_function("arn:aws:lambda:eu-west-1:123456789012:function:rotate")
    assert not is_doc_account_function("arn:aws:kms:us-east-1:123456789012:key/abc")   # a mock's ARN, not the user's
    assert not is_doc_account_function("arn:aws:lambda:eu-west-1:210987654321:function:rotate")


@pytest.mark.parametrize("key", [rsa.generate_private_key(public_exponent=65537, key_size=2048),
                                 ec.generate_private_key(ec.SECP256R1()), ed25519.Ed25519PrivateKey.generate()],
                         ids=["rsa", "ec", "ed25519"])
def test_real_public_keys_are_not_fake(key):
    der = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    b64 = base64.b64encode(der).decode()
    assert is_public_key_der(der)
    assert not dkim_key_is_fake(f"v=DKIM1; k=rsa; p={b64}")
    assert not dkim_key_is_fake(f'"v=DKIM1; k=rsa; p={b64[:100]}" "{b64[100:]}"')   # split into TXT strings
    assert dkim_key_is_fake(f"v=DKIM1; k=rsa; p={b64[:-8]}")                            # cut short
    assert not is_public_key_der(der + b"\x00") and not is_public_key_der(der[:-1])


def test_fake_and_bare_keys():
    assert dkim_key_is_fake("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAFAKEexampleKEY")
    assert dkim_key_is_fake("v=DKIM1; k=rsa; p=not*base64")
    assert not dkim_key_is_fake("v=DKIM1; p=")                                           # a revoked key is not a placeholder
    raw = base64.b64encode(bytes(range(32))).decode()
    assert not dkim_key_is_fake(f"v=DKIM1; k=ed25519; p={raw}")                          # RFC 8463: the bare key
    assert dkim_key_is_fake(f"v=DKIM1; k=ed25519; p={raw[:-4]}")
