"""Checks the install plan runs: preflight, node stages, talosconfig endpoints, rollouts and Applications."""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from skynet_tui import discovery, kube, versions
from skynet_tui.plan.steps import StepError
from skynet_tui.talos import commands as talos
from skynet_tui.talos import parse

if TYPE_CHECKING:
    from skynet_tui.runner import Context
    from skynet_tui.spec import Cluster, Node

# How talosctl says "the node is not there (yet)": expected while machines boot, install and reboot.
NET_ERRORS = (
    "connection refused",
    "connection reset",
    "i/o timeout",
    "no route to host",
    "network is unreachable",
    "context deadline exceeded",
    "code = Unavailable",
    "connection error",
)
# What an mTLS call says while the node still runs its maintenance (self-signed) API, or mid-reboot.
TLS_ERRORS = ("x509:", "tls:", "certificate", "authentication handshake failed")
KUBE_NOT_READY = (
    "Unable to connect to the server",
    "The connection to the server",
    "no matches for kind",
    "ensure CRDs are installed first",
)


def disk_text(node: Node) -> str:
    """installDisk as discovery matches it: `/dev/sda`, `serial:…` or `wwid:…`."""
    disk = node.install_disk
    if isinstance(disk, str):
        return disk
    return f"serial:{disk.serial}" if disk.serial else f"wwid:{disk.wwid}"


def check_install_disk(node: Node) -> Callable[[Any], None]:
    """accept() for `get disks --insecure`: the node answered; its install disk must be there, writable and
    at least Talos's minimum size (the wizard's threshold, discovery.MIN_DISK_BYTES)."""

    def accept(result: Any) -> None:
        try:
            disks = discovery.disks_from(parse.json_stream(result.stdout), None)
        except ValueError as exc:
            raise StepError(f"{node.hostname}: cannot read its disks: {exc}") from None
        wanted = disk_text(node)
        match = next((d for d in disks if d.matches(wanted)), None)
        if match is None:
            seen = ", ".join(f"{d.dev_path} ({d.serial or 'no serial'})" for d in disks) or "none"
            raise StepError(
                f"{node.hostname} ({node.ip}) has no disk {wanted}; it has: {seen}. "
                f"Fix spec.nodes[].installDisk in cluster.yaml"
            )
        if match.readonly or match.cdrom:
            raise StepError(f"{node.hostname}: {wanted} is read-only or a CD-ROM; choose another installDisk")
        if discovery.too_small(match):
            raise StepError(
                f"{node.hostname} ({node.ip}): the install disk {wanted} ({match.dev_path}) is {match.size_text}; "
                f"Talos needs at least {discovery.MIN_DISK_TEXT}: choose a larger spec.nodes[].installDisk"
            )

    return accept


def missing_secrets(cluster: Cluster, env: dict[str, str]) -> list[str]:
    """What the answers name as secret inputs but this environment lacks (checked before any machine is touched)."""
    spec = cluster.spec
    missing = []
    dns01 = spec.ingress.acme.dns01 if spec.ingress.acme.challenge == "dns01" else None
    s3 = spec.backup.s3 if spec.backup else None
    for name, where in (
        (dns01 and dns01.token_env, "ingress.acme.dns01.tokenEnv"),
        (spec.gitops.credentials and spec.gitops.credentials.token_env, "gitops.credentials.tokenEnv"),
        (s3 and s3.access_key_env, "backup.s3.accessKeyEnv"),
        (s3 and s3.secret_key_env, "backup.s3.secretKeyEnv"),
    ):
        if name and not env.get(name):
            missing.append(f"the environment variable {name} ({where}) is not set: export it and run again")
    key = spec.gitops.credentials and spec.gitops.credentials.ssh_key_file
    if key and not Path(key).expanduser().is_file():
        missing.append(f"the deploy key {key} (gitops.credentials.sshKeyFile) does not exist")
    return missing


def tools(cluster: Cluster) -> Callable[[Context], None]:
    """Secret inputs are there; talosctl, kubectl, helm and git are on PATH; talosctl's minor is the cluster's."""

    def check(ctx: Context) -> None:
        missing = missing_secrets(cluster, ctx.env)
        if missing:
            raise StepError("; ".join(missing))
        want = versions.minor_of(cluster.spec.talos.version)
        result = ctx.run(talos.version_client(), show_stdout=False)
        have = parse.client_version(result.stdout)
        if not result.ok or have is None:
            raise StepError(f"talosctl version --client failed: {result.tail(2) or 'no output'}")
        if versions.minor_of(have) != want:
            raise StepError(
                f"talosctl is {have} but the cluster runs Talos {cluster.spec.talos.version}: install talosctl "
                f"v{want}.x (curl -sL https://talos.dev/install | sh) so the configs match the nodes"
            )
        kubectl, helm, git = (
            ctx.run(argv, show_stdout=False)
            for argv in (["kubectl", "version", "--client", "-o", "json"], ["helm", "version", "--short"],
                         ["git", "--version"])
        )  # fmt: skip
        for result in (kubectl, helm, git):
            ctx.check(result)
        with_version = json.loads(kubectl.stdout or "{}").get("clientVersion", {}).get("gitVersion", "?")
        ctx.line(f"talosctl {have}, kubectl {with_version}, helm {helm.stdout.strip()}, {git.stdout.strip()}")

    return check


