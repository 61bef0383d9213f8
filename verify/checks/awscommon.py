"""What every AWS check shares: the group, the plan wrapper, and reading dates and tags."""
from __future__ import annotations

import datetime as _dt
import functools

from ..awsexpect import AwsExpectations
from ..expectations import Expectations
from ..registry import NotApplicable

GROUP = "aws"


def with_aws(what: str, applies=lambda a: True):
    """An AWS check's plan: not applicable when the stack declares no `what` (applies(aws) False)."""
    def deco(plan):
        @functools.wraps(plan)
        def wrapper(exp: Expectations):
            aws: AwsExpectations | None = exp.aws
            if aws is None or not applies(aws):
                return NotApplicable(f"the stack declares no {what}", exp.domain)
            return plan(aws)
        return wrapper
    return deco


def now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def age_days(when: _dt.datetime, at: _dt.datetime | None = None) -> float:
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    return ((at or now()) - when).total_seconds() / 86400


def day(when: _dt.datetime | None) -> str | None:
    return when.date().isoformat() if when else None
