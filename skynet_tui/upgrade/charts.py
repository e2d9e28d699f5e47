"""The platform's charts: what the workspace's GitOps tree pins now against Skynet's pinned table, and the diff.

The workspace's `<gitops.path>/apps/<name>.yaml` say which chart version Argo CD deploys; Skynet's table
(gitops/charts.py) says which it would render today. A chart whose major version changes (the minor for 0.x
charts, as semver reads them) is flagged: its upgrade notes are worth reading before the push.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from skynet_tui.gitops.charts import BY_NAME, CONFIG, enabled_apps
from skynet_tui.gitops.render import render_tree
from skynet_tui.spec import Cluster
from skynet_tui.workspace import Workspace

_NUMBERS = re.compile(r"^v?(\d+)\.(\d+)")


@dataclass(frozen=True)
class ChartChange:
    """One Application whose chart version changes (or that appears or goes)."""

    app: str
    chart: str
    pinned: str  # what the workspace pins now; "" for an Application Skynet adds
    new: str  # what Skynet pins; "" for an Application Skynet no longer renders

    @property
    def major(self) -> bool:
        """A major bump (or, for 0.x, a minor one): breaking changes are allowed there."""
        return bool(self.pinned and self.new) and _series(self.pinned) != _series(self.new)

    def describe(self) -> str:
        if not self.pinned:
            return f"{self.app}: a new app ({self.chart} {self.new})"
        if not self.new:
            return f"{self.app}: no longer rendered (was {self.chart} {self.pinned}); Argo CD prunes it"
        text = f"{self.app}: {self.chart} {self.pinned} -> {self.new}"
        if self.major:
            text += " — a major version: read the chart's upgrade notes before you push"
        return text


def _series(version: str) -> tuple[int, ...]:
    match = _NUMBERS.match(version)
    if not match:
        return (-1,)
    major, minor = int(match[1]), int(match[2])
    return (major,) if major else (0, minor)


def _pinned(path: Path) -> tuple[str, str] | None:
    """(chart, version) an Application file pins; None for plain manifests or an unreadable file."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return None
    sources = (doc.get("spec") or {}).get("sources") or []
    if not sources or not isinstance(sources[0], dict):
        return None
    source = sources[0]
    chart = str(source.get("chart") or source.get("path") or "")
    version = str(source.get("targetRevision") or "")
    return (chart, version) if chart and version else None


def folder(ws: Workspace, cluster: Cluster) -> Path:
    return ws.root / cluster.spec.gitops.path


def chart_changes(ws: Workspace, cluster: Cluster) -> list[ChartChange]:
    """Every Application whose chart the upgrade changes, in sync-wave order."""
    apps_dir = folder(ws, cluster) / "apps"
    deployed = {p.stem: _pinned(p) for p in sorted(apps_dir.glob("*.yaml"))} if apps_dir.is_dir() else {}
    out = []
    wanted = {app.name for app in enabled_apps(cluster)}
    for app in enabled_apps(cluster):
        if app.kind == CONFIG:
            continue
        now = deployed.get(app.name)
        chart = app.chart or app.path
        if now is None:
            if app.name not in deployed:
                out.append(ChartChange(app.name, chart, "", app.version))
            continue
        if now[1] != app.version:
            out.append(ChartChange(app.name, chart, now[1], app.version))
    for name, now in deployed.items():
        if name not in wanted and now is not None:
            known = BY_NAME.get(name)
            out.append(ChartChange(name, known.chart or known.path if known else now[0], now[1], ""))
    return out


def tree_diff(ws: Workspace, cluster: Cluster) -> tuple[list[str], str]:
    """(changed paths under the GitOps folder, a unified diff of them) between the workspace and a fresh render."""
    base = folder(ws, cluster)
    rendered = render_tree(cluster)
    on_disk = {
        p.relative_to(base).as_posix(): p for p in sorted(base.rglob("*")) if p.is_file()
    } if base.is_dir() else {}  # fmt: skip
    changed: list[str] = []
    lines: list[str] = []
    for rel in sorted({*rendered, *on_disk}):
        old = on_disk[rel].read_text(encoding="utf-8") if rel in on_disk else ""
        new = rendered.get(rel, "")
        if old == new:
            continue
        changed.append(rel)
        prefix = cluster.spec.gitops.path
        lines += difflib.unified_diff(
            old.splitlines(),
            new.splitlines(),
            fromfile=f"a/{prefix}/{rel}" if rel in on_disk else "/dev/null",
            tofile=f"b/{prefix}/{rel}" if rel in rendered else "/dev/null",
            lineterm="",
        )
    return changed, "\n".join(lines)
