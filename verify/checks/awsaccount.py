"""Account hygiene: the root user has MFA and no access keys (IAM GetAccountSummary)."""
from __future__ import annotations

from ..awsexpect import AwsExpectations
from ..model import Verdict, failed, passed
from ..probes.awsprobes import AccountObservation
from ..registry import Item, Observations, check, checks_of, key
from .awscommon import GROUP, with_aws


@with_aws("AWS resources (secrets, env contract or monitoring)", lambda a: bool(a.secrets or a.env or a.monitored))
def _plan_account(aws: AwsExpectations):
    return [Item(target="account", needs=(key("aws-account"),))]


@check("aws-root-mfa", GROUP, "the account's root user has MFA", plan=_plan_account)
def judge_root_mfa(item: Item, obs: Observations) -> Verdict:
    o: AccountObservation = obs[key("aws-account")]
    if not o.root_mfa:
        return failed("the root user has no MFA device: whoever learns its password owns the account",
                      "sign in as root and assign an MFA device (IAM → Security credentials → Multi-factor "
                      "authentication); prefer a hardware key")
    return passed("the root user has MFA")


@check("aws-root-access-keys", GROUP, "the account's root user has no access keys", plan=_plan_account)
def judge_root_access_keys(item: Item, obs: Observations) -> Verdict:
    o: AccountObservation = obs[key("aws-account")]
    if o.root_access_keys:
        return failed("the root user has access keys: a leaked key is the whole account, with no policy to limit it",
                      "delete the root access keys (IAM → Security credentials as root); use IAM roles instead")
    return passed("the root user has no access keys")


CHECKS = checks_of(judge_root_mfa, judge_root_access_keys)
