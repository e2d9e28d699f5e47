"""What the upgrade screen writes: node rows, the path line, the gates, the plan and the platform's chart rows."""

from __future__ import annotations

from rich.text import Text

from skynet_tui import versions
from skynet_tui.plan.steps import Plan
from skynet_tui.plan.upgrade import Preview
from skynet_tui.spec import Cluster
from skynet_tui.upgrade.charts import ChartChange
from skynet_tui.upgrade.live import NodeVersions

KINDS = (("talos", "Talos OS"), ("kubernetes", "Kubernetes"), ("platform", "Platform charts"))


def default_target(kind: str, cluster: Cluster) -> str:
    """What the target field starts with: the newest release the cluster's Talos minor (or Talos) allows."""
    release = versions.release_for(cluster.spec.talos.version)
    if kind == "talos":
        return release.latest if release else versions.DEFAULT_TALOS
    if kind == "kubernetes":
        return release.k8s_default if release else versions.DEFAULT_KUBERNETES
    return ""


def node_cells(prepared: Preview, node: NodeVersions) -> tuple[object, ...]:
    now = prepared.current(node) or "?"
    moving = bool(prepared.hops) and now != prepared.target
    target = Text(prepared.target, style="bold green") if moving else Text("—" if not prepared.hops else now)
    ready = Text("Ready", style="green") if node.ready else Text("NotReady", style="red")
    return (node.hostname, node.role, node.ip, now, target, ready)


def path_text(prepared: Preview) -> Text:
    if prepared.refusal:
        return Text(f"Refused: {prepared.refusal}", style="bold red")
    what = "Talos" if prepared.request.kind == "talos" else "Kubernetes"
    if prepared.nothing_to_do:
        return Text(f"Every node runs {what} {prepared.target}: nothing to do.", style="green")
    start = " / ".join(sorted({prepared.current(n) for n in prepared.nodes}))
    order = " → ".join(", ".join(batch) for batch in prepared.order())
    text = Text(f"Path: {start} → {' → '.join(prepared.hops)}", style="bold")
    text.append(
        f"\nOrder: {order}" if prepared.request.kind == "talos" else "\nOrder: upgrade-k8s, node by node"
    )
    return text


def gates_text(prepared: Preview) -> Text:
    text = Text()
    for number, gate in enumerate(prepared.gates):
        if number:
            text.append("\n")
        text.append("✓ " if gate.ok else "✗ ", style="green" if gate.ok else "bold red")
        text.append(f"{gate.title}: ", style="bold")
        text.append(gate.detail, style="yellow" if gate.waived else "")
    return text


def plan_text(plan: Plan | None) -> Text:
    if plan is None:
        return Text("no plan: nothing to run", style="dim")
    text = Text(f"{plan.name}: {len(plan.steps)} steps", style="bold")
    for number, step in enumerate(plan.order(), 1):
        text.append(f"\n{number:>3}. {step.title}")
    return text


def chart_cells(change: ChartChange) -> tuple[object, ...]:
    note = Text("major: read its upgrade notes", style="bold yellow") if change.major else Text("")
    return (change.app, change.chart, change.pinned or "—", change.new or "—", note)
