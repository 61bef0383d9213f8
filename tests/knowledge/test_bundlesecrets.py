"""The JS-bundle secret scanner (infra.knowledge.bundlesecrets): each kind at its line:column in a
minified snippet, public values left alone, no secret value in any hit, and the scan's bounds.

Every live-looking value here is assembled at runtime, so this file carries none (the repository
scan, repo-secret-committed, reads it too)."""
from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.knowledge import bundlesecrets as bs
from infra.knowledge.credentials import HIGH_SIGNAL_PLUGINS, SHAPES, find_shapes

pytestmark = pytest.mark.unit

ALNUM = "aB3dE5fG7hJ9kL2mN4pQ6rS8tU1vW3xY5zA7bC9dE2fG4hJ6kL8mN"   # 52 varied characters


def _b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).rstrip(b"=").decode()


def jwt(payload: dict) -> str:
    return _b64({"alg": "HS256", "typ": "JWT"}) + "." + _b64(payload) + "." + ALNUM[:43]


STRIPE_LIVE = "sk" + "_live_" + ALNUM[:24]
STRIPE_RESTRICTED = "rk" + "_live_" + ALNUM[:99 - 8]
STRIPE_TEST = "sk" + "_test_" + ALNUM[:24]
STRIPE_PUBLISHABLE = "pk" + "_live_" + ALNUM[:24]
AWS_ID = "AK" + "IA" + "Z7QXPORTAL4DEPLO"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYz7QXPORTAL"      # 40
CF_TOKEN = ALNUM[:38] + "_-"
CF_GLOBAL = "0123456789abcdef" * 2 + "01234"                      # 37 lowercase hex
CF_PREFIXED = "cf" + "ut_" + ALNUM[:40] + "a1b2c3d4"
SENDGRID = "SG" + "." + ALNUM[:22] + "." + ALNUM[:43]
POSTMARK = "3f2b8c1e-9a7d-" + "4e6f-b5c4-1d2e3f4a5b6c"
OPENAI = "sk-" + "proj-" + ALNUM[:50] + "_x-" + "T3Blbk" + "FJ" + ALNUM[:20] + "-_" + ALNUM[:30]
SERVICE_ROLE = jwt({"iss": "supabase", "ref": "abcdefghijklmnopqrst", "role": "service_role", "iat": 1700000000})
ANON = jwt({"iss": "supabase", "ref": "abcdefghijklmnopqrst", "role": "anon", "iat": 1700000000})
JWT_SECRET = "super-" + "secret-jwt-token-with-at-least-32-characters"

# (kind, severity, snippet before the value, the value, after it): as a bundler emits them.
CASES = [
    ("Stripe secret key", "critical", 'const s=new Stripe("', STRIPE_LIVE, '",{apiVersion:"2024-06-20"});'),
    ("Stripe restricted key", "critical", "fetch(u,{headers:{Authorization:`Bearer ", STRIPE_RESTRICTED, "`}})"),
    ("Stripe test key", "low", 'var k="', STRIPE_TEST, '";'),
    ("AWS Access Key", "high", 'new S3Client({region:"eu-west-1",credentials:{accessKeyId:"', AWS_ID, '"}})'),
    ("AWS secret access key", "critical", 'credentials:{secretAccessKey:"', AWS_SECRET, '"}'),
    ("Cloudflare API token", "critical", 'const e={CLOUDFLARE_API_TOKEN:"', CF_TOKEN, '",ZONE:"x"};'),
    ("Cloudflare API token", "critical", 'o.cfApiToken="', CF_TOKEN, '";'),
    ("Cloudflare API token", "critical", 't="', CF_PREFIXED, '"'),
    ("Cloudflare global API key", "critical", 'headers:{"X-Auth-Email":"a@b.c","X-Auth-Key":"', CF_GLOBAL, '"}'),
    ("SendGrid API Key", "high", 'sg.setApiKey("', SENDGRID, '")'),
    ("Postmark API token", "high", 'headers:{"X-Postmark-Server-Token":"', POSTMARK, '"}'),
    ("Postmark API token", "high", 'new postmark.ServerClient("', POSTMARK, '")'),
    ("OpenAI API key", "high", 'new OpenAI({apiKey:"', OPENAI, '",dangerouslyAllowBrowser:!0})'),
    ("Supabase service-role key", "critical", 'createClient("https://x.supabase.co","', SERVICE_ROLE, '")'),
    ("JWT signing secret", "high", "const c={jwtSecret:'", JWT_SECRET, "'};"),
    ("JWT signing secret", "high", '"JWT_SECRET":"', JWT_SECRET, '"'),
]
PREFIX = '!function(){"use strict";var e=1;\nfunction t(n){return n.map(function(r){return r*2})}' * 3 + ";\n"


