"""Spec validation: the example passes; each malformed stack file gives its exact message."""
from __future__ import annotations

from pathlib import Path

import pytest
from stackfiles import problems, spec_error, stack_with

from infra.spec import SpecError, load_stack, planned_records

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def test_example_stack_is_valid():
    spec = load_stack("example", ROOT / "stacks")
    assert spec.domain == "example.com"
    assert spec.canonical_name == "example.com" and spec.alias_name == "www.example.com"
    assert {h.name for h in spec.hosts} >= {"example.com", "www.example.com", "app.example.com", "api.example.com"}
    assert spec.host("app.example.com").auth_flows == {
        "login": "/login", "reset": "/password/reset", "invite": "/invite/accept"}


def test_every_stack_in_stacks_dir_is_valid():
    files = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))
    assert len(files) >= 2
    for f in files:
        load_stack(str(f))


CASES = {
    "invalid hostname": (
        lambda c: c["launchready:hosts"][2].update(name="app..example.com"),
        "hosts[2].name: 'app..example.com' is not a valid hostname"),
    "invalid IP": (
        lambda c: c["launchready:hosts"][2].update(origin="203.0.113.300"),
        "hosts[2].origin: '203.0.113.300' is not a valid IP address or hostname (not a valid IPv4 address)"),
    "host outside the apex": (
        lambda c: c["launchready:hosts"][2].update(name="app.example.org"),
        "hosts[2].name: 'app.example.org' is outside the apex domain 'example.com'"),
    "duplicate host": (
        lambda c: c["launchready:hosts"][3].update(name="app.example.com"),
        "hosts[3].name: 'app.example.com' is declared twice (first at hosts[2])"),
    "CNAME beside other records": (
        lambda c: c.setdefault("launchready:records", []).append(
            {"name": "api.example.com", "type": "TXT", "content": "verification=1"}),
        "hosts[3].name: 'api.example.com' has a CNAME (hosts[3]) and other records (TXT from records[0]);"
        " a CNAME must be the only record at its name"),
    "redirect loop": (
        lambda c: c["launchready:redirects"].append({"from": "/login", "to": "/signin"}),
        "redirects[0].to: redirect loop: /signin → /login → /signin"),
    "redirect chain": (
        lambda c: c["launchready:redirects"].append({"from": "/login", "to": "/sign-in"}),
        "redirects[0].to: redirect chain: /signin → /login → /sign-in; point '/signin' straight at '/sign-in'"),
    "typo in a key": (
        lambda c: c["launchready:tls"].update(minVersoin="1.2"),
        "tls.minVersoin: unknown key (did you mean 'minVersion'?)"),
    "typo in a section": (
        lambda c: c.update({"launchready:rateLimit": []}),
        "launchready:rateLimit: unknown key (did you mean launchready:rateLimits?)"),
    "wrong type": (
        lambda c: c["launchready:hosts"][0].update(proxied="yes please"),
        "hosts[0].proxied: 'yes please' is not a boolean (expected true or false)"),
    "zero threshold": (
        lambda c: c["launchready:rateLimits"][0].update(requests=0),
        "rateLimits[0].requests: 0 must be a positive number"),
    "negative period": (
        lambda c: c["launchready:rateLimits"][1].update(period=-60),
        "rateLimits[1].period: -60 must be a positive number"),
    "threshold not a number": (
        lambda c: c["launchready:rateLimits"][0].update(requests="ten"),
        "rateLimits[0].requests: 'ten' is not an integer (requests per period, e.g. 10)"),
    "unknown TLS version": (
        lambda c: c["launchready:tls"].update(minVersion="1.4"),
        "tls.minVersion: '1.4' is not allowed (expected '1.0', '1.1', '1.2' or '1.3')"),
    "missing domain": (
        lambda c: c.pop("launchready:domain"),
        "domain: is required but missing (add launchready:domain under config:)"),
    "canonical www without a www host": (
        lambda c: (c.update({"launchready:canonicalHost": "www"}), c["launchready:hosts"].pop(1)),
        "canonicalHost: 'www' means 'www.example.com', which is not among hosts"),
    "rate limit on an unknown host": (
        lambda c: c["launchready:rateLimits"][3].update(hosts=["admin.example.com"]),
        "rateLimits[3].hosts[0]: 'admin.example.com' is not among hosts"),
    "bad A record content": (
        lambda c: c.setdefault("launchready:records", []).append({"name": "vpn.example.com", "type": "A", "content": "vpn"}),
        "records[0]: content: 'vpn' is not a valid IPv4 address"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_stack_gives_exact_message(tmp_path, case):
    edit, expected = CASES[case]
    found = problems(stack_with(tmp_path, edit))
    assert expected in found, found


def test_all_problems_are_reported_at_once_with_file_and_line(tmp_path):
    def edit(c):
        c["launchready:hosts"][2]["name"] = "app..example.com"
        c["launchready:rateLimits"][0]["requests"] = 0
        c["launchready:tls"]["minVersoin"] = "1.2"
        c["launchready:redirects"].append({"from": "/login", "to": "/signin"})
    path = stack_with(tmp_path, edit)
    with pytest.raises(SpecError) as info:
        load_stack(str(path))
    issues = info.value.issues
    assert len(issues) == 4
    lines = path.read_text().splitlines()
    for issue in issues:
        assert issue.file == str(path) and issue.line
    host_issue = next(i for i in issues if i.path == "hosts[2].name")
    assert "app..example.com" in lines[host_issue.line - 1]
    text = str(info.value)
    assert text.startswith(f"{path}: 4 problems in the stack spec:")
    assert f"{path}:{host_issue.line}: hosts[2].name: 'app..example.com' is not a valid hostname" in text


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = tmp_path / "Pulumi.broken.yaml"
    path.write_text("config:\n  launchready:domain: example.com\n  launchready:hosts: [\n")
    with pytest.raises(SpecError) as info:
        load_stack(str(path))
    (issue,) = info.value.issues
    assert issue.file == str(path) and issue.line == 4 and issue.message.startswith("not valid YAML")


def test_missing_stack_file():
    with pytest.raises(SpecError) as info:
        load_stack("nope", "stacks")
    assert str(info.value.issues[0]) == "stacks/Pulumi.nope.yaml: stack file not found"


@pytest.mark.parametrize("value", [1.2, 1.1, 1])
def test_unquoted_tls_version_is_refused_with_the_quoted_guess(tmp_path, value):
    """YAML reads an unquoted 1.10 as 1.1: a number cannot say which version was meant."""
    path = stack_with(tmp_path, lambda c: c["launchready:tls"].update(minVersion=value))
    with pytest.raises(SpecError) as info:
        load_stack(str(path))
    (issue,) = info.value.issues
    assert issue.path == "tls.minVersion" and f"did you mean '{value:.1f}'?" in issue.message and issue.line


@pytest.mark.parametrize("key,alias", [("min_version", "minVersion"), ("always_use_https", "alwaysUseHttps")])
def test_snake_case_keys_are_refused_with_the_camel_case_name(tmp_path, key, alias):
    path = stack_with(tmp_path, lambda c: c["launchready:tls"].update({key: "1.3" if key == "min_version" else True}))
    with pytest.raises(SpecError) as info:
        load_stack(str(path))
    assert [(i.path, i.message) for i in info.value.issues] == [
        (f"tls.{key}", f"unknown key (did you mean '{alias}'? stack files use camelCase keys)")]


def test_planned_records_cover_hosts_and_caa():
    spec = load_stack("example", ROOT / "stacks")
    recs = planned_records(spec)
    assert {(r.name, r.type) for r in recs} >= {
        ("example.com", "A"), ("www.example.com", "A"), ("app.example.com", "A"), ("api.example.com", "CNAME"),
        ("example.com", "CAA")}
    caa = sorted(r.content for r in recs if r.type == "CAA")
    assert caa == ['0 issue "letsencrypt.org"', '0 issue "pki.goog"', '0 issuewild ";"']


def test_yes_is_not_a_boolean_as_in_pulumi(tmp_path):
    # The Pulumi CLI reads stack files as YAML 1.2: `yes` is a string there, so it must be here too.
    path = tmp_path / "Pulumi.yes.yaml"
    text = (ROOT / "stacks" / "Pulumi.example.yaml").read_text().replace(
        "      origin: 203.0.113.20\n", "      origin: 203.0.113.20\n      proxied: yes\n", 1)
    path.write_text(text)
    assert "hosts[2].proxied: 'yes' is not a boolean (expected true or false)" in problems(path)


def test_recursive_yaml_alias_is_an_error_not_a_crash(tmp_path):
    path = tmp_path / "Pulumi.alias.yaml"
    path.write_text("config:\n  launchready:domain: example.com\n  launchready:hosts: &h\n"
                    "    - name: example.com\n      origin: 203.0.113.1\n      flows: *h\n")
    (issue,) = spec_error(path).issues
    assert (issue.line, issue.message.split(":")[0]) == (3, "a YAML alias refers to a mapping or list that contains it (a recursive &anchor/*alias)")


def test_shared_yaml_alias_is_fine(tmp_path):
    text = (ROOT / "stacks" / "Pulumi.example.yaml").read_text()
    text = text.replace("  launchready:rateLimits:\n    - path: /login\n      methods: [POST]",
                        "  launchready:rateLimits:\n    - path: /login\n      methods: &post [POST]", 1)
    text = text.replace("    - path: /password/reset\n      methods: [POST]", "    - path: /password/reset\n      methods: *post", 1)
    assert "*post" in text
    path = tmp_path / "Pulumi.shared.yaml"
    path.write_text(text)
    assert load_stack(str(path)).rate_limits[1].methods == ["POST"]
