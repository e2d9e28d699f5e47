"""Sharing as the commands do it: encrypt what changed, commit, push; change the recipients in cluster.yaml."""

from __future__ import annotations

from collections.abc import Mapping

from skynet_tui import gitops, launcher, spec
from skynet_tui.sharing.store import seal
from skynet_tui.spec import Cluster
from skynet_tui.spec.secrets import recipient_key
from skynet_tui.workspace import SEALED, Workspace

REMOTE = "origin"


def share(
    ws: Workspace,
    cluster: Cluster,
    *,
    push: bool,
    env: Mapping[str, str] | None = None,
    on_line: launcher.LineCallback | None = None,
    on_command: launcher.CommandCallback | None = None,
) -> list[str]:
    """After a command changed secrets/: encrypt what changed into secrets.age/, commit it and, when `push`
    and something was committed, push. Nothing happens for a cluster that does not share its secrets."""
    if not cluster.recipients and not (ws.root / SEALED).exists():
        return []
    with ws.lock():
        changed = seal(ws, cluster.recipients)
        message = f"skynet: {SEALED}/ follows secrets/ ({len(changed)} file(s))"
        committed = bool(changed) and ws.commit(message, [SEALED], on_command=on_command)
    if push and committed:
        gitops.push(ws, cluster, on_line=on_line, env=env, on_command=on_command)
    return changed


def pushes(ws: Workspace) -> bool:
    """Whether the workspace has been pushed to a remote (it has `origin`): its changes are pushed too."""
    return ws.git("remote", "get-url", REMOTE, check=False).ok


def with_recipients(cluster: Cluster, recipients: list[str]) -> Cluster:
    """The answers with these recipients (none: no encryption); SpecError names a key that is not one."""
    data = spec.to_data(cluster)
    body = data["spec"]
    if recipients:
        body["secrets"] = {**body.get("secrets", {}), "encryption": {"age": {"recipients": recipients}}}
    else:
        body.pop("secrets", None)
    return spec.parse(data)


def added(current: list[str], key: str) -> list[str] | None:
    """The recipients with `key` added; None when it is one of them already."""
    if any(recipient_key(r) == recipient_key(key) for r in current):
        return None
    return [*current, key]


def removed(current: list[str], key: str) -> list[str] | None:
    """The recipients without `key` (matched without an ssh key's comment); None when it is not one of them."""
    kept = [r for r in current if recipient_key(r) != recipient_key(key.strip())]
    return None if len(kept) == len(current) else kept
