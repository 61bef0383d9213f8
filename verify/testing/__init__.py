"""Test-world helpers shared by tests/verify and benchmarks: a private knotd and zone rendering."""
