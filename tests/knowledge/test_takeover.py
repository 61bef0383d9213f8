"""The gate and verify give the same takeover answer for a hostname: both read infra.knowledge.takeover."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.knowledge import takeover
from policies.rules import BY_NAME
from verify.checks import zone  # noqa: F401 - the module verify's dangling-CNAME judge lives in

pytestmark = pytest.mark.unit

RULE = BY_NAME["cname-takeover-risk"]


def gate_flags(target: str) -> bool:
    """Whether the policy rule, with its default config, flags a CNAME to `target`."""
    defaults = {k: v["default"] for k, v in RULE.config_schema.properties.items()}
    props = {"type": "CNAME", "name": "docs.example.com", "content": target}
    return any(True for _ in RULE.check(props, defaults))


def verify_names(target: str):
    from verify.checks.zone import takeover_service
    return takeover_service(target)


SAMPLES = [
    *(f"tenant.{s}" for s in takeover.SERVICES),
    "my-site.pages.dev", "group.gitlab.io", "x.s3-website-eu-west-1.amazonaws.com", "b.s3.us-gov-west-1.amazonaws.com",
    "lb.elb.amazonaws.com", "portal-api-1.eu-west-1.elb.amazonaws.com", "app.example.net", "pages.dev.example.com",
    "GITHUB.IO.", "notgithub.io",
]


@pytest.mark.parametrize("target", SAMPLES)
def test_gate_and_verify_agree_on_the_takeover_service(target):
    assert gate_flags(target) == (verify_names(target) is not None), target


@given(st.from_regex(r"[a-z0-9-]{1,12}(\.[a-z0-9-]{1,12}){0,3}", fullmatch=True),
       st.sampled_from([*takeover.SERVICES, "amazonaws.com", "example.com", "s3-eu-west-1.amazonaws.com"]))
@settings(max_examples=300, deadline=None)
def test_agreement_holds_for_generated_names(label, suffix):
    target = f"{label}.{suffix}"
    assert gate_flags(target) == (verify_names(target) is not None), target


def test_the_services_named_by_both_rooms():
    assert verify_names("x.pages.dev") == "Cloudflare Pages" and gate_flags("x.pages.dev")
    assert verify_names("x.gitlab.io") == "GitLab Pages" and gate_flags("x.gitlab.io")
    assert verify_names("bucket.s3.eu-west-1.amazonaws.com") == "Amazon S3"
    assert verify_names("lb.example.net") is None and not gate_flags("lb.example.net")
