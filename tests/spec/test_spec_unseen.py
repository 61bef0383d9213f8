"""Stack files written the way people really get them wrong, edited by hand as text (tabs, bad
indentation, pasted URLs, units, duplicate keys ...), not generated from a valid document.

Each case asserts the exact line the user sees: file:line, key path, value (never a secret value)
and what was expected. Cases here are the ones the other spec tests do not cover.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from infra.spec import SpecError, load_stack

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = (ROOT / "stacks" / "Pulumi.example.yaml").read_text()
PLANTED = "sk_live_51PLANTEDsecretVALUE0000"  # pragma: allowlist secret (a fake, planted to prove it is never echoed)


def edited(old: str, new: str) -> str:
    assert EXAMPLE.count(old) >= 1, old
    return EXAMPLE.replace(old, new, 1)


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line of `needle` in `text`."""
    return text[: text.index(needle)].count("\n") + 1


def messages(tmp_path: Path, text: str) -> tuple[Path, list[str]]:
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_stack(str(path))
    return path, [str(i) for i in info.value.issues]


# name: (stack file text, needle whose line the error names, expected message after "file:line: ",
#        or a function of the text for messages that name a second line)
CASES = {
    "tab indentation": (
        edited("      origin: 203.0.113.20\n", "\torigin: 203.0.113.20\n"), "\torigin",
        "not valid YAML: found character '\\t' that cannot start any token (a tab character: YAML indents with spaces only)"),
    "key indented too deep": (
        edited("      origin: 203.0.113.20\n", "        origin: 203.0.113.20\n"), "        origin: 203.0.113.20",
        "not valid YAML: expected <block end>, but found '<block mapping start>' (the indentation is off here: keys of "
        "one mapping must line up, and list items start with '- ' at one depth)"),
    "a list where a mapping is expected": (
        edited('  launchready:tls:\n    sslMode: strict\n    minVersion: "1.2"\n    tls13: true\n    hsts:\n      maxAge: 31536000\n'
               '      includeSubdomains: true\n      preload: false\n',
               '  launchready:tls:\n    - sslMode: strict\n    - minVersion: "1.2"\n    - hsts:\n        maxAge: 31536000\n'),
        "  launchready:tls:",
        "tls: is a list, expected a mapping of keys (write `key: value` lines without '- ')"),
    "hosts without the launchready: prefix": (
        edited("  launchready:hosts:\n", "  hosts:\n"), "  hosts:",
        "hosts: has no namespace: write launchready:hosts (the Pulumi CLI rejects stack config keys that are not "
        "<namespace>:<name>)"),
    "a spec section outside config:": (
        EXAMPLE + "launchready:dnssec: false\n", "launchready:dnssec: false",
        "launchready:dnssec: is not a stack file key (indent it under config: as launchready:dnssec)"),
    "IPv6 origin typo": (
        edited("      origin: 203.0.113.20\n", "      origin: 2001:db8::g1\n"), "2001:db8::g1",
        "hosts[2].origin: '2001:db8::g1' is not a valid IP address or hostname (not a valid IPv6 address)"),
    "IPv4 origin with a port": (
        edited("      origin: 203.0.113.20\n", "      origin: 203.0.113.20:8080\n"), "203.0.113.20:8080",
        "hosts[2].origin: '203.0.113.20:8080' is not a valid IP address or hostname (write the name alone, without the port :8080)"),
    "port in a hostname": (
        edited("    - name: app.example.com ", "    - name: app.example.com:8443 "), "app.example.com:8443",
        "hosts[2].name: 'app.example.com:8443' is not a valid hostname (write the name alone, without the port :8443)"),
    "URL instead of a hostname": (
        edited("    - name: app.example.com ", "    - name: https://app.example.com "), "https://app.example.com ",
        "hosts[2].name: 'https://app.example.com' is not a valid hostname (write the name alone, without the scheme 'https://')"),
    "domain given as a URL reports one problem, not a cascade": (
        edited("  launchready:domain: example.com\n", "  launchready:domain: https://example.com/\n"),
        "launchready:domain:",
        "domain: 'https://example.com/' is not a valid hostname (write the name alone, without the scheme 'https://')"),
    "redirect from with a query string": (
        edited("    - from: /signin\n", "    - from: /signin?next=/app\n"), "/signin?next",
        "redirects[0].from: '/signin?next=/app' is not a valid URL path (expected something like /login, without query or fragment)"),
    "rate limit period with a unit": (
        edited("      period: 60\n      mitigationTimeout: 600\n", "      period: 1m\n      mitigationTimeout: 600\n"),
        "period: 1m", "rateLimits[0].period: '1m' is not an integer (seconds, e.g. 60)"),
    "HSTS max-age with a unit": (
        edited("      maxAge: 31536000\n", "      maxAge: 1y\n"), "maxAge: 1y",
        "tls.hsts.maxAge: '1y' is not an integer (seconds, e.g. 31536000 for a year)"),
    "CAA issuer with a scheme": (
        edited("launchready:caa: [letsencrypt.org, pki.goog]", "launchready:caa: [https://letsencrypt.org, pki.goog]"),
        "launchready:caa:",
        "caa[0]: 'https://letsencrypt.org' is not a valid hostname (write the name alone, without the scheme 'https://')"),
    "DMARC rua as a bare address": (
        edited("rua: [mailto:dmarc-reports@example.com]", "rua: [admin@example.com]"), "rua: [admin@",
        "mail.dmarc.rua[0]: 'admin@example.com' is not a mailto: URI (expected e.g. mailto:dmarc-reports@example.com)"),
    "DMARC rua as a scalar, not a list": (
        edited("rua: [mailto:dmarc-reports@example.com]", "rua: mailto:dmarc-reports@example.com"),
        "rua: mailto:dmarc",
        "mail.dmarc.rua: 'mailto:dmarc-reports@example.com' is not a list (write [a, b], or one '- item' per line)"),
    "DMARC pct with a percent sign": (
        edited("      aspf: r ", "      pct: 50%\n      aspf: r "), "pct: 50%",
        "mail.dmarc.pct: '50%' is not an integer (percent, 0..100, without %)"),
    "provider name typo": (
        edited("      - provider: google-workspace ", "      - provider: sendgird "), "provider: sendgird",
        "mail.providers[1]: provider: 'sendgird' is not in the catalog (did you mean 'sendgrid'? expected one of: "
        "google-workspace, mailgun, microsoft-365, postmark, resend, sendgrid, ses)"),
    "provider by another name": (
        edited("      - provider: google-workspace ", "      - provider: gsuite "), "provider: gsuite",
        "mail.providers[1]: provider: 'gsuite' is not in the catalog (did you mean 'google-workspace'? expected one of: "
        "google-workspace, mailgun, microsoft-365, postmark, resend, sendgrid, ses)"),
    "p=none in production without the staged flag": (
        edited("      policy: reject\n      subdomainPolicy: reject\n", "      policy: none\n      subdomainPolicy: reject\n"),
        "    dmarc:",
        "mail.dmarc: policy: 'none' is allowed only during a staged rollout (set stagedRollout: true)"),
    "secret config key in plaintext": (
        edited("  launchready:secrets:\n", f"  launchready:stripeApiKey: {PLANTED}\n  launchready:secrets:\n"),
        "launchready:stripeApiKey:",
        "launchready:stripeApiKey: is plaintext in the stack file, but secrets.items[2] (stripe-api-key) needs a secret: "
        "remove it and run `pulumi config set --secret stripeApiKey` (value not shown)"),
    "secret pasted where its config key belongs": (
        edited("        fromConfig: stripeApiKey\n", f"        fromConfig: {PLANTED}\n"), f"fromConfig: {PLANTED}",
        "secrets.items[2].fromConfig: must name a config key (e.g. stripeApiKey), and this looks like a secret value "
        "(value not shown): remove it from the file, run `pulumi config set --secret stripeApiKey` and write "
        "fromConfig: stripeApiKey"),
    "env key referencing an undefined secret": (
        edited("      STRIPE_API_KEY: {secret: stripe-api-key}\n", "      STRIPE_API_KEY: {secret: stripe-key}\n"),
        "STRIPE_API_KEY: {secret: stripe-key}",
        "secrets.env.STRIPE_API_KEY.secret: 'stripe-key' is not among secrets.items"),
    "env secret written in plaintext": (
        edited("      STRIPE_API_KEY: {secret: stripe-api-key}\n", f"      STRIPE_API_KEY: {PLANTED}\n"),
        "STRIPE_API_KEY:",
        "secrets.env.STRIPE_API_KEY: looks like a secret but has a plain value: declare it under secrets.items and "
        "write {secret: <name>} (value not shown)"),
    "monitoring webhook over http": (
        edited("webhooks: [https://hooks.example.com/launchready/alerts]", "webhooks: [http://hooks.example.com/launchready/alerts]"),
        "webhooks: [http:",
        "monitoring.alerts.webhooks[0]: 'http://hooks.example.com/launchready/alerts' is not an https:// URL "
        "(SNS delivers webhooks over HTTPS only here)"),
    "alert email as a scalar": (
        edited("      email: [oncall@example.com]\n", "      email: oncall@example.com\n"), "email: oncall@",
        "monitoring.alerts.email: 'oncall@example.com' is not a list (write [a, b], or one '- item' per line)"),
    "duplicate top-level key": (
        edited("  launchready:dnssec: true\n", "  launchready:dnssec: true\n  launchready:caa: [letsencrypt.org]\n"),
        "  launchready:caa: [letsencrypt.org]\n",
        lambda text: f"launchready:caa: is given twice (first at line {line_of(text, '  launchready:caa:')}): YAML would "
                     "silently keep only this one and the Pulumi CLI rejects the file; remove one"),
    "duplicate nested key": (
        edited("      preload: false\n", "      preload: false\n      maxAge: 300\n"), "      maxAge: 300",
        lambda text: f"tls.hsts.maxAge: is given twice (first at line {line_of(text, '      maxAge: 31536000')}): YAML "
                     "would silently keep only this one and the Pulumi CLI rejects the file; remove one"),
    "hosts left empty": (
        EXAMPLE.replace(EXAMPLE[EXAMPLE.index("  launchready:hosts:\n"):EXAMPLE.index("  launchready:redirects:")],
                        "  launchready:hosts:\n\n"),
        "  launchready:hosts:", "hosts: is empty (expected a list)"),
    "zone as a string": (
        edited("  launchready:zone:\n    name: example.com                            # an existing Cloudflare zone\n"
               "    accountId: 0123456789abcdef0123456789abcdef  # its account: the MTA-STS Worker and alert policies live there\n",
               "  launchready:zone: example.com\n"),
        "  launchready:zone:",
        "zone: 'example.com' is not a mapping of keys (expected `key: value` lines)"),
}
CASES["hosts as a mapping"] = (
    EXAMPLE.replace(EXAMPLE[EXAMPLE.index("  launchready:hosts:\n"):EXAMPLE.index("  launchready:redirects:")],
                    "  launchready:hosts:\n    name: example.com\n    origin: 203.0.113.10\n\n"),
    "  launchready:hosts:", "hosts: is a mapping, expected a list (start each item with '- ')")


