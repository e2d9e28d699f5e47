"""Helpers for install tests on the lab: near-zero latencies, a quick Timing, the core-platform answers."""

from __future__ import annotations

import dataclasses

from skynet_tui.plan.timing import Timing

# Near-zero latencies for every simulated operation: the machines' and the platform's (Argo CD, pods, certs).
FAST = {
    op: 0.01
    for op in ("install", "reboot", "bootstrap_ready", "etcd", "boot", "health_check", "get")
    + (
        "apply-config",
        "bootstrap",
        "kubeconfig",
        "pod_start",
        "lb_assign",
        "cert_issue",
    )
    + ("progress_deadline", "argo_reconcile", "argo_sync", "argo_wave", "argo_retry", "argo_refresh")
}

# The fault and kill tests need the waves, not all ten of them: the core platform keeps five.
# The fault and kill tests need the waves, not all of them: the core platform only.
CORE_ONLY = {
    name: False for name in ("monitoring", "logging", "tracing", "storage", "vpa", "metrics", "policies")
}


def fast_timing(**changes: float) -> Timing:
    base = Timing(
        retry_delay=0.05, poll=0.05, preflight_attempts=2, preflight_timeout=30, apply_timeout=30,
        install_timeout=30, bootstrap_timeout=30, health_wait=20, kube_timeout=30, argocd_timeout=30,
        wave_timeout=30,
    )  # fmt: skip
    return dataclasses.replace(base, **changes)
