"""Non-sending name checks (group "mail"): names that never send or receive mail say so with a
null MX, `v=spf1 -all` and a DMARC p=reject (their own or the organisational sp=)."""
from __future__ import annotations

from ..expectations import Expectations, MailExpectations
from ..model import Verdict, failed, passed
from ..probes.mailprobes import DmarcObservation, SpfObservation
from ..registry import Item, NotApplicable, check, checks_of, key
from .common import GROUP, with_mail
from .dmarc import dmarc_effective


def _plan_non_sending(kind: str):
    @with_mail
    def plan(exp: Expectations, m: MailExpectations):
        if not m.non_sending:
            return NotApplicable("no non-sending names declared", exp.domain)
        items = []
        for n in m.non_sending:
            if kind == "mx":
                needs = (key("rr", n, "MX"),)
            elif kind == "spf":
                needs = (key("spf", n),)
            else:
                needs = (key("dmarc", n),) + ((key("dmarc", m.domain),) if n != m.domain else ())
            items.append(Item(n, needs, data=m))
        return items
    return plan


@check("non-sending-null-mx", GROUP, "Non-sending names publish a null MX (0 .)", plan=_plan_non_sending("mx"))
def judge_ns_mx(item: Item, obs) -> Verdict:
    ans = obs[key("rr", item.target, "MX")].checked()
    live = sorted(ans.records) if ans.status == "ok" else []
    if live == ["0 ."]:
        return passed("null MX (RFC 7505)")
    return failed(f"{item.target} MX is {', '.join(live) or 'absent'}; a name that never receives mail should say so",
                  f"publish {item.target} MX 0 . (and nothing else)", live=live)


@check("non-sending-spf", GROUP, "Non-sending names publish v=spf1 -all", plan=_plan_non_sending("spf"))
def judge_ns_spf(item: Item, obs) -> Verdict:
    o: SpfObservation = obs[key("spf", item.target)]
    hint = f'publish {item.target} TXT "v=spf1 -all"'
    if o.record is None:
        return failed(f"{item.target} has {len(o.records) or 'no'} SPF record(s): spoofers may send as it", hint,
                      records=list(o.records))
    if o.parsed and not o.parsed.get("mechanisms") and not o.parsed.get("redirect") and o.all_qualifier() == "-all":
        return passed("v=spf1 -all")
    return failed(f"{item.target} SPF is {o.record!r}; a non-sending name should authorise nobody", hint, record=o.record)


@check("non-sending-dmarc", GROUP, "Non-sending names are covered by DMARC p=reject", plan=_plan_non_sending("dmarc"))
def judge_ns_dmarc(item: Item, obs) -> Verdict:
    m: MailExpectations = item.data
    own: DmarcObservation = obs[key("dmarc", item.target)]
    hint = f'publish _dmarc.{item.target} TXT "v=DMARC1; p=reject"'
    if own.tags is not None:
        p, caveats = dmarc_effective(own)
        if p == "reject" and not caveats:
            return passed("own DMARC p=reject")
        return failed(f"_dmarc.{item.target} has p={p}" + "".join(f"; {c}" for c in caveats), hint, record=own.record)
    if item.target != m.domain:
        org: DmarcObservation = obs[key("dmarc", m.domain)]
        if org.tags is not None:
            sp, caveats = dmarc_effective(org, "sp")
            if sp == "reject" and not caveats:
                return passed(f"inherits sp=reject from _dmarc.{m.domain}")
            return failed(f"{item.target} inherits sp={sp} from _dmarc.{m.domain}" + "".join(f"; {c}" for c in caveats),
                          hint, record=org.record)
    return failed(f"no DMARC policy covers {item.target}", hint, own=own.records or own.answer_status,
                  organizational=f"_dmarc.{m.domain}")


CHECKS = checks_of(judge_ns_mx, judge_ns_spf, judge_ns_dmarc)