@pytest.mark.parametrize("case", sorted(CASES))
def test_unseen_malformed_stack(tmp_path, case):
    text, needle, expected = CASES[case]
    path, found = messages(tmp_path, text)
    line = line_of(text, needle)
    if callable(expected):
        expected = expected(text)
    assert f"{path}:{line}: {expected}" in found, found
    assert PLANTED not in "\n".join(found)
    assert len(found) == 1, found  # one mistake, one message: no cascade


FILE_LEVEL = {
    "empty file": ("", "the stack file is empty: expected `config:` with launchready:domain, launchready:hosts, ... "
                       "(copy stacks/Pulumi.example.yaml)"),
    "comments only": ("# TODO: fill in\n", "the stack file is empty: expected `config:` with launchready:domain, "
                                          "launchready:hosts, ... (copy stacks/Pulumi.example.yaml)"),
    "file that is a list": ("- launchready:domain: example.com\n- launchready:hosts: []\n",
                            "the stack file is a list: expected a mapping with `config:` at the top "
                            "(config: {launchready:domain: ...})"),
}


@pytest.mark.parametrize("case", sorted(FILE_LEVEL))
def test_file_level_mistakes(tmp_path, case):
    text, expected = FILE_LEVEL[case]
    path, found = messages(tmp_path, text)
    assert found == [f"{path}:1: {expected}"]


