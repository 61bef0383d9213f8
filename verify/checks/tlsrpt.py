"""TLS-RPT check (group "mail"): one valid _smtp._tls record reporting to the declared addresses.
Parsing is checkdmarc's."""
from __future__ import annotations

import checkdmarc.smtp_tls_reporting as cd_rpt

from infra.knowledge.mailrecords import announces

from ..expectations import Expectations, MailExpectations
from ..model import Verdict, failed, passed
from ..registry import Item, NotApplicable, check, checks_of, key
from .common import GROUP, with_mail


@with_mail
def _plan_rpt(exp: Expectations, m: MailExpectations):
    if m.tls_rpt_rua is None:
        return NotApplicable("TLS-RPT not declared", exp.domain)
    n = f"_smtp._tls.{m.domain}"
    return [Item(n, (key("rr", n, "TXT"),), data=m)]


@check("tls-rpt", GROUP, "TLS-RPT record is valid and reports go to the declared addresses", plan=_plan_rpt)
def judge_tls_rpt(item: Item, obs) -> Verdict:
    m: MailExpectations = item.data
    ans = obs[key("rr", item.target, "TXT")].checked()
    hint = f'publish {item.target} TXT "v=TLSRPTv1; rua={",".join(m.tls_rpt_rua) or "mailto:tls-reports@" + m.domain}"'
    recs = [t for t in ans.texts() if announces(t, "TLSRPTv1")]
    if len(recs) != 1:
        return failed(f"{len(recs) or 'no'} TLS-RPT record(s) at {item.target}", hint, records=recs)
    try:
        parsed = cd_rpt.parse_smtp_tls_reporting_record(recs[0])
    except cd_rpt.SMTPTLSReportingError as e:
        return failed(f"TLS-RPT record invalid: {e}", hint, record=recs[0])
    rua = parsed["tags"]["rua"]["value"]
    rua = [rua] if isinstance(rua, str) else list(rua)
    missing = [a for a in m.tls_rpt_rua if a.lower() not in [x.lower() for x in rua]]
    if missing:
        return failed(f"TLS-RPT rua lacks {', '.join(missing)}", hint, live=rua)
    return passed(f"TLS-RPT rua = {', '.join(rua)}", rua=rua)


CHECKS = checks_of(judge_tls_rpt)
