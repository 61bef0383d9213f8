"""Every private or internal pulumi / pulumi-policy API the project relies on, checked where it stands.

The offline gate drives pulumi-policy's own analyzer servicer (policies/engine.py) and the mock
runtime drives pulumi's runtime internals (infra/mockrun.py, infra/spec/loader.py). None of these
are public API, so pyproject.toml pins both distributions to one minor version. When a new version
moves one of them, the test named after it fails and says which API moved and what the pin is:
fix the caller, then raise the pin.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import re
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]


def _pins() -> dict[str, str]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    out = {}
    for dep in deps:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(.*)", dep)
        out[m.group(1).lower().replace("_", "-")] = m.group(2).strip()
    return out


PINS = _pins()


def _where(dist: str) -> str:
    return f"{dist} {importlib.metadata.version(dist)} (pyproject.toml pins {dist}{PINS.get(dist, ' (unpinned)')})"


def _params(fn) -> list[str]:
    return list(inspect.signature(fn).parameters)


# (distribution, "module:attribute", what the project needs of it, users) -> check(obj) returning a
# problem or "" ------------------------------------------------------------------------------------

def _servicer_init(cls):
    want = ["self", "name", "version", "policies", "enforcement_level"]
    return "" if _params(cls.__init__)[:5] == want else f"__init__{inspect.signature(cls.__init__)} no longer starts {want}"


def _servicer_rpc(cls):
    for method in ("Configure", "Analyze", "AnalyzeStack"):
        fn = getattr(cls, method, None)
        if fn is None or len(_params(fn)) != 3:
            return f"{method}(self, request, context) is gone or changed"
    return ""


def _map_level(cls):
    from pulumi.runtime import proto
    from pulumi_policy import EnforcementLevel

    fn = getattr(cls, "_map_enforcement_level", None)
    if fn is None:
        return "_map_enforcement_level is gone"
    got = fn(None, EnforcementLevel.MANDATORY)
    return "" if got == proto.MANDATORY else f"_map_enforcement_level(MANDATORY) is {got!r}, not proto.MANDATORY"


def _exception(cls):
    return "" if isinstance(cls, type) and issubclass(cls, Exception) else "is no longer an exception class"


def _positional(*names):
    def check(cls):
        got = [p for p in _params(cls.__init__) if p != "self"][:len(names)]
        return "" if got == list(names) else f"positional parameters are {got}, the project passes {list(names)}"
    return check


def _takes(*names):
    def check(fn):
        got = _params(fn)[:len(names)]
        return "" if got == list(names) else f"signature {inspect.signature(fn)} no longer starts with {list(names)}"
    return check


def _is_str(obj):
    return "" if isinstance(obj, str) and obj else "is no longer a non-empty string"


def _contextvar(obj):
    import contextvars

    return "" if isinstance(obj, contextvars.ContextVar) else f"is a {type(obj).__name__}, not a ContextVar"


def _settings(obj):
    settings = obj.get() if hasattr(obj, "get") and not hasattr(obj, "rpc_manager") else obj
    problems = [a for a in ("rpc_manager", "outputs") if not hasattr(settings, a)]
    if not problems and not callable(getattr(settings.rpc_manager, "clear", None)):
        problems.append("rpc_manager.clear")
    return f"lost {problems}" if problems else ""


def _mock_monitor(cls):
    from pulumi.runtime import mocks

    class _Mocks(mocks.Mocks):
        def new_resource(self, args):
            return "", {}

        def call(self, args):
            return {}

    monitor = cls(_Mocks())
    if not isinstance(getattr(monitor, "resources", None), dict):
        return "MockMonitor().resources is no longer a dict of registrations by URN"
    reg = getattr(cls, "ResourceRegistration", None)
    if reg is None or _params(reg)[:3] != ["urn", "id", "state"]:
        return "MockMonitor.ResourceRegistration(urn, id, state) is gone or changed"
    return _takes("self", "request")(cls.RegisterResource)


def _proto_names(module):
    names = ["AnalyzeRequest", "AnalyzeStackRequest", "AnalyzerResource", "AnalyzerResourceOptions",
             "ConfigureAnalyzerRequest", "PolicyConfig", "ADVISORY", "MANDATORY", "REMEDIATE", "DISABLED"]
    missing = [n for n in names if not hasattr(module, n)]
    return f"lost {missing}" if missing else ""


PRIVATE_APIS = [
    # pulumi-policy: policies/engine.py drives the SDK's analyzer as the engine would.
    ("pulumi-policy", "pulumi_policy.policy:_PolicyAnalyzerServicer", _servicer_init, "policies/engine.py"),
    ("pulumi-policy", "pulumi_policy.policy:_PolicyAnalyzerServicer", _servicer_rpc, "policies/engine.py"),
    ("pulumi-policy", "pulumi_policy.policy:_PolicyAnalyzerServicer", _map_level, "policies/engine.py"),
    ("pulumi-policy", "pulumi_policy.policy:_NotApplicableError", _exception, "policies/engine.py"),
    ("pulumi-policy", "pulumi_policy:PolicyResource",
     _positional("resource_type", "props", "urn", "name", "opts", "provider", "parent", "dependencies",
                 "property_dependencies"), "policies/engine.py"),
    ("pulumi-policy", "pulumi_policy.policy:PolicyResourceOptions",
     _positional("protect", "ignore_changes", "delete_before_replace", "aliases", "custom_timeouts",
                 "additional_secret_outputs", "parent"), "policies/engine.py"),
    ("pulumi-policy", "pulumi_policy.policy:PolicyCustomTimeouts",
     _positional("create_seconds", "update_seconds", "delete_seconds"), "policies/engine.py"),
    ("pulumi-policy", "pulumi_policy:StackValidationArgs", _positional("resources", "config"), "policies/engine.py"),
    ("pulumi-policy", "pulumi_policy.deserialize:deserialize_properties", _takes("props"), "policies/engine.py"),
    ("pulumi-policy", "pulumi_policy.deserialize:SPECIAL_SIG_KEY", _is_str, "policies/engine.py"),
    ("pulumi-policy", "pulumi_policy.deserialize:SPECIAL_SECRET_SIG", _is_str, "policies/engine.py"),
    ("pulumi-policy", "pulumi_policy.proxy:unknown_checking_proxy", _takes("props"), "policies/engine.py"),
    ("pulumi-policy", "pulumi_policy.proxy:UnknownValueError", _exception, "policies/engine.py, policies/registry.py"),
    ("pulumi-policy", "pulumi_policy.proxy:UNKNOWN_STRING_VALUE", _is_str, "tests/policies"),
    # pulumi: the mock runtime (infra/mockrun.py) and the engine's config (infra/spec/loader.py).
    ("pulumi", "pulumi.runtime.sync_await:_sync_await", _takes("awaitable"), "infra/mockrun.py"),
    ("pulumi", "pulumi.runtime.stack:run_pulumi_func", _takes("func"), "infra/mockrun.py"),
    ("pulumi", "pulumi.runtime.settings:ROOT", _contextvar, "infra/mockrun.py"),
    ("pulumi", "pulumi.runtime.settings:SETTINGS", _settings, "infra/mockrun.py"),
    ("pulumi", "pulumi.runtime.mocks:MockMonitor", _mock_monitor, "infra/mockrun.py"),
    ("pulumi", "pulumi.runtime.rpc:deserialize_properties", _takes("props_struct"), "infra/mockrun.py"),
    ("pulumi", "pulumi.runtime.rpc:is_rpc_secret", _takes("value"), "infra/mockrun.py"),
    ("pulumi", "pulumi.runtime.rpc:unwrap_rpc_secret", _takes("value"), "infra/mockrun.py"),
    ("pulumi", "pulumi.runtime.config:CONFIG", _contextvar, "infra/spec/loader.py, tests/policies/conftest.py"),
    ("pulumi", "pulumi.runtime.config:set_all_config", _takes("config", "secret_keys"), "infra/mockrun.py"),
    ("pulumi", "pulumi.runtime.config:get_config_env", _takes(), "infra/spec/loader.py"),
    ("pulumi", "pulumi.runtime.config:get_config_secret_keys_env", _takes(), "infra/spec/loader.py"),
    ("pulumi", "pulumi.runtime.config:is_config_secret", _takes("k"), "infra/spec/loader.py"),
    ("pulumi", "pulumi.runtime:proto", _proto_names, "policies/engine.py"),
]


@pytest.mark.parametrize("dist,api,check,users", PRIVATE_APIS,
                         ids=[f"{api}-{check.__name__.strip('_')}" for _, api, check, _ in PRIVATE_APIS])
def test_private_api_is_where_the_project_expects_it(dist, api, check, users):
    module_name, _, attr = api.partition(":")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        pytest.fail(f"private API {api} (used by {users}) is gone in {_where(dist)}: {exc}")
    problem = check(obj)
    assert not problem, f"private API {api} (used by {users}) moved in {_where(dist)}: {problem}"


@pytest.mark.parametrize("dist", ["pulumi", "pulumi-policy"])
def test_installed_version_is_the_pinned_minor(dist):
    pin = PINS.get(dist, "")
    m = re.fullmatch(r"~=(\d+)\.(\d+)\.(\d+)", pin)
    assert m, f"pyproject.toml must pin {dist} to one minor version (~=X.Y.Z), not {pin!r}: its private APIs are used"
    installed = importlib.metadata.version(dist)
    major, minor, patch = (int(x) for x in re.match(r"(\d+)\.(\d+)\.(\d+)", installed).groups())
    assert (major, minor) == (int(m.group(1)), int(m.group(2))) and patch >= int(m.group(3)), (
        f"{dist} {installed} is installed but pyproject.toml pins {dist}{pin}: run this file's tests against "
        f"the new version, fix what moved, then move the pin")


def test_every_private_import_in_the_project_is_listed():
    # A new `_name` import from pulumi or pulumi_policy (or a servicer `._method`) must join the list.
    listed = {api.partition(":")[2] for _, api, _, _ in PRIVATE_APIS} | {"_map_enforcement_level"}
    found = set()
    for room in ("infra", "policies", "verify"):
        for path in (ROOT / room).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for line in text.splitlines():
                if re.match(r"\s*from pulumi(_policy)?[.\w]* import ", line):
                    found |= set(re.findall(r"\b(_[A-Za-z]\w*)", line.split(" import ", 1)[1]))
            found |= set(re.findall(r"servicer\.(_[A-Za-z]\w*)", text))
    assert found <= listed, f"private pulumi APIs used but not covered here: {sorted(found - listed)}"