def test_config_as_a_list(tmp_path):
    path, found = messages(tmp_path, "config:\n  - launchready:domain: example.com\n")
    assert found == [f"{path}:1: config: is a list: expected a mapping of config keys (launchready:domain: ..., without '- ')"]


def test_not_utf8(tmp_path):
    path = tmp_path / "Pulumi.latin1.yaml"
    path.write_bytes(EXAMPLE.encode().replace(b"# marketing site", b"# caf\xe9 site"))  # saved as Latin-1
    with pytest.raises(SpecError) as info:
        load_stack(str(path))
    line = line_of(EXAMPLE, "# marketing site")
    assert [str(i) for i in info.value.issues] == [f"{path}:{line}: not UTF-8 text (byte 0xe9); save the file as UTF-8"]


def test_every_unseen_mistake_at_once(tmp_path):
    text = EXAMPLE
    for old, new in [
        ("    - name: app.example.com ", "    - name: app.example.com:8443 "),
        ("    - from: /signin\n", "    - from: /signin?next=/app\n"),
        ("      period: 60\n      mitigationTimeout: 600\n", "      period: 1m\n      mitigationTimeout: 600\n"),
        ("launchready:caa: [letsencrypt.org, pki.goog]", "launchready:caa: [https://letsencrypt.org, pki.goog]"),
        ("      - provider: google-workspace ", "      - provider: sendgird "),
        ("      STRIPE_API_KEY: {secret: stripe-api-key}\n", "      STRIPE_API_KEY: {secret: stripe-key}\n"),
        ("webhooks: [https://hooks.example.com/launchready/alerts]", "webhooks: [http://hooks.example.com/x]"),
    ]:
        text = text.replace(old, new, 1)
    path, found = messages(tmp_path, text)
    assert [f.split(": ", 2)[1] for f in found] == [
        "hosts[2].name", "redirects[0].from", "rateLimits[0].period", "caa[0]", "mail.providers[1]",
        "secrets.env.STRIPE_API_KEY.secret", "monitoring.alerts.webhooks[0]"], found


def test_cli_prints_errors_without_traceback_or_secret(tmp_path):
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text(CASES["secret pasted where its config key belongs"][0].replace(
        "  launchready:dnssec: true\n", "  launchready:dnssec: true\n  launchready:dnssec: false\n"))
    proc = subprocess.run([sys.executable, "-m", "infra.cli", "plan", "--stack", str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert PLANTED not in proc.stderr
    assert f"{path}:" in proc.stderr and "launchready:dnssec: is given twice" in proc.stderr
