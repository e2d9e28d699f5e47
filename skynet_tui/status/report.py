"""`skynet status --once --json`: a snapshot as a dict with stable keys (documented in the README)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from skynet_tui.status.model import Snapshot


def _time(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def to_dict(snap: Snapshot) -> dict[str, Any]:
    """cluster, taken_at, healthy, api{reachable, error, last_ok_at}, layers[], capacity, backup{text, level}|null,
    access{text, level}|null, secrets (the only-copy warning)|null, problems[]."""
    last_ok = None
    if snap.api.last_ok is not None:
        last_ok = _time(snap.taken_at - timedelta(seconds=max(0.0, snap.clock - snap.api.last_ok)))
    return {
        "cluster": snap.cluster,
        "taken_at": _time(snap.taken_at),
        "healthy": snap.healthy,
        "api": {"reachable": snap.api.ok, "error": snap.api.error, "last_ok_at": last_ok},
        "layers": [
            {
                "layer": layer.layer,
                "title": layer.title,
                "level": layer.level,
                "checked": layer.checked,
                "text": layer.text,
                "counts": dict(layer.counts),
            }
            for layer in snap.layers
        ],
        "capacity": snap.capacity,
        "backup": {"text": snap.backup, "level": snap.backup_level} if snap.backup else None,
        "access": {"text": snap.access, "level": snap.access_level} if snap.access else None,
        "secrets": snap.unshared or None,
        "problems": [
            {
                "layer": p.layer,
                "level": p.level,
                "text": p.text,
                "kind": p.target[0] or None,
                "name": p.target[1] or None,
            }
            for p in snap.problems
        ],
    }
