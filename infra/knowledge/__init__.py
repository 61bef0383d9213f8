"""Facts and pure parsers shared by infra, policies and verify (the ground floor: imports nothing above infra.spec)."""
