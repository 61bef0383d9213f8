"""Certificates for the web world: a trustme CA, and leaves built with `cryptography` signed by its key.

trustme's own leaves mark the SAN critical beside a non-empty subject, which strict verifiers
(cryptography's PolicyBuilder, sslyze 6) reject; these leaves have a CN, a non-critical SAN, AKI/SKI,
serverAuth EKU and a critical basicConstraints CA:FALSE, so every client accepts them.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DAY = dt.timedelta(days=1)


class TestCA:
    """The world's CA (trustme) with its certificate written to `ca_file`."""

    __test__ = False  # not a pytest class

    def __init__(self, workdir: Path) -> None:
        import trustme

        self._ca = trustme.CA(organization_name="launch-ready web world")
        self.ca_file = str(workdir / "web-ca.pem")
        self._ca.cert_pem.write_to_path(self.ca_file)
        self.key = serialization.load_pem_private_key(self._ca.private_key_pem.bytes(), password=None)
        self.cert = x509.load_pem_x509_certificate(self._ca.cert_pem.bytes())

    def leaf(self, names: tuple[str, ...], not_before: dt.datetime, not_after: dt.datetime) -> tuple[bytes, bytes]:
        """(certificate PEM, private key PEM) for `names`; the first name is the CN."""
        key = ec.generate_private_key(ec.SECP256R1())
        ski = self.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        chain = cert.public_bytes(serialization.Encoding.PEM)  # the leaf only: the CA is the trust anchor
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        return chain, key_pem

    def write_leaf(self, mode: str, hosts: tuple[str, ...], canonical: str, alias: str | None,
                   workdir: Path) -> tuple[str, str]:
        """Write the leaf for a cert mode (valid | expired | no-www); (cert path, key path)."""
        now = dt.datetime.now(dt.UTC)
        names = (canonical, *[h for h in hosts if h != canonical])
        if mode == "valid":
            chain, key = self.leaf(names, now - DAY, now + 90 * DAY)
        elif mode == "expired":
            chain, key = self.leaf(names, now - 100 * DAY, now - 10 * DAY)
        elif mode == "no-www":
            chain, key = self.leaf(tuple(n for n in names if n != alias), now - DAY, now + 90 * DAY)
        else:
            raise ValueError(f"unknown cert mode {mode!r}")
        cert_path, key_path = workdir / f"leaf-{mode}.pem", workdir / f"leaf-{mode}.key"
        cert_path.write_bytes(chain)
        key_path.write_bytes(key)
        key_path.chmod(0o600)
        return str(cert_path), str(key_path)
