"""cert-manager's renewal of issued Certificates at their renewalTime, and the day-two fault cert_expiring.

A Certificate named by cert_expiring (skynet_lab/faults.py `matches`) has its renewal fail: the Issuing condition
turns False with the failure, and its notAfter is 3 days away (as a certificate is when renewals have failed for a
month). Without the fault, cert-manager renews any issued Certificate once its renewalTime has passed.
"""

from __future__ import annotations

import datetime as dt

from skynet_lab.faults import matches
from skynet_lab.kubesim.base import Sim, condition, set_condition
from skynet_lab.kubesim.store import Obj

LIFETIME, RENEW_BEFORE, FAILING_LEFT = 90, 30, 3  # days: a Let's Encrypt certificate, renewed 30 days early
FAILURE = (
    "The certificate request has failed to complete and will be retried: SIMULATED LAB fault cert-expiring: "
    "the ACME order failed"
)


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(text or "", "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def step(sim: Sim) -> None:
    wanted = sim.faults.get("cert_expiring") or []
    wanted = [wanted] if isinstance(wanted, str) else [str(w) for w in wanted]
    now = dt.datetime.now(dt.UTC)
    for cert in sim.items("cert-manager.io", "certificates"):
        if condition(cert, "Ready").get("status") != "True":
            continue
        status = cert.get("status") or {}
        dns = list((cert.get("spec") or {}).get("dnsNames") or [])
        if wanted and matches(cert["metadata"]["name"], dns, wanted):
            _failing(sim, cert, now)
            continue
        renewal = _parse(status.get("renewalTime"))
        if renewal is not None and renewal <= now:
            _renew(sim, cert, now)


def _failing(sim: Sim, cert: Obj, now: dt.datetime) -> None:
    if condition(cert, "Issuing").get("status") == "False":
        return

    def fail(c: Obj) -> None:
        st = c.setdefault("status", {})
        st["conditions"] = set_condition(st.get("conditions") or [], "Issuing", "False", "Failed", FAILURE)
        st.update(
            notBefore=_stamp(now - dt.timedelta(days=LIFETIME - FAILING_LEFT)),
            notAfter=_stamp(now + dt.timedelta(days=FAILING_LEFT, hours=12)),
            renewalTime=_stamp(now - dt.timedelta(days=RENEW_BEFORE - FAILING_LEFT)),
            lastFailureTime=_stamp(now),
            failedIssuanceAttempts=int(st.get("failedIssuanceAttempts") or 0) + 1,
        )

    new = sim.mutate(cert, fail)
    if new is not None:
        sim.event(new, "Failed", FAILURE, type_="Warning", component="cert-manager-certificates-issuing")


def _renew(sim: Sim, cert: Obj, now: dt.datetime) -> None:
    def renewed(c: Obj) -> None:
        st = c.setdefault("status", {})
        st["conditions"] = [x for x in st.get("conditions") or [] if x.get("type") != "Issuing"]
        for key in ("lastFailureTime", "failedIssuanceAttempts"):
            st.pop(key, None)
        st.update(
            notBefore=_stamp(now),
            notAfter=_stamp(now + dt.timedelta(days=LIFETIME)),
            renewalTime=_stamp(now + dt.timedelta(days=LIFETIME - RENEW_BEFORE)),
            revision=int(st.get("revision") or 1) + 1,
        )

    new = sim.mutate(cert, renewed)
    if new is not None:
        sim.event(
            new,
            "Issuing",
            "The certificate has been successfully issued",
            component="cert-manager-certificates-issuing",
        )
