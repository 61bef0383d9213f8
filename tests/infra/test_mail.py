"""Mail authentication under Pulumi's mock runtime: the records and resources the program declares."""
from __future__ import annotations

import pytest

from infra.contract import build_contract
from infra.spec import load_stack
from infra.spec.mailspec import txt_value

pytestmark = pytest.mark.unit

RECORD = "cloudflare:index/dnsRecord:DnsRecord"
IDENTITY = "aws:sesv2/emailIdentity:EmailIdentity"
MAIL_FROM = "aws:sesv2/emailIdentityMailFromAttributes:EmailIdentityMailFromAttributes"


def records(run, name, type_) -> list[dict]:
    return [r.inputs for r in run.of_type(RECORD) if r.inputs["name"] == name and r.inputs["type"] == type_]


def test_spf_content_and_lookup_count(example_run):
    (apex,) = records(example_run, "example.com", "TXT")
    assert apex["content"] == "v=spf1 include:_spf.google.com -all"
    (bounce,) = records(example_run, "bounce.example.com", "TXT")
    assert bounce["content"] == "v=spf1 include:amazonses.com -all"
    spf = {s["name"]: s for s in example_run.outputs["launchContract"]["mail"]["spf"]}
    assert spf["example.com"]["lookups"] == 3 and spf["bounce.example.com"]["lookups"] == 1
    assert all(s["value"].endswith(" -all") for s in spf.values())


def test_one_spf_record_per_name(example_run):
    spf_names = [r.inputs["name"] for r in example_run.of_type(RECORD)
                 if r.inputs["type"] == "TXT" and txt_value(r.inputs["content"]).startswith("v=spf1")]
    assert len(spf_names) == len(set(spf_names))


def test_ses_identity_easy_dkim_and_mail_from(example_run):
    (identity,) = example_run.of_type(IDENTITY)
    assert identity.inputs["emailIdentity"] == "example.com"
    assert identity.inputs["region"] == "eu-west-1"
    assert identity.inputs["dkimSigningAttributes"]["nextSigningKeyLength"] == "RSA_2048_BIT"
    (mail_from,) = example_run.of_type(MAIL_FROM)
    assert mail_from.inputs["mailFromDomain"] == "bounce.example.com"
    (mx,) = records(example_run, "bounce.example.com", "MX")
    assert mx["content"] == "feedback-smtp.eu-west-1.amazonses.com" and mx["priority"] == 10


def test_dkim_cnames_from_the_ses_tokens(example_run):
    (identity,) = example_run.of_type(IDENTITY)
    tokens = identity.outputs["dkimSigningAttributes"]["tokens"]
    assert len(tokens) == 3
    assert example_run.outputs["sesDkimTokens"] == tokens
    for token in tokens:
        (cname,) = records(example_run, f"{token}._domainkey.example.com", "CNAME")
        assert cname["content"] == f"{token}.dkim.amazonses.com"
        assert cname["proxied"] is False  # a proxied CNAME would hide the target from receivers
    # The contract, given the outputs, expects exactly those records.
    contract = build_contract(load_stack("example"), example_run.outputs)
    ses_dkim = [d for d in contract["mail"]["dkim"] if d["provider"] == "ses"]
    assert {(d["name"], d["content"]) for d in ses_dkim} == {
        (f"{t}._domainkey.example.com", f"{t}.dkim.amazonses.com") for t in tokens}


def test_dns_only_provider_dkim(example_run):
    (dkim,) = records(example_run, "google._domainkey.example.com", "TXT")
    strings = dkim["content"][1:-1].split('" "')
    assert all(len(s.encode()) <= 255 for s in strings) and len(strings) == 2
    assert txt_value(dkim["content"]).startswith("v=DKIM1; k=rsa; p=")


def test_dmarc(example_run):
    (dmarc,) = records(example_run, "_dmarc.example.com", "TXT")
    assert dmarc["content"] == "v=DMARC1; p=reject; sp=reject; adkim=s; aspf=r; rua=mailto:dmarc-reports@example.com"


def test_inbound_mx_mta_sts_and_tls_rpt(example_run):
    (mx,) = records(example_run, "example.com", "MX")
    assert (mx["content"], mx["priority"]) == ("smtp.google.com", 1)
    (sts,) = records(example_run, "_mta-sts.example.com", "TXT")
    assert sts["content"].startswith("v=STSv1; id=")
    (host,) = records(example_run, "mta-sts.example.com", "AAAA")
    assert host["proxied"] is True
    (worker,) = example_run.of_type("cloudflare:index/workersScript:WorkersScript")
    assert "mode: enforce\\r\\nmx: smtp.google.com\\r\\nmax_age: 604800" in worker.inputs["content"]
    assert worker.inputs["mainModule"] == "mta-sts.mjs"
    (route,) = example_run.of_type("cloudflare:index/workersRoute:WorkersRoute")
    assert route.inputs["pattern"] == "mta-sts.example.com/*"
    assert route.inputs["script"] == worker.inputs["scriptName"]
    (rpt,) = records(example_run, "_smtp._tls.example.com", "TXT")
    assert rpt["content"] == "v=TLSRPTv1; rua=mailto:tls-reports@example.com"


def test_null_mx_and_reject_for_non_sending_names(example_run):
    for name in ("www.example.com", "app.example.com"):
        (mx,) = records(example_run, name, "MX")
        assert (mx["content"], mx["priority"]) == (".", 0)
        (spf,) = records(example_run, name, "TXT")
        assert spf["content"] == "v=spf1 -all"
        (dmarc,) = records(example_run, f"_dmarc.{name}", "TXT")
        assert dmarc["content"] == "v=DMARC1; p=reject"


def test_mail_resources_live_in_the_mail_component(example_run):
    for res in example_run.of_type(IDENTITY) + example_run.of_type(MAIL_FROM):
        assert example_run.top_component(res).type == "launchready:mail:MailAuth"


def test_without_mail_section_nothing_mail(run_with):
    run = run_with(lambda c: c.pop("launchready:mail"))
    assert not run.of_type(IDENTITY)
    assert "sesDkimTokens" not in run.outputs
    assert run.outputs["launchContract"]["mail"] is None
