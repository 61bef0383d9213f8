"""Gate-only checks: committed secrets (detect-secrets, baseline), stack-file plaintext, unmarked state."""
from __future__ import annotations

import hashlib
import json
from types import SimpleNamespace

import pytest

from policies.scan import REPO_SECRET, scan_repository, scan_stack_file, scan_state

pytestmark = pytest.mark.unit

AWS_KEY = "AKIA" + "Z7QXPORTAL4DEPLO"          # assembled so this file itself carries no key
PRIVATE = "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"


def repo(tmp_path, files: dict[str, str]):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def scan(root, **over):
    config = {**REPO_SECRET.defaults, **over}
    return scan_repository(config, root)


def test_committed_credentials_are_found_with_file_and_line(tmp_path):
    root = repo(tmp_path, {"deploy.sh": f"#!/bin/sh\nexport AWS_ACCESS_KEY_ID={AWS_KEY}\n", "keys/id_rsa": PRIVATE,
                           "README.md": "nothing here\n"})
    found = sorted((f.file, f.line, f.message) for f in scan(root))
    assert found == [("deploy.sh", 2, "deploy.sh:2: a credential (AWS Access Key) is committed."),
                     ("keys/id_rsa", 1, "keys/id_rsa:1: a credential (Private Key) is committed.")]


def test_baseline_pragma_and_public_keys_are_accepted(tmp_path):
    root = repo(tmp_path, {
        "deploy.sh": f"export AWS_ACCESS_KEY_ID={AWS_KEY}\n",
        "fixture.py": f"KEY = '{AWS_KEY}'  # pragma: allowlist secret\n",
        "dkim.txt": "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtest\n",
    })
    assert [f.file for f in scan(root)] == ["deploy.sh"]
    digest = hashlib.sha1(AWS_KEY.encode()).hexdigest()
    (root / ".secrets.baseline").write_text(json.dumps({"results": {"deploy.sh": [
        {"type": "AWS Access Key", "filename": "deploy.sh", "hashed_secret": digest, "line_number": 1}]}}))
    assert scan(root) == []
    # a finding audited as a real secret stays a finding
    (root / ".secrets.baseline").write_text(json.dumps({"results": {"deploy.sh": [
        {"type": "AWS Access Key", "filename": "deploy.sh", "hashed_secret": digest, "is_secret": True}]}}))
    assert [f.file for f in scan(root)] == ["deploy.sh"]


def test_scan_paths_and_excludes_are_configurable(tmp_path):
    root = repo(tmp_path, {"a/deploy.sh": f"K={AWS_KEY}\n", "b/deploy.sh": f"K={AWS_KEY}\n"})
    assert [f.file for f in scan(root, paths=["a"])] == ["a/deploy.sh"]
    assert [f.file for f in scan(root, excludeFiles="^b/")] == ["a/deploy.sh"]


def test_stack_file_plaintext(tmp_path):
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text("config:\n  cloudflare:apiToken: abcdefghijklmnop\n  aws:region: eu-west-1\n"
                    "  launchready:hosts:\n    - name: app.example.com\n      flows:\n        token: /v1/auth/token\n")
    source = SimpleNamespace(
        file=str(path), lines={"cloudflare:apiToken": 2, "hosts[0].flows.token": 7},
        values={"cloudflare:apiToken": "abcdefghijklmnop", "aws:region": "eu-west-1",
                "launchready:hosts": json.dumps([{"name": "app.example.com", "flows": {"token": "/v1/auth/token"}}]),
                "launchready:webhookSecret": "whsec_abcdefghijklmnopqrstuvwx", "launchready:pat": "x"},
        secret_keys=set())
    found = [(f.message, f.line) for f in scan_stack_file(source)]
    assert found == [
        ("cloudflare:apiToken holds a plaintext value that is a secret by its name; store it with `pulumi config set --secret`.", 2),
        ("launchready:webhookSecret holds a plaintext value that is a secret by its name; store it with `pulumi config set --secret`.", None),
    ]
    assert all("abcdefghijklmnop" not in m for m, _ in found)


def test_state_plaintext_secret():
    def planned(type_, inputs, secret_paths=()):
        return SimpleNamespace(type=type_, name="r", urn="urn:r", inputs=inputs, secret_paths=frozenset(secret_paths),
                               custom=True)

    marked = planned("aws:secretsmanager/secretVersion:SecretVersion", {"secretString": "v"}, ["secretString"])
    unmarked = planned("aws:secretsmanager/secretVersion:SecretVersion", {"secretString": "v"})
    secure = planned("aws:ssm/parameter:Parameter", {"type": "SecureString", "value": "v"})
    plain_param = planned("aws:ssm/parameter:Parameter", {"type": "String", "value": "https://x"})
    db = planned("aws:rds/instance:Instance", {"password": "hunter2"})
    msgs = [f.message for f in scan_state([marked, unmarked, secure, plain_param, db])]
    assert msgs == [
        "SecretVersion r: input secretString is not marked secret; state would store it in plaintext.",
        "Parameter r: input value is not marked secret; state would store it in plaintext.",
        "Instance r: input password is not marked secret; state would store it in plaintext.",
    ]


# -- what the scan cannot check is an error, never a pass over zero files -----------------------------

