"""Entry point the Pulumi engine runs (`pulumi preview --policy-pack policies`). Only builds the pack."""
from pulumi_policy import EnforcementLevel, PolicyPack

from policies.context import environment, stack_name
from policies.rules import ALL, initial_config

PolicyPack(
    name="launchready",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=ALL,
    # The engine hands the pack the stack's config (PULUMI_CONFIG), read as the typed spec
    # (policies.context): outside production, the production-only rules start as advisory; in the
    # template stack `example` (PULUMI_STACK), so does example-values-replaced.
    # A --policy-pack-config file still overrides.
    initial_config=initial_config(environment(), stack_name()),
    description="launch-ready: a client portal's edge, DNS, mail, secrets and monitors judged before apply.",
)
