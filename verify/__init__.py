"""verify: judge the live world after apply against the same stack spec (see docs/verify.md)."""
