"""launch-ready policy pack: rules (policies/rules/), the offline gate (gate.py) and its reports.

Import `policies.rules.ALL` for the rules; never build a PolicyPack outside `__main__.py` (its
constructor starts a gRPC server and never returns).
"""
