"""One key-path → line lookup (infra.spec.line_of), used by spec errors, the gate's stack-file scan
and the locator of policy findings."""
from __future__ import annotations

import pytest

from infra.spec import line_of, read_stack_file

pytestmark = pytest.mark.unit

STACK = """config:
  aws:region: eu-west-1
  aws:assumeRole:
    roleArn: arn:aws:iam::123456789012:role/x
  launchready:domain: example.com
  launchready:hosts:
    - name: example.com
      origin: 203.0.113.10
    - name: www.example.com
      flows:
        login: /login
"""


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(STACK)
    return read_stack_file(path)


def test_own_line(source):
    assert source.line_of("hosts[1].flows.login") == 11
    assert source.line_of("hosts[1]") == 9
    assert source.line_of("launchready:hosts") == source.line_of("hosts") == 6
    assert source.line_of("aws:region") == 2


def test_nearest_indexed_parent(source):
    assert source.line_of("hosts[1].flows.signup") == 10      # a missing key: where its parent is
    assert source.line_of("hosts[0].proxied") == 7
    assert source.line_of("aws:assumeRole.roleArn") == 3      # provider keys: indexed at the top key
    assert source.line_of("monitoring.checks[0]") is None


def test_exact(source):
    assert source.line_of("hosts[1].flows.signup", nearest=False) is None
    assert source.line_of("hosts[1].flows", nearest=False) == 10


def test_any_line_map():
    assert line_of({"mail": 3, "mail.spf": 5}, "mail.spf.include[2]") == 5
    assert line_of({}, "mail") is None