def test_missing_scan_path_or_root_is_an_error_not_a_pass(tmp_path):
    from policies.scan import ScanError

    root = repo(tmp_path, {"a/deploy.sh": "nothing\n"})
    with pytest.raises(ScanError, match=r"scan path .*no-such-dir: no such file or directory"):
        scan(root, paths=["no-such-dir"])
    with pytest.raises(ScanError, match=r"root .*nonexist: no such directory"):
        scan(tmp_path / "nonexist")
    assert scan(root, paths=["a"]) == []


def test_explicit_baseline_missing_or_malformed_is_an_error(tmp_path):
    from policies.scan import ScanError

    root = repo(tmp_path, {"deploy.sh": "nothing\n"})
    assert scan(root) == []                      # the default baseline may be absent
    with pytest.raises(ScanError, match=r"baseline .*mine\.baseline: not found"):
        scan_repository({**REPO_SECRET.defaults, "baseline": "mine.baseline"}, root, require_baseline=True)
    (root / "mine.baseline").write_text("{not json")
    with pytest.raises(ScanError, match=r"baseline .*mine\.baseline: not valid JSON"):
        scan(root, baseline="mine.baseline")     # present but broken: an error even if not required
    (root / "mine.baseline").write_text('["results"]')
    with pytest.raises(ScanError, match="not a detect-secrets baseline"):
        scan(root, baseline="mine.baseline")


def test_stack_file_findings_take_their_lines_from_the_loader_index(tmp_path):
    """Lines come from ConfigSource.lines (the loader's index), not a regex over the file: a key name
    that also appears earlier in the file no longer pulls the finding to the wrong line."""
    from infra.spec import read_stack_file

    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(
        "config:\n"
        "  launchready:env:\n"
        "    clientSecret: {secret: oauth-client}\n"          # 3: a reference, not a value
        "  'okta:config':\n"                                   # 4: quoted, as YAML allows
        "    clientSecret: abcdefghijklmnopqrstuv\n"           # 5: provider config is indexed at its top key
        "  launchready:smtpPassword: hunter2hunter2\n"         # 6
        "  launchready:smtp:\n"
        "    host: smtp.example.com\n"
        "    password: s3cr3t-s3cr3t\n")                       # 9
    found = [(f.message.split(" ", 1)[0], f.line) for f in scan_stack_file(read_stack_file(path))]
    assert found == [("okta:config.clientSecret", 4), ("launchready:smtpPassword", 6), ("launchready:smtp.password", 9)]


def test_outside_git_virtualenvs_and_installed_packages_are_not_scanned(tmp_path):
    root = repo(tmp_path, {
        "deploy.sh": f"export AWS_ACCESS_KEY_ID={AWS_KEY}\n",
        "env-py311/pyvenv.cfg": "home = /usr/bin\n",                       # a virtualenv by any name
        "env-py311/lib/python3.11/site-packages/boto/fixture.py": f"KEY = '{AWS_KEY}'\n",
        "vendor/lib/site-packages/x.py": f"KEY = '{AWS_KEY}'\n",
        "web/node_modules/pkg/key.js": f"const k = '{AWS_KEY}'\n",
    })
    assert [f.file for f in scan(root)] == ["deploy.sh"]


def test_inside_git_the_files_git_lists_are_scanned(tmp_path):
    import shutil
    import subprocess

    if shutil.which("git") is None:
        pytest.fail("git is needed to list a repository's files")
    root = repo(tmp_path, {
        ".gitignore": "build/\n",
        "tracked.sh": f"export AWS_ACCESS_KEY_ID={AWS_KEY}\n",
        "untracked.sh": f"export AWS_ACCESS_KEY_ID={AWS_KEY}\n",
        "build/ignored.sh": f"export AWS_ACCESS_KEY_ID={AWS_KEY}\n",
    })
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "tracked.sh", ".gitignore"], cwd=root, check=True)
    assert sorted(f.file for f in scan(root)) == ["tracked.sh", "untracked.sh"]


def test_shapes_detect_secrets_lacks_are_found_too(tmp_path):
    """infra.knowledge.credentials.SHAPES: a Supabase service-role JWT, a Cloudflare token and a Postmark
    token next to their names; a bare UUID is not a credential. (A committed anon JWT is still reported
    by detect-secrets' JWT plugin, as before: the repository scan keeps it.)"""
    import base64

    def b64(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()

    def jwt(role: str) -> str:
        return b64('{"alg":"HS256"}') + "." + b64('{"iss":"supabase","role":"' + role + '"}') + "." + "s1gnature" * 4

    root = repo(tmp_path, {
        ".env.production": f"SUPABASE_SERVICE_ROLE_KEY={jwt('service_role')}\nSUPABASE_ANON_KEY={jwt('anon')}\n",
        "deploy.sh": "export CLOUDFLARE_API_TOKEN='" + "Zq3" * 13 + "x'\n",
        "mail.js": "const client = new postmark.ServerClient('" + "3f2b8c1e-9a7d-4e6f-b5c4-" + "1d2e3f4a5b6c');\n"
                   "const order = {id: '" + "3f2b8c1e-9a7d-4e6f-b5c4-" + "1d2e3f4a5b6c'};\n",
    })
    found = sorted((f.file, f.line, f.message.split("(")[1].split(")")[0]) for f in scan(root))
    assert found == [(".env.production", 1, "Supabase service-role key"), (".env.production", 2, "JSON Web Token"),
                     ("deploy.sh", 1, "Cloudflare API token"),
                     ("mail.js", 1, "Postmark API token")]
