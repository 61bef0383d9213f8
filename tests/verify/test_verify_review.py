"""Defects found by the read-only review of verify/: bad or masked --outputs, empty runs, CLI limits,
MTA-STS policy HTTP errors, the stack name in the report. Unit tests: no network."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from verify.expectations import OutputsError, from_spec, read_outputs

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
STACKS = REPO / "stacks"


@pytest.fixture(scope="module")
def example_spec():
    from infra.spec import load_stack
    return load_stack("example", str(STACKS))


def _cli(argv, capsys):
    from verify.cli import main
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


# ------------------------------------------------------------------ 1. bad --outputs files

def test_outputs_not_utf8_is_a_clean_error(tmp_path):
    f = tmp_path / "o.json"
    f.write_bytes(b'{"nameServers": ["\xff\xfe"]}')
    with pytest.raises(OutputsError, match="not UTF-8"):
        read_outputs(f)


@pytest.mark.parametrize("doc,needle", [
    ({"nameServers": 5}, "nameServers must be a list of strings (got int)"),
    ({"sesDkimTokens": 7}, "sesDkimTokens must be a list of strings (got int)"),
    ({"sesDkimTokens": "abc"}, "sesDkimTokens must be a list of strings (got str)"),
    ({"nameServers": ["ns1.example.net", 3]}, "nameServers must be a list of strings (got a list with int)"),
    ({"sesDkimTokens": {"a": "hunter2"}}, "sesDkimTokens must be a list of strings (got dict)"),
])
def test_outputs_wrong_types_are_a_clean_error(tmp_path, doc, needle):
    f = tmp_path / "o.json"
    f.write_text(json.dumps(doc))
    with pytest.raises(OutputsError) as e:
        read_outputs(f)
    assert needle in str(e.value) and "hunter2" not in str(e.value)


def test_outputs_other_keys_are_not_judged(tmp_path):
    f = tmp_path / "o.json"
    f.write_text(json.dumps({"nameServers": ["a.ns.test"], "zoneId": 5, "dbPassword": "[secret]"}))
    assert read_outputs(f)["nameServers"] == ["a.ns.test"]


@pytest.mark.parametrize("content", [b"\xff\xfe\x00", b'{"nameServers": 5}', b'{"sesDkimTokens": 7}'])
def test_cli_bad_outputs_one_line_exit_2(tmp_path, capsys, content):
    f = tmp_path / "o.json"
    f.write_bytes(content)
    rc, out, err = _cli(["--stack", "example", "--stacks-dir", str(STACKS), "--outputs", str(f)], capsys)
    assert rc == 2 and err.startswith("launchready verify: ") and err.count("\n") == 1 and "Traceback" not in err


# ------------------------------------------------------------------ 2. masked outputs

@pytest.mark.parametrize("doc", [
    {"sesDkimTokens": "[secret]"}, {"nameServers": "[secret]"}, {"nameServers": ["a.ns.test", "[secret]"]},
])
def test_masked_outputs_are_refused_with_the_way_out(tmp_path, doc):
    f = tmp_path / "o.json"
    f.write_text(json.dumps(doc))
    with pytest.raises(OutputsError) as e:
        read_outputs(f)
    assert "masked" in str(e.value) and "--show-secrets" in str(e.value)


def test_masked_outputs_never_become_expectations(example_spec):
    for outputs in ({"sesDkimTokens": "[secret]"}, {"nameServers": "[secret]"}):
        with pytest.raises(OutputsError, match="masked"):
            from_spec(example_spec, stack="example", outputs=outputs)


# ------------------------------------------------------------------ 6. only the names infra exports

def test_only_the_exported_output_names_are_read(example_spec):
    exp = from_spec(example_spec, outputs={"dkimTokens": ["tok1"], "ses_dkim_tokens": ["tok2"],
                                           "zoneNameServers": ["x.ns.test"], "nameservers": ["y.ns.test"]})
    assert exp.nameservers == ()
    assert exp.mail.ses_dkim_pending and not any(d.provider == "ses" for d in exp.mail.dkim)
    exp = from_spec(example_spec, outputs={"sesDkimTokens": ["Tok1"], "nameServers": ["B.ns.test.", "a.ns.test"]})
    assert exp.nameservers == ("a.ns.test", "b.ns.test")
    assert any(d.name.startswith("tok1._domainkey.") for d in exp.mail.dkim) and not exp.mail.ses_dkim_pending


def test_expectations_import_the_contract_directly():
    import verify.expectations as e
    src = Path(e.__file__).read_text()
    assert "except ImportError" not in src and "def _get(" not in src and "zoneNameServers" not in src
    from infra.contract import build_contract
    assert e.build_contract is build_contract


# ------------------------------------------------------------------ 3. an empty run is not "all passed"

def test_no_results_or_all_skipped_is_exit_2():
    from infra.findings import exit_code
    from verify.model import Status, result, verify_report
    def r(s):
        return result("x", "g", "t", s, "m")
    assert exit_code([]) == 2
    assert exit_code([r(Status.SKIPPED), r(Status.SKIPPED)]) == 2
    assert exit_code([r(Status.SKIPPED), r(Status.PASS)]) == 0
    assert exit_code([r(Status.SKIPPED), r(Status.FAIL)]) == 1
    rep = verify_report("s", "d.test", (), "2026-01-01T00:00:00+00:00", 0.0, ())
    assert rep.nothing_checked and rep.exit_code == 2


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_cli_skip_everything_says_nothing_was_checked(capsys, fmt):
    rc, out, err = _cli(["--stack", "example", "--stacks-dir", str(STACKS), "--skip", "dns,mail,tls,http,perf,cache,tenants,aws,portal",
                         "--nameserver", "127.0.0.1:9", "--format", fmt], capsys)
    assert rc == 2 and "nothing was checked" in err
    if fmt == "json":
        doc = json.loads(out)
        assert doc["findings"] == [] and doc["exitCode"] == 2
    else:
        assert "exit 2: nothing was checked" in out


# ------------------------------------------------------------------ 4. --timeout/--deadline, --ca-file

@pytest.mark.parametrize("opt,value", [("--timeout", "nan"), ("--deadline", "nan"), ("--timeout", "inf"),
                                       ("--deadline", "-inf"), ("--timeout", "0")])
def test_cli_timeout_and_deadline_must_be_finite_positive(capsys, opt, value):
    rc, out, err = _cli(["--stack", "example", "--stacks-dir", str(STACKS), "--skip", "dns,mail",
                         "--nameserver", "127.0.0.1:9", f"{opt}={value}"], capsys)
    assert rc == 2 and "finite positive" in err and err.count("\n") == 1 and out == ""


@pytest.mark.parametrize("content,needle", [
    (b"not a certificate\n", "is not a PEM bundle"),
    (b"\x00\x01\x02garbage", "is not a PEM bundle"),
    (None, "cannot read --ca-file"),
])
def test_cli_ca_file_must_be_a_pem_bundle(tmp_path, capsys, content, needle):
    f = tmp_path / "ca.pem"
    if content is not None:
        f.write_bytes(content)
    rc, out, err = _cli(["--stack", "example", "--stacks-dir", str(STACKS), "--only", "mta-sts-policy",
                         "--nameserver", "127.0.0.1:9", "--ca-file", str(f)], capsys)
    assert rc == 2 and needle in err and err.count("\n") == 1 and "Traceback" not in err and out == ""


def test_cli_loads_the_ca_file_once_and_passes_the_context(tmp_path, capsys, monkeypatch):
    import ssl

    import trustme

    import verify.cli as cli
    ca = trustme.CA()
    f = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(f))
    seen = {}
    monkeypatch.setattr(cli, "run_and_render", lambda exp, fmt, **kw: seen.update(kw) or 0)
    rc, _, err = _cli(["--stack", "example", "--stacks-dir", str(STACKS), "--ca-file", str(f)], capsys)
    assert rc == 0, err
    ctx = seen["ssl_context"]
    assert isinstance(ctx, ssl.SSLContext) and len(ctx.get_ca_certs()) == 1 and "ca_file" not in seen


# ------------------------------------------------------------------ 5. MTA-STS policy HTTP errors

class _FixedPolicy:
    def __init__(self, status, text=""):
        self.status, self.text = status, text

    def fetch(self, domain):
        from verify.context import FetchedPolicy
        return FetchedPolicy(url=f"https://mta-sts.{domain}/.well-known/mta-sts.txt", status=self.status,
                             content_type="text/plain", text=self.text)


def _sts_results(status, text=""):
    from verify.audit import audit
    from verify.expectations import Expectations, MailExpectations, MtaStsExpectation
    exp = Expectations(stack="t", domain="d.test",
                       mail=MailExpectations(domain="d.test", mta_sts=MtaStsExpectation(mode="enforce")))
    rep = audit(exp, nameservers=[("127.0.0.1", 9)], only=["mta-sts-policy"], fetcher=_FixedPolicy(status, text))
    (r,) = rep.findings
    return r, rep


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_mta_sts_policy_server_errors_are_error_not_fail(status):
    from verify.model import Status
    r, rep = _sts_results(status)
    assert r.status is Status.ERROR and str(status) in r.message and r.error_type == "PolicyFetchError"
    assert rep.exit_code == 2


@pytest.mark.parametrize("status", [404, 403, 410, 301])
def test_mta_sts_policy_missing_is_still_fail(status):
    from verify.model import Status
    r, rep = _sts_results(status)
    assert r.status is Status.FAIL and str(status) in r.message and rep.exit_code == 1


def test_mta_sts_policy_200_is_judged():
    from verify.model import Status
    r, _ = _sts_results(200, "version: STSv1\nmode: enforce\nmx: mx.d.test\nmax_age: 604800\n")
    assert r.status is Status.PASS


# ------------------------------------------------------------------ 7. the stack's name, not its path

@pytest.mark.parametrize("stack", ["example", str(STACKS / "Pulumi.example.yaml")])
def test_report_names_the_stack_even_when_given_a_path(capsys, monkeypatch, stack):
    import verify.cli as cli
    seen = {}
    monkeypatch.setattr(cli, "run_and_render", lambda exp, fmt, **kw: seen.update(exp=exp) or 0)
    rc, _, err = _cli(["--stack", stack, "--stacks-dir", str(STACKS)], capsys)
    assert rc == 0, err
    assert seen["exp"].stack == "example"


# ------------------------------------------------------------------ 8. comments say what is true now

def test_world_mail_is_the_example_stacks_own_and_no_comment_waits_for_issue_3():
    import worldkit.world as world

    import verify.expectations
    from infra.spec import load_stack
    for mod in (verify.expectations, world):
        src = Path(mod.__file__).read_text()
        assert "issue 3" not in src and "Until the spec's mail section exists" not in src
    base = load_stack("example", str(STACKS))
    spec = world.world_spec("w.test", world.dkim_txt(None), stacks_dir=STACKS)
    assert base.mail is not None and spec.mail is not None
    assert [p.provider for p in spec.mail.providers] == [p.provider for p in base.mail.providers] == ["ses", "google-workspace"]
