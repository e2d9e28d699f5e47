"""`talosctl etcd leave`, `etcd remove-member` and `reset` against the lab: a control plane leaves etcd, a machine
is wiped, with the refusals real Talos and etcd give.

etcd refuses a member removal that would leave fewer started members than the quorum of the members that remain
(its strict reconfiguration check: "re-configuration failed due to not enough started members"); the lab counts
members as the control planes that joined and did not leave, started ones as those whose etcd runs and that answer. A reset
(`--graceful`, the default) leaves etcd first, so it is refused the same way; `--reboot` brings the machine back in
maintenance mode (a wiped disk boots the ISO again, with a new certificate), without it the machine powers off.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from skynet_lab import hardware, state, talos_tls
from skynet_lab.cli import CliError, check_args
from skynet_lab.talos_conn import Ctx, Failure

NOT_ENOUGH = (
    "rpc error: code = Unknown desc = etcdserver: re-configuration failed due to not enough started members"
)


def _members(ctx: Ctx) -> list[dict[str, Any]]:
    """The etcd members: control planes that joined the bootstrapped cluster and have not left it."""
    if not ctx.lab.get("bootstrap"):
        return []
    stored = state.derive_all(ctx.lab, state.load_stored_nodes(ctx.root))
    return [
        n
        for n in stored
        if n.get("role") == "controlplane"
        and n.get("applied_at")
        and not n.get("etcd_left")
        and not n.get("powered_off")
    ]


def quorum_refusal(members: list[dict[str, Any]], leaving: dict[str, Any]) -> str | None:
    """etcd's strict reconfiguration check for removing `leaving`: None when it may go."""
    remaining = [m for m in members if m["ip"] != leaving["ip"]]
    started = sum(1 for m in remaining if m["etcd_running"] and m.get("reachable", True))
    if not remaining or started < len(remaining) // 2 + 1:
        return NOT_ENOUGH
    return None


def _leave(ctx: Ctx, node: dict[str, Any], prefix: str) -> None:
    """Remove `node` from etcd (refused without quorum); a leader hands leadership to a started member."""
    members = _members(ctx)
    if not any(m["ip"] == node["ip"] for m in members):
        raise Failure(prefix + "rpc error: code = NotFound desc = etcdserver: member not found")
    refusal = quorum_refusal(members, node)
    if refusal:
        raise Failure(prefix + refusal)
    successor = next(
        m["ip"] for m in members if m["ip"] != node["ip"] and m["etcd_running"] and m.get("reachable", True)
    )

    def hand_over(lab: dict[str, Any]) -> None:
        leader = lab.get("etcd_leader") or (lab.get("bootstrap") or {}).get("node")
        if leader == node["ip"]:
            lab["etcd_leader"] = successor

    state.update_lab(ctx.root, hand_over)
    state.update_node(ctx.root, node["ip"], lambda n: n.update(etcd_left=True))


def _control_plane(ctx: Ctx, ip: str, config: Any, prefix: str, what: str) -> dict[str, Any]:
    try:
        node = ctx.check_secure(ip, config)
    except Failure as exc:
        raise Failure(prefix + exc.message) from None
    if node["role"] != "controlplane":
        raise Failure(
            f"{prefix}rpc error: code = Unimplemented desc = {what} is only available on control plane nodes"
        )
    return node


def etcd_leave(ctx: Ctx) -> int:
    """`talosctl etcd leave -n CP`: the node's own member leaves the cluster, and its etcd stops."""
    check_args(ctx.inv, exact=0)
    prefix = "error executing leave: "
    _, nodes, config = ctx.secure_route(prefix)
    ctx.sleep("etcd-cmd")
    for ip in nodes:
        node = _control_plane(ctx, ip, config, prefix, "etcd leave")
        if not node["etcd_running"]:
            raise Failure(
                prefix + "rpc error: code = FailedPrecondition desc = etcd is not running on this node"
            )
        _leave(ctx, node, prefix)
    return 0


def etcd_remove_member(ctx: Ctx) -> int:
    """`talosctl etcd remove-member ID -n CP`: a healthy control plane removes another member (one that is down)."""
    check_args(ctx.inv, exact=1)
    prefix = "error removing member: "
    _, nodes, config = ctx.secure_route(prefix)
    if len(nodes) > 1:
        raise CliError('command "etcd remove-member" is not supported with multiple nodes', ctx.inv.command)
    asked = _control_plane(ctx, nodes[0], config, prefix, "etcd remove-member")
    if not asked["etcd_running"]:
        raise Failure(prefix + "rpc error: code = FailedPrecondition desc = etcd is not running on this node")
    ctx.sleep("etcd-cmd")
    wanted = ctx.inv.args[0].lower()
    member = next((m for m in _members(ctx) if hardware.etcd_member_id(m["ip"]) == wanted), None)
    if member is None:
        raise Failure(prefix + f"rpc error: code = Unknown desc = member {wanted} not found")
    _leave(ctx, member, prefix)
    return 0


def reset(ctx: Ctx) -> int:
    """`talosctl reset -n IP [--graceful] [--reboot]`: leave etcd (graceful, control planes), wipe, power off or
    boot the ISO again."""
    check_args(ctx.inv, exact=0)
    for flag in ("system-labels-to-wipe", "user-disks-to-wipe", "insecure"):
        if ctx.inv.has(flag):
            raise Failure(f"talosctl reset --{flag} is not simulated by the Skynet lab")
    mode = str(ctx.inv.get("wipe-mode") or "all")
    if mode != "all":
        raise Failure(f"talosctl reset --wipe-mode {mode} is not simulated by the Skynet lab (all only)")
    prefix = "error executing reset: "
    _, nodes, config = ctx.secure_route(prefix)
    graceful = bool(ctx.inv.get("graceful", True))
    reboot = bool(ctx.inv.get("reboot", False))
    for ip in nodes:
        try:
            node = ctx.check_secure(ip, config)
        except Failure as exc:
            raise Failure(prefix + exc.message) from None
        member = any(m["ip"] == node["ip"] for m in _members(ctx))
        if graceful and node["role"] == "controlplane" and member:
            _leave(ctx, node, prefix + "failed to leave etcd: ")
        ctx.sleep("etcd-cmd")
        state.update_node(ctx.root, node["ip"], _wiped(ctx, node, graceful=graceful, reboot=reboot))
        print(f"{ip}: reset {'and rebooting into maintenance mode' if reboot else 'and powered off'}",
              file=sys.stderr, flush=True)  # fmt: skip
    return 0


def _wiped(
    ctx: Ctx, node: dict[str, Any], *, graceful: bool, reboot: bool
) -> Callable[[dict[str, Any]], None]:
    def wipe(stored: dict[str, Any]) -> None:
        stored["reset"] = {"at": time.time(), "hostname": node["hostname"], "graceful": graceful}
        stored.update(applied_at=None, config=None, etcd_bootstrapped=False, upgrade=None)
        stored["role"] = stored.get("planned_role") or stored.get("role")
        stored["etcd_left"] = False  # its etcd data is wiped: a new install joins as a new member
        if reboot:  # a new boot of the ISO, and with it a new maintenance certificate
            ip = stored["ip"]
            stored["fingerprint"] = talos_tls.issue(ctx.root, ip, [stored.get("lease") or ip, ip])
            stored["powered_off"] = False
        else:
            stored["powered_off"] = True

    return wipe


HANDLERS: dict[tuple[str, ...], Callable[[Ctx], int]] = {
    ("etcd", "leave"): etcd_leave,
    ("etcd", "remove-member"): etcd_remove_member,
}
