"""infra.knowledge.mailrecords: the record tokenizers policies and verify share."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.knowledge import mailrecords as mr
from infra.knowledge.mailrecords import SpfTerm

pytestmark = pytest.mark.unit


# ------------------------------------------------------------------ examples

def test_spf_terms_qualifiers_modifiers_and_values():
    terms = mr.spf_terms("v=spf1 +INCLUDE:_spf.google.com. a mx/24 -ip4:192.0.2.0/24 redirect=x.test exp=e.%{d} ~all")
    assert terms == [SpfTerm("+", "include", "_spf.google.com"), SpfTerm("+", "a", ""), SpfTerm("+", "mx", ""),
                     SpfTerm("-", "ip4", "192.0.2.0/24"), SpfTerm("=", "redirect", "x.test"),
                     SpfTerm("=", "exp", "e.%{d}"), SpfTerm("~", "all", "")]
    assert mr.spf_all(terms) == "~" and mr.spf_modifier(terms, "redirect") == "x.test"
    assert mr.spf_delegations(terms) == ["_spf.google.com", "x.test"]
    assert mr.spf_all(mr.spf_terms("v=spf1 include:a.test")) is None
    assert mr.spf_terms("v=spf1") == [] and mr.spf_terms("") == []


def test_is_spf_follows_rfc_7208_selection():
    assert mr.is_spf("v=spf1 -all") and mr.is_spf("V=SPF1") and not mr.is_spf("v=spf10 -all")
    assert not mr.is_spf("v=spf1-all") and not mr.is_spf(" v=spf1 -all")


def test_announces_ignores_spaces_and_case():
    assert mr.announces("v = DMARC1; p=reject", "DMARC1") and mr.announces("V=stsv1;id=1", "STSv1")
    assert not mr.announces("p=reject; v=DMARC1", "DMARC1")


def test_dkim_tags_drop_folding_whitespace_in_values():
    tags = mr.dkim_tags('v=DKIM1; K=rsa; t=y:s; p=MIIB IjAN\tBgkq; ')
    assert tags == {"v": "DKIM1", "k": "rsa", "t": "y:s", "p": "MIIBIjANBgkq"}
    assert mr.colon_list(" Y : s ::") == ["y", "s"]
    assert mr.looks_like_dkim_key("k=rsa; p =") and not mr.looks_like_dkim_key("v=DKIM1; k=rsa")


def test_dmarc_tags_last_wins_raw_tag_first_wins():
    text = "v=DMARC1; p=none; pct= 50 ; p=reject; rua=mailto:a@x.test,mailto:b@y.test"
    assert mr.dmarc_tags(text)["p"] == "reject" and mr.dmarc_raw_tag(text, "p") == "none"
    assert mr.dmarc_raw_tag(text, "pct") == "50" and mr.dmarc_raw_tag(text, "sp") is None
    assert mr.parse_tag_list(text).errors == ("tag p appears twice",)


def test_sts_record():
    assert mr.parse_sts_record("v=STSv1; id=20240101T01").valid
    r = mr.parse_sts_record("v=STSv1;")
    assert not r.valid and "no id= tag" in r.errors
    assert not mr.parse_sts_record("id=1; v=STSv1").valid
    assert not mr.parse_sts_record("v=STSv1; id=2024-01-01").valid


def test_sts_policy():
    p = mr.parse_sts_policy("version: STSv1\r\nmode: enforce\r\nmx: MX1.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n")
    assert p.valid and p.mode == "enforce" and p.mx == ("mx1.example.com", "*.example.net") and p.max_age == 604800
    bad = mr.parse_sts_policy("version: STSv1\nmode: strict\nmax_age: forever\n")
    assert not bad.valid and bad.max_age is None and len(bad.errors) == 2
    assert mr.parse_sts_policy("version: STSv1\nmode: enforce\nmax_age: 86400\n").errors == ("no mx line",)
    assert mr.parse_sts_policy("version: STSv1\nmode: none\nmax_age: 86400\n").valid


def test_tlsrpt():
    r = mr.parse_tlsrpt("v=TLSRPTv1; rua=mailto:tls@example.com, https://r.example.net/x")
    assert r.valid and r.rua == ("mailto:tls@example.com", "https://r.example.net/x")
    assert not mr.parse_tlsrpt("v=TLSRPTv1;").valid
    assert not mr.parse_tlsrpt("v=TLSRPTv1; rua=ftp://x").valid


# ------------------------------------------------------------------ properties

PARSERS = (mr.spf_terms, mr.parse_tag_list, mr.dkim_tags, mr.dmarc_tags, mr.parse_sts_record, mr.parse_sts_policy,
           mr.parse_tlsrpt, mr.is_spf, mr.colon_list, mr.looks_like_dkim_key)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parsers_never_raise_on_any_text(text):
    for parse in PARSERS:
        parse(text)
    mr.dmarc_raw_tag(text, "pct")
    mr.announces(text, "DMARC1")
    terms = mr.spf_terms("v=spf1 " + text)
    mr.spf_all(terms), mr.spf_modifier(terms, "redirect"), mr.spf_delegations(terms)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=" ;=:\r\n\tvVpP1aA-_.,/+", max_size=60))
def test_parsers_never_raise_on_record_punctuation(text):
    for parse in PARSERS:
        parse(text)
    assert isinstance(mr.parse_sts_policy(text).errors, tuple)
    assert isinstance(mr.parse_tlsrpt(text).errors, tuple)


TAG_NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True)
TAG_VALUES = st.text(alphabet=st.characters(codec="ascii", categories=("L", "N", "P", "S"), exclude_characters=";"),
                     max_size=20).map(str.strip)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(TAG_NAMES, TAG_VALUES), max_size=8, unique_by=lambda kv: kv[0]))
def test_tag_lists_round_trip(tags):
    parsed = mr.parse_tag_list(mr.format_tag_list(tags))
    assert parsed.tags == tuple(tags) and parsed.errors == ()
    assert mr.dmarc_tags(mr.format_tag_list(tags)) == dict(tags)


SPF_VALUES = st.from_regex(r"[a-z0-9_-]{1,10}(\.[a-z0-9_-]{1,10}){0,3}", fullmatch=True)
SPF_TERMS = st.one_of(
    st.builds(SpfTerm, st.sampled_from("+-~?"), st.sampled_from(["include", "a", "mx", "exists", "ip4", "ptr"]), SPF_VALUES),
    st.builds(SpfTerm, st.sampled_from("+-~?"), st.sampled_from(["all", "a", "mx", "ptr"]), st.just("")),
    st.builds(SpfTerm, st.just("="), st.sampled_from(["redirect", "exp"]), SPF_VALUES),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(SPF_TERMS, max_size=10))
def test_spf_terms_round_trip(terms):
    text = "v=spf1 " + " ".join((t.qualifier if t.qualifier != "=" else "") + t.text for t in terms)
    assert mr.spf_terms(text) == terms


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(mr.STS_MODES), st.lists(SPF_VALUES, min_size=1, max_size=4),
       st.integers(min_value=0, max_value=mr.STS_MAX_AGE))
def test_sts_policy_round_trip(mode, mx, max_age):
    p = mr.parse_sts_policy(mr.format_sts_policy(mode, mx, max_age))
    assert p.valid and (p.mode, p.mx, p.max_age, p.version) == (mode, tuple(mx), max_age, "STSv1")


def test_knowledge_is_the_ground_floor():
    """infra.knowledge imports the standard library and infra.spec at most: every room may import it."""
    import ast
    import sys
    from pathlib import Path

    root = Path(mr.__file__).parent
    for f in root.glob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            for n in names:
                top = n.split(".")[0]
                assert top in sys.stdlib_module_names or n.startswith(("infra.knowledge", "infra.spec")), (f.name, n)