@pytest.mark.parametrize("kind,severity,before,value,after", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_kind_is_found_at_its_line_and_column(kind, severity, before, value, after):
    text = PREFIX + before + value + after + ";window.x=t([1,2,3]);"
    line = PREFIX.count("\n") + 1
    column = len(before) + 1
    hits = bs.scan_text(text)
    assert [(h.kind, h.line, h.column, h.severity) for h in hits] == [(kind, line, column, severity)]
    assert hits[0].fingerprint == bs.fingerprint(value)


def test_public_values_are_not_reported():
    text = ";".join([
        f'loadStripe("{STRIPE_PUBLISHABLE}")', f'loadStripe("{"pk" + "_test_" + ALNUM[:24]}")',
        f'createClient("https://x.supabase.co","{ANON}")',                     # Supabase anon key: public
        f'createClient(u,"{"sb_" + "publishable_" + ALNUM[:30]}")',
        f'session="{jwt({"sub": "42", "role": "authenticated"})}"',           # a user's session token
        f'{{"id":"{POSTMARK}","requestId":"{POSTMARK}"}}',                    # a UUID without a Postmark name
        f'{{"sha":"{CF_GLOBAL}abc","etag":"{CF_TOKEN}"}}',                    # hex and tokens without a Cloudflare name
        'jwtSecret:process.env.JWT_SECRET,jwtSecretKey:"${JWT_SECRET_FROM_ENV_AT_RUNTIME}"',
        "data:font/woff2;base64,d09GMgABAAAAA" + AWS_ID + "AAAAAAAAAAAAAAAAAAAAAAAAAAA",   # inside a base64 blob
    ])
    assert bs.scan_text(text) == []


def test_a_hit_never_holds_the_secret():
    values = [v for _, _, _, v, _ in CASES]
    hits = bs.scan_text(";\n".join(b + v + a for _, _, b, v, a in CASES))
    assert len(hits) == len(CASES)
    for hit in hits:
        shown = repr(hit) + str(hit) + "".join(str(getattr(hit, f)) for f in hit.__dataclass_fields__)
        assert not any(v in shown or v[:12] in shown for v in values)


def test_every_plugin_is_anchored_or_excluded_with_a_reason():
    names = {name for _, name in HIGH_SIGNAL_PLUGINS}
    assert names == set(bs.PLUGIN_ANCHORS) | set(bs.EXCLUDED_PLUGINS)
    assert not set(bs.PLUGIN_ANCHORS) & set(bs.EXCLUDED_PLUGINS)


def test_the_repository_shapes_find_what_the_bundle_scan_finds():
    """The gate's repository scan reads credentials.SHAPES (service-role keys, named Cloudflare and Postmark tokens)."""
    text = f'SUPABASE_SERVICE_ROLE_KEY="{SERVICE_ROLE}"\nCF_API_TOKEN="{CF_TOKEN}"\nPOSTMARK_TOKEN="{POSTMARK}"\n'
    found = {(m.kind, m.secret) for m in find_shapes(text, SHAPES)}
    assert found == {("Supabase service-role key", SERVICE_ROLE), ("Cloudflare API token", CF_TOKEN),
                     ("Postmark API token", POSTMARK)}


def test_max_bytes_and_max_hits_bound_the_scan():
    text = "x" * 1000 + f'"{STRIPE_LIVE}"'
    assert bs.scan_text(text, max_bytes=1000) == []
    assert len(bs.scan_text(text, max_bytes=2000)) == 1
    many = ";".join(f'a{i}="{STRIPE_LIVE[:-4]}{i:04d}"' for i in range(50))
    assert [h.column for h in bs.scan_text(many, max_hits=3)] == [h.column for h in bs.scan_text(many)[:3]]


def test_columns_count_characters_after_the_last_newline():
    text = "é\r\n€€;\n  x='" + STRIPE_LIVE + "'"
    [hit] = bs.scan_text(text)
    assert (hit.line, hit.column) == (3, 6)


# -- properties -------------------------------------------------------------------------------------

# Minified-JS pieces; each ends in a character that cannot continue a token.
JS = st.lists(st.sampled_from(["function(e){", "return ", "var a=1;", "}", "\n", "1e3,", "[]", "!0", "&&", " ",
                               "e.map(t=>t*2);", '"use strict";', "/*!*/", "\t"]), max_size=60).map("".join)
KEYS = st.sampled_from([(k, v) for k, _, _, v, _ in CASES if k in
                        ("Stripe secret key", "Stripe test key", "Cloudflare API token", "SendGrid API Key",
                         "OpenAI API key", "Supabase service-role key", "AWS Access Key")])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(head=JS, tail=JS, key=KEYS, quote=st.sampled_from(['"', "'", "`"]))
def test_a_key_anywhere_is_found_exactly_there(head, tail, key, quote):
    kind, value = key
    if kind == "Cloudflare API token" and not value.startswith("cf"):
        return
    text = head + quote + value + quote + tail
    offset = len(head) + 1
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    hits = bs.scan_text(text)
    assert [(h.kind, h.line, h.column, h.fingerprint) for h in hits] == [(kind, line, column, bs.fingerprint(value))]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=3000))
def test_any_text_is_scanned_without_error(text):
    for hit in bs.scan_text(text):
        assert hit.line >= 1 and hit.column >= 1 and len(hit.fingerprint) == 16


@settings(max_examples=100, deadline=None)
@given(st.text(st.sampled_from("eyJAKIA:/.-_=+\"'skT3BlbkFJ0123456789abcdef"), max_size=4000))
def test_anchor_soup_is_scanned_without_error(text):
    assert isinstance(bs.scan_text(text), list)
