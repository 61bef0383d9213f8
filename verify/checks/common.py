"""What every mail check shares: the group name and the plan wrapper for stacks without mail."""
from __future__ import annotations

import functools

from ..expectations import Expectations
from ..registry import NotApplicable

GROUP = "mail"
NO_MAIL = "the stack declares no mail section"


def with_mail(plan):
    """A mail check's plan: not applicable when the stack declares no mail; else plan(exp, mail)."""
    @functools.wraps(plan)
    def wrapper(exp: Expectations):
        if exp.mail is None:
            return NotApplicable(NO_MAIL, exp.domain)
        return plan(exp, exp.mail)
    return wrapper