def machine_stage(
    ctx: Context, ip: str, *, secure: bool, endpoints: Sequence[str] | None = None
) -> str | None:
    """The node's MachineStatus stage over mTLS (secure, through the control-plane `endpoints`) or maintenance
    mode (at `ip`, its maintenance address), None when it does not answer."""
    if secure and not ctx.ws.talosconfig.exists():
        return None
    argv = (
        talos.get("machinestatus", ip, talosconfig=ctx.ws.talosconfig, endpoint=endpoints)
        if secure
        else talos.get("machinestatus", ip, insecure=True)
    )
    result = ctx.run(argv, show_stdout=False, timeout=max(5.0, min(30.0, ctx.remaining())))
    if not result.ok:
        return None
    try:
        for item in parse.json_stream(result.stdout):
            return str((item.get("spec") or {}).get("stage") or "unknown")
    except ValueError:
        return None
    return None


def installed(ip: str, endpoints: Sequence[str]) -> Callable[[Context], bool]:
    """Postcondition: the node answers over mTLS with the workspace talosconfig (its config is applied)."""
    return lambda ctx: machine_stage(ctx, ip, secure=True, endpoints=endpoints) is not None


def left_maintenance(node: Node, endpoints: Sequence[str]) -> Callable[[Context], bool]:
    """Postcondition of apply-config: the node is installed, or installing/rebooting from the applied config."""

    def probe(ctx: Context) -> bool:
        if machine_stage(ctx, node.ip, secure=True, endpoints=endpoints) is not None:
            return True
        stage = machine_stage(ctx, node.maintenance_ip, secure=False)
        return stage is not None and stage != "maintenance"

    return probe


def await_applied(
    node: Node, interval: float, wait: float, endpoints: Sequence[str]
) -> Callable[[Context], bool]:
    """resume() of apply-config: the run that was applying this node's config died, but its talosctl may
    have carried on (real machines do not die with the installer), so the node may be installing or
    rebooting and answer nothing. Wait (up to `wait` s) until it answers: over mTLS with the workspace's
    talosconfig, the config is in (True: done); in maintenance mode, it still needs it (False: apply)."""

    def resume(ctx: Context) -> bool:
        ctx.extend(wait)
        ctx.line(f"an earlier run stopped while applying this config; waiting for {node.hostname} to answer")
        configured: list[str] = []

        def probe() -> tuple[bool, str]:
            stage = machine_stage(ctx, node.ip, secure=True, endpoints=endpoints)
            if stage is not None:
                configured.append(stage)
                return True, f"{node.hostname}: {stage} (it answers with the workspace's talosconfig)"
            stage = machine_stage(ctx, node.maintenance_ip, secure=False)
            if stage == "maintenance":
                return True, f"{node.hostname}: still in maintenance mode; applying its config"
            return False, f"{node.hostname}: {stage or 'not answering (installing or rebooting?)'}"

        ctx.wait(probe, interval=interval, what=f"{node.hostname} to answer after the interrupted apply")
        if configured:
            ctx.line(f"config already applied: {node.hostname} left maintenance mode")
        return bool(configured)

    return resume


def unreachable_after_reboot(cluster: Cluster, node: Node, silent: float) -> str:
    """Why a node that took its config never came back: most likely the link its address was put on."""
    index = cluster.spec.nodes.index(node)
    prefix = ipaddress.IPv4Network(cluster.spec.network.subnet).prefixlen
    if node.interface:
        link, field = f"the link {node.interface}", f"spec.nodes[{index}].interface"
    else:
        link, field = f"the link with the permanent MAC {node.mac}", f"spec.nodes[{index}].mac"
    where = f"{node.ip}" + (f" nor {node.maintenance_ip}" if node.maintenance_ip != node.ip else "")
    return (
        f"{node.hostname} did not come back after its reboot: nothing answered at {where} for {silent:.0f}s. "
        f"The likely cause is its link: its config puts {node.ip}/{prefix} on {link} ({field}), and a link "
        "config turns DHCP off on every link, so a machine without that link has no address at all (or the "
        "link has no cable). On the node's console, compare its link names and MACs with cluster.yaml, fix "
        "it, boot the machine from the ISO again and run again"
    )


