"""Zones broken in ways that make several checks unable to run, so they are not in VARIANTS (whose
test demands exactly one FAIL and no ERROR): the world serves them, their own tests judge them."""
from __future__ import annotations


def _v_cname_loop(w):
    """status.<d> (declared as an A) is a CNAME to loop.<d>, which is a CNAME back to status.<d>."""
    status, loop = f"status.{w.name}", f"loop.{w.name}"
    w.zone.drop(lambda r: r[0] == status + ".")
    w.zone.add(status, "CNAME", loop + ".", 300)
    w.zone.add(loop, "CNAME", status + ".", 300)


FAULT_VARIANTS = (("cname-loop", "dns-dangling-cname", _v_cname_loop),)
