"""The platform upgrade plan: the charts Skynet pins now, shown per Application with the GitOps diff, then on
confirmation written, committed and pushed; Argo CD resyncs the changed Applications from the remote."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from skynet_tui import gitops
from skynet_tui.gitops.render import render_tree
from skynet_tui.plan.steps import Plan, Step, StepError, call, on_line
from skynet_tui.plan.upgrade_steps import Confirm
from skynet_tui.upgrade.charts import ChartChange, chart_changes, tree_diff
from skynet_tui.workspace import COMMITTED

if TYPE_CHECKING:
    from skynet_tui.runner import Context
    from skynet_tui.spec import Cluster
    from skynet_tui.workspace import Workspace


def review_text(changes: list[ChartChange], changed: list[str]) -> str:
    """What the operator confirms: per Application pinned -> new, majors flagged, and the files that change."""
    lines = [change.describe() for change in changes] or ["no chart version changes"]
    lines.append(f"{len(changed)} file(s) under the GitOps folder change")
    return "\n".join(lines)


def platform_plan(
    cluster: Cluster,
    ws: Workspace,
    *,
    simulated: bool = False,
    confirm: Confirm | None = None,
) -> Plan:
    """Review (per-Application versions and the diff, then `confirm`), write + commit, push."""
    tree = render_tree(cluster)
    digest = hashlib.sha256("".join(f"{k}\n{v}" for k, v in tree.items()).encode("utf-8")).hexdigest()[:16]

    def review(ctx: Context) -> None:
        changes = chart_changes(ws, cluster)
        changed, diff = tree_diff(ws, cluster)
        for change in changes:
            ctx.line(change.describe(), stream="err" if change.major else "info")
        for line in diff.splitlines():
            ctx.line(line, stream="out")
        if not changed:
            ctx.line("the GitOps folder already holds what Skynet pins")
            return
        if confirm is not None and not confirm(
            "Commit and push the new platform?", review_text(changes, changed)
        ):
            raise StepError("the platform upgrade was not confirmed; the GitOps folder is unchanged")

    def write(ctx: Context) -> None:
        changes = chart_changes(ws, cluster)
        paths = call(gitops.write_tree, ws, cluster)
        moves = ", ".join(f"{c.app} {c.new}" for c in changes if c.new) or "the GitOps tree"
        committed = ws.commit(f"skynet upgrade platform: {moves}", [*COMMITTED, cluster.spec.gitops.path])
        ctx.line(f"{len(paths)} file(s) written; " + ("committed" if committed else "nothing to commit"))

    def push(ctx: Context) -> None:
        call(gitops.push, ws, cluster, env=ctx.env, on_line=on_line(ctx))

    steps = [
        Step("platform-review", "Show each Application's pinned -> new chart and the GitOps diff", review,
             timeout=600),
        Step("platform-write", "Write the GitOps folder and commit it", write, deps=("platform-review",),
             timeout=120),
        Step("platform-push", f"Push to {cluster.spec.gitops.repo_url}", push, deps=("platform-write",),
             timeout=300, hint="the commit is kept: fix access to the remote and run again to push"),
    ]  # fmt: skip
    return Plan(
        name="upgrade platform",
        steps=steps,
        simulated=simulated,
        answers=digest,
        summary=lambda _finished_at: (
            f"Pushed to {cluster.spec.gitops.repo_url} ({cluster.spec.gitops.branch}): Argo CD syncs the changed "
            "Applications; watch them resync in the console (skynet status)"
        ),
    )