def wait_installed(
    cluster: Cluster, node: Node, interval: float, silent_limit: float, endpoints: Sequence[str]
) -> Callable[[Context], None]:
    """Poll until the node answers over mTLS at its ip (installed and booted from disk); show the stage as it
    moves. A node that answers nowhere for `silent_limit` seconds fails, naming its link as the likely cause."""

    def action(ctx: Context) -> None:
        silent_since: float | None = None

        def probe() -> tuple[bool, str]:
            nonlocal silent_since
            stage = machine_stage(ctx, node.ip, secure=True, endpoints=endpoints)
            if stage is not None:
                return stage in ("booting", "running"), f"{node.hostname}: {stage}"
            stage = machine_stage(ctx, node.maintenance_ip, secure=False)
            if stage is not None:
                silent_since = None
                return False, f"{node.hostname}: {stage}"
            now = time.monotonic()
            silent_since = now if silent_since is None else silent_since
            if now - silent_since >= silent_limit:
                raise StepError(unreachable_after_reboot(cluster, node, now - silent_since))
            return False, f"{node.hostname}: not answering (rebooting)"

        ctx.wait(probe, interval=interval, what=f"{node.hostname} to install and reboot")

    return action


def wait_commands(node: Node, talosconfig: Path, endpoints: Sequence[str]) -> list[Sequence[str] | str]:
    """What wait_installed polls, for `skynet plan --commands`."""
    return [
        "# polled until the node answers over mTLS:",
        talos.get("machinestatus", node.ip, talosconfig=talosconfig, endpoint=endpoints),
        talos.get("machinestatus", node.maintenance_ip, insecure=True),
    ]


def talosconfig_endpoints(path: Path) -> list[str]:
    """The endpoints of the talosconfig's current context."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    context = (data.get("contexts") or {}).get(data.get("context") or "", {}) or {}
    return [str(e) for e in context.get("endpoints") or []]


def kubeconfig_ready(ctx: Context) -> bool:
    path = ctx.ws.kubeconfig
    if not path.exists():
        return False
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return bool(data.get("clusters")) and bool(data.get("users"))


def nodes_ready(count: int, interval: float, note: str = "") -> Callable[[Context], None]:
    """Wait until `count` Kubernetes nodes report Ready (with cni: none, only once the operator's CNI runs);
    `note` is shown first (what the operator must do meanwhile)."""

    def action(ctx: Context) -> None:
        if note:
            ctx.line(note)

        def probe() -> tuple[bool, str]:
            try:
                nodes = kube.items(ctx.kube(), "", "v1", "nodes")
            except kube.KubeError as exc:
                return False, f"{exc}"
            ready = [
                n
                for n in nodes
                if any(
                    c.get("type") == "Ready" and c.get("status") == "True"
                    for c in (n.get("status") or {}).get("conditions") or []
                )
            ]
            return len(ready) >= count, f"{len(ready)}/{count} nodes Ready"

        ctx.wait(probe, interval=interval, what=f"{count} nodes to be Ready")

    return action


def rollout(namespace: str, interval: float) -> Callable[[Context], None]:
    """Wait until every Deployment, StatefulSet and DaemonSet in the namespace has rolled out."""

    def action(ctx: Context) -> None:
        def probe() -> tuple[bool, str]:
            try:
                api = ctx.kube()
                objs = [
                    {**obj, "kind": kind}
                    for kind, plural in (
                        ("Deployment", "deployments"),
                        ("StatefulSet", "statefulsets"),
                        ("DaemonSet", "daemonsets"),
                    )
                    for obj in kube.items(api, "apps", "v1", plural, namespace)
                ]
            except kube.KubeError as exc:
                return False, f"{exc}"
            pending = [why for why in map(kube.rollout_pending, objs) if why]
            if not objs:
                return False, f"{namespace}: no workloads yet"
            if pending:
                return False, f"{namespace}: {len(objs) - len(pending)}/{len(objs)} rolled out; {pending[0]}"
            return True, f"{namespace}: {len(objs)}/{len(objs)} rolled out"

        ctx.wait(probe, interval=interval, what=f"the workloads in {namespace} to roll out")

    return action


def applications(names: list[str], namespace: str, interval: float) -> Callable[[Context], None]:
    """Wait until these Argo CD Applications are Synced and Healthy; a Degraded one is named in the failure."""

    def action(ctx: Context) -> None:
        def probe() -> tuple[bool, str]:
            try:
                found = {
                    app["metadata"]["name"]: app
                    for app in kube.items(ctx.kube(), "argoproj.io", "v1alpha1", "applications", namespace)
                }
            except kube.KubeError as exc:
                return False, f"{exc}"
            states = []
            for name in names:
                if name not in found:
                    states.append((name, "not created yet", "", ""))
                else:
                    states.append((name, *kube.app_state(found[name])))
            done = all(sync == "Synced" and health == "Healthy" for _, sync, health, _ in states)
            text = ", ".join(
                f"{name} {sync}/{health}" if health else f"{name} {sync}" for name, sync, health, _ in states
            )
            degraded = [(name, msg) for name, _, health, msg in states if health == "Degraded"]
            if degraded:
                text += "; " + "; ".join(f"{name} Degraded: {msg or 'no message'}" for name, msg in degraded)
            return done, text

        try:
            ctx.wait(probe, interval=interval, what="the Applications to be Synced and Healthy")
        except StepError as exc:
            raise StepError(
                f"{exc}. Look at the Application in the Argo CD UI or with "
                f"`kubectl -n {namespace} get applications -o wide`; Argo CD keeps retrying, so run again to resume"
            ) from None

    return action
