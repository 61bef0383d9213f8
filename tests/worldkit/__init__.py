"""Test-world helpers shared by tests/verify and benchmarks/bench_verify_dns.py: a private knotd, zone
rendering, a faulty DNS server and real-world zone cases. Test-only: never shipped in the wheel."""
