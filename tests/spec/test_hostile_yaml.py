"""Hostile and odd stack files: every refusal is a located spec error in bounded time, never a
traceback, never a hang. The reader is YAML 1.2 core, as the Pulumi CLI reads stack files."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stackfiles import EXAMPLE_FILE

from infra.spec import SpecError, load_stack

pytestmark = pytest.mark.unit

EXAMPLE_TEXT = EXAMPLE_FILE.read_text()


def _write(tmp_path: Path, text: str, name: str = "Pulumi.hostile.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _refused(tmp_path, text: str, seconds: float = 10.0) -> SpecError:
    path = _write(tmp_path, text)
    t = time.monotonic()
    with pytest.raises(SpecError) as info:
        load_stack(str(path))
    assert time.monotonic() - t < seconds
    return info.value


def _replace(old: str, new: str) -> str:
    assert old in EXAMPLE_TEXT, old
    return EXAMPLE_TEXT.replace(old, new, 1)


BOMB = "config:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"  a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}]\n"
    for i in range(1, 10)) + "  launchready:domain: example.com\n"


def test_an_alias_bomb_is_refused_at_once(tmp_path):
    error = _refused(tmp_path, BOMB, seconds=5.0)
    (issue,) = error.issues
    assert "alias bomb" in issue.message and issue.line


@pytest.mark.parametrize("value,words", [
    ("2024-01-01", "'2024-01-01' is not a valid hostname"),    # a date is a string in YAML 1.2 core
    ("!!binary aGVsbG8=", "!!binary"),
    ("!!set {a, b}", "!!set"),
    ("!!python/object:os.system [ls]", "!!python/object:os.system"),
    ("!!float abc", "!!float"),
    ("2001-12-14t21:59:43.10-05:00", "is not a valid hostname"),
])
def test_yaml_1_1_types_and_tags_are_located_errors(tmp_path, value, words):
    error = _refused(tmp_path, _replace("launchready:domain: example.com", f"launchready:domain: {value}"))
    assert any(words in str(i) for i in error.issues), [str(i) for i in error.issues]
    assert all(i.line for i in error.issues)


def test_base_60_is_a_string_as_the_cli_reads_it(tmp_path):
    error = _refused(tmp_path, _replace("period: 60", "period: 1:20"))
    assert any("period" in i.path and "'1:20'" in i.message for i in error.issues), [str(i) for i in error.issues]


@pytest.mark.parametrize("digits", [25, 401, 5000])
def test_huge_numbers_are_refused_before_they_reach_the_sdk(tmp_path, digits):
    error = _refused(tmp_path, _replace("period: 60", "period: " + "9" * digits))
    (issue,) = error.issues
    assert f"{digits} digits" in issue.message and issue.line


def test_deep_nesting_is_refused_with_a_line(tmp_path):
    deep = "[" * 1000 + "]" * 1000
    error = _refused(tmp_path, _replace("launchready:domain: example.com", f"launchready:deep: {deep}"))
    (issue,) = error.issues
    assert "nested more than" in issue.message and issue.line


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x0b", "\x7f"])
def test_control_characters_are_located(tmp_path, char):
    error = _refused(tmp_path, _replace("launchready:domain: example.com", f"launchready:domain: exa{char}mple.com"))
    (issue,) = error.issues
    assert f"U+{ord(char):04X}" in issue.message and issue.line == EXAMPLE_TEXT[:EXAMPLE_TEXT.index("launchready:domain")].count("\n") + 1


def test_a_megabyte_value_is_refused_fast(tmp_path):
    error = _refused(tmp_path, _replace("flows: [home, login, reset, dashboard]", "flows: [login, " + "x" * 70_000 + "]"), seconds=5.0)
    (issue,) = error.issues
    assert "characters" in issue.message and issue.line


def test_the_example_still_reads(tmp_path):
    assert load_stack(str(EXAMPLE_FILE)).domain == "example.com"


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_text_is_a_spec_or_a_located_error(tmp_path, text):
    path = _write(tmp_path, "config:\n  launchready:domain: " + text)
    t = time.monotonic()
    try:
        load_stack(str(path))
    except SpecError as error:
        assert error.issues and all(i.file for i in error.issues)
    assert time.monotonic() - t < 5.0


@given(st.integers(min_value=0, max_value=len(EXAMPLE_TEXT) - 1), st.text(max_size=20))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_mutated_example_is_a_spec_or_a_located_error(tmp_path, at, insert):
    path = _write(tmp_path, EXAMPLE_TEXT[:at] + insert + EXAMPLE_TEXT[at:])
    try:
        load_stack(str(path))
    except SpecError as error:
        assert error.issues and all(i.file for i in error.issues)


def test_a_long_value_within_the_limit_is_judged_in_linear_time(tmp_path):
    """60,000 characters (under the per-value limit) in monitoring.flows: the error is located and
    quick (a regex over it was quadratic and ran for 50 s)."""
    error = _refused(tmp_path, _replace("flows: [home, login, reset, dashboard]", "flows: [login, " + "a" * 60_000 + "]"),
                     seconds=5.0)
    assert any(i.path == "monitoring.flows[1]" and i.line for i in error.issues)


def test_an_unquoted_hex_id_that_reads_as_an_exponent_is_refused(tmp_path):
    """372e6795 is a float in YAML 1.2 (as the Pulumi CLI reads it) and overflows to infinity."""
    error = _refused(tmp_path, _replace("launchready:domain: example.com", "launchready:domain: 372e6795"))
    (issue,) = error.issues
    assert "'372e6795'" in issue.message and "quote it" in issue.message and issue.line
