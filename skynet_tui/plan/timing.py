"""The install plan's delays, polls and timeouts (one table), and the scale the lab and tests run them at."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Self

SCALE_ENV = "SKYNET_TIMING_SCALE"  # multiplies delays and timeouts (the lab and tests make runs quick)
TIMEOUT_FLOOR = 30.0


@dataclass(frozen=True)
class Timing:
    """Delays, polls and timeouts of the install plan, in seconds (real machines by default)."""

    retry_delay: float = 5.0
    poll: float = 5.0
    preflight_attempts: int = 3
    preflight_timeout: float = 120.0
    apply_attempts: int = 3
    apply_timeout: float = 300.0
    install_timeout: float = 1800.0
    reboot_grace: float = 900.0  # a node silent this long after its install answers nowhere: name its link
    cni_ready_timeout: float = (
        2700.0  # cni: none: the operator installs a CNI; Talos reboots nodes without one
    )
    bootstrap_timeout: float = 900.0
    health_wait: float = 1200.0  # talosctl health --wait-timeout
    health_attempts: int = 2
    kube_timeout: float = 300.0
    argocd_timeout: float = 900.0
    wave_timeout: float = 1800.0

    def scaled(self, factor: float) -> Self:
        """Delays times `factor`; timeouts too, but never below TIMEOUT_FLOOR (a loaded machine stays inside)."""
        changes = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in ("retry_delay", "poll"):
                changes[f.name] = value * factor
            elif f.type == "float":
                changes[f.name] = max(value * factor, min(value, TIMEOUT_FLOOR))
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Self:
        try:
            factor = float(env.get(SCALE_ENV) or 1.0)
        except ValueError:
            factor = 1.0
        return cls().scaled(factor) if factor > 0 else cls()
