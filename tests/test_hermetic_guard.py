"""The guard covers the Python subprocesses the tests start, not only the test process."""
from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

CHILD = """
import socket
try:
    socket.getaddrinfo("example.com", 443)
except OSError as exc:
    print(type(exc).__name__)
"""


def test_guard_trips_in_a_child_process_even_when_the_child_swallows_it(hermetic_child_log):
    before = hermetic_child_log.read_text().splitlines()
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=30)
    assert proc.stdout.strip() == "HermeticViolation", proc.stderr
    after = hermetic_child_log.read_text().splitlines()
    new = after[len(before):]
    assert len(new) == 1 and "name resolution of 'example.com'" in new[0]
    hermetic_child_log.write_text("".join(line + "\n" for line in before))  # proven; do not fail this test
