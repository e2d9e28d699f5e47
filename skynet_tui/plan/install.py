"""The install plan: preflight, verify, generate, push, apply, install, bootstrap, health, kubeconfig, platform.

Every `--insecure` call goes to a node's maintenance address (maintenanceAddress, else ip); everything after
its reboot to its ip, through the control planes' IPs as endpoints. `verify-<host>` checks each machine's
certificate, link and boot image before any machine is written to."""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from skynet_tui import gitops, sharing, spec
from skynet_tui.generate import commit_message, render_commands
from skynet_tui.generate import generate as run_generate
from skynet_tui.plan import platform, preflight, probes
from skynet_tui.plan.probes import NET_ERRORS, TLS_ERRORS
from skynet_tui.plan.steps import Plan, Step, call, on_line
from skynet_tui.plan.timing import Timing
from skynet_tui.talos import commands as talos
from skynet_tui.workspace import COMMITTED, git_commit_args, git_init_args

if TYPE_CHECKING:
    from skynet_tui.runner import Context
    from skynet_tui.spec import Cluster
    from skynet_tui.workspace import Workspace


def fingerprint(cluster: Cluster) -> str:
    """Identifies the answers a run was planned from (the canonical cluster.yaml text)."""
    return hashlib.sha256(spec.dump(cluster).encode("utf-8")).hexdigest()[:16]


def share_step(cluster: Cluster, ws: Workspace) -> Step:
    """secrets.age/ after the install wrote the kubeconfig and Argo CD's secrets: encrypted, committed, pushed."""

    def action(ctx: Context) -> None:
        changed = call(sharing.share, ws, cluster, push=True, env=ctx.env, on_line=on_line(ctx),
                       on_command=ctx.command)  # fmt: skip
        ctx.line(f"{sharing.SEALED}/: {len(changed)} file(s) encrypted again" if changed else "up to date")

    return Step(
        "share-secrets", f"Encrypt secrets/ into {sharing.SEALED}/ for its recipients, commit and push", action,
        deps=("argocd", "push"), timeout=300,
        commands=lambda: [f"# secrets/ files that changed, age-encrypted into {sharing.SEALED}/ (in Python)",
                          ["git", "add", "-A", "--", sharing.SEALED], ["git", "commit", "-q", "-m", "…"],
                          *gitops.push_commands(ws, cluster)],
    )  # fmt: skip


def install_plan(
    cluster: Cluster,
    ws: Workspace,
    *,
    env: dict[str, str] | None = None,
    timing: Timing | None = None,
    simulated: bool = False,
) -> Plan:
    """The install plan of a cluster; `timing` defaults to real-machine delays and timeouts (scaled by SCALE_ENV).

    `simulated` says the machines are the lab's: every view of the plan then labels them SIMULATED."""
    env = dict(env if env is not None else os.environ)
    t = timing or Timing.from_env(env)
    nodes, first = cluster.spec.nodes, cluster.control_planes[0]
    cp_ips = [n.ip for n in cluster.control_planes]
    tc = ws.talosconfig
    checked = tuple(f"{kind}-{n.hostname}" for n in nodes for kind in ("preflight", "verify"))
    installs = tuple(f"install-{n.hostname}" for n in nodes)

    def generate(ctx: Context) -> None:
        call(run_generate, cluster, ws, on_line=on_line(ctx), env=ctx.env)
        ws.secure_secrets()

    def push(ctx: Context) -> None:
        call(gitops.push, ws, cluster, env=ctx.env, on_line=on_line(ctx), on_command=ctx.command)

    def endpoints(ctx: Context) -> None:
        ctx.check(ctx.run(talos.config_endpoint(tc, cp_ips)))  # no default nodes: every call names its own
        ws.secure_secrets()

    def kubeconfig(ctx: Context) -> None:
        ctx.check(ctx.run(talos.kubeconfig(ws.kubeconfig, first.ip, tc, endpoint=cp_ips)))
        ws.secure_secrets()

    def generate_commands() -> list[Sequence[str] | str]:
        render = render_commands(
            cluster,
            ws,
            new_bundle=not ws.secrets_bundle.exists(),
            new_talosconfig=not ws.talosconfig.exists(),
        )
        add, diff, commit = git_commit_args(commit_message(cluster), [*COMMITTED, cluster.spec.gitops.path])
        return [
            talos.version_client(),
            *(["# once: the workspace has no git repository yet",
               ["git", *git_init_args(cluster.spec.gitops.branch)]] if not (ws.root / ".git").exists() else []),
            *render.all(),
            ["git", *add], ["git", *diff], "# when something changed:", ["git", *commit],
        ]  # fmt: skip

    steps = [
        Step("preflight-tools", "Check talosctl, kubectl, helm and git", probes.tools(cluster), timeout=60,
             commands=lambda: [talos.version_client(), ["kubectl", "version", "--client", "-o", "json"],
                               ["helm", "version", "--short"], ["git", "--version"]])
    ]  # fmt: skip
    for node in nodes:
        at = node.maintenance_ip
        where = f"{at}, its maintenance address" if at != node.ip else at
        steps += [
            Step(
                f"preflight-{node.hostname}",
                f"Check {node.hostname} ({where}) is in maintenance mode",
                talos.get("disks", at, insecure=True),
                target=node.hostname,
                deps=("preflight-tools",),
                accept=probes.check_install_disk(node),
                transient=NET_ERRORS,
                postcondition=probes.installed(node.ip, cp_ips),
                postcondition_text="node already installed",
                attempts=t.preflight_attempts,
                timeout=t.preflight_timeout,
                show_stdout=False,
                hint=f"is {node.hostname} booted from the Talos ISO, and does {at} answer on TCP 50000?",
                retry_delay=t.retry_delay,
            ),
            Step(
                f"verify-{node.hostname}",
                f"Check {node.hostname}'s certificate, link {node.link_text} and boot image",
                preflight.verify(cluster, node),
                target=node.hostname,
                deps=(f"preflight-{node.hostname}",),
                transient=NET_ERRORS + ("cannot read the certificate",),
                postcondition=probes.installed(node.ip, cp_ips),
                postcondition_text="node already installed",
                attempts=t.preflight_attempts,
                timeout=t.preflight_timeout,
                retry_delay=t.retry_delay,
                commands=functools.partial(preflight.commands, node),
            ),
        ]
    steps += [
        Step(
            "generate", "Generate Talos configs and the GitOps tree", generate, deps=("preflight-tools",),
            learns_secrets=True, timeout=300, commands=generate_commands,
        ),
        Step(
            "push", f"Push the GitOps repository to {cluster.spec.gitops.repo_url}", push, deps=("generate",),
            timeout=300, commands=lambda: gitops.push_commands(ws, cluster),
        ),
    ]  # fmt: skip
    for node in nodes:
        steps += [
            Step(
                f"apply-{node.hostname}",
                f"Apply the machine config to {node.hostname}"
                + (f" at {node.maintenance_ip}" if node.maintenance_ip != node.ip else ""),
                talos.apply_config(
                    node.maintenance_ip,
                    ws.node_config(node.hostname),
                    insecure=True,
                    cert_fingerprint=node.cert_fingerprint,
                ),
                target=node.hostname,
                deps=(*checked, "generate"),
                transient=NET_ERRORS,
                postcondition=probes.left_maintenance(node, cp_ips),
                postcondition_text="config already applied",
                resume=probes.await_applied(node, t.poll, t.install_timeout, cp_ips),
                attempts=t.apply_attempts,
                timeout=t.apply_timeout,
                writes_machines=True,
                hint="check the node's console; fix cluster.yaml and run again",
                retry_delay=t.retry_delay,
            ),
            Step(
                f"install-{node.hostname}",
                f"Wait for {node.hostname} to install Talos and reboot"
                + (f" (then at {node.ip})" if node.maintenance_ip != node.ip else ""),
                probes.wait_installed(cluster, node, t.poll, t.reboot_grace, cp_ips),
                target=node.hostname,
                deps=(f"apply-{node.hostname}",),
                transient=NET_ERRORS + TLS_ERRORS,
                timeout=t.install_timeout,
                hint="remove the ISO/USB so the node boots from disk, and check its console",
                commands=functools.partial(probes.wait_commands, node, tc, cp_ips),
            ),
        ]
    steps += [
        Step(
            "talosconfig", "Point talosconfig at the control planes (never the VIP)", endpoints, deps=("generate",),
            postcondition=lambda ctx: tc.exists() and probes.talosconfig_endpoints(tc) == cp_ips,
            postcondition_text="talosconfig already lists the control planes", timeout=60,
            commands=lambda: [talos.config_endpoint(tc, cp_ips)],
        ),
        Step(
            "bootstrap", f"Bootstrap etcd on {first.hostname}", talos.bootstrap(first.ip, tc, endpoint=cp_ips),
            target=first.hostname,
            deps=(f"install-{first.hostname}", "talosconfig"),
            done_when=("AlreadyExists", "etcd data directory is not empty"),
            transient=("bootstrap is not available yet", "time is not in sync yet", *NET_ERRORS),
            attempts=0, timeout=t.bootstrap_timeout, writes_machines=True,
            hint=f"check etcd on {first.hostname}: talosctl -n {first.ip} service etcd", retry_delay=t.retry_delay,
        ),
        Step(
            "health", "Wait for the cluster to be healthy (talosctl health)",
            talos.health(first.ip, tc, control_planes=cp_ips, workers=[n.ip for n in cluster.workers],
                         wait_timeout=t.health_wait, endpoint=cp_ips),
            deps=("bootstrap", *installs), transient=("timeout", "deadline exceeded", *NET_ERRORS),
            attempts=t.health_attempts, timeout=t.health_wait * t.health_attempts + 60,
            hint="the last `waiting for …` line names the check that did not pass", retry_delay=t.retry_delay,
        ),
        Step(
            "kubeconfig", "Fetch the admin kubeconfig into secrets/", kubeconfig, deps=("bootstrap",),
            transient=NET_ERRORS, postcondition=probes.kubeconfig_ready, postcondition_text="kubeconfig present",
            learns_secrets=True, timeout=t.kube_timeout,
            commands=lambda: [talos.kubeconfig(ws.kubeconfig, first.ip, tc, endpoint=cp_ips)],
        ),
    ]  # fmt: skip
    steps += platform.steps(cluster, ws, t)
    if cluster.recipients:
        steps.append(share_step(cluster, ws))

    dns01, creds = cluster.spec.ingress.acme.dns01, cluster.spec.gitops.credentials
    s3 = cluster.spec.backup.s3 if cluster.spec.backup else None
    backup_env = (s3.access_key_env, s3.secret_key_env) if s3 else ()
    return Plan(
        name=f"install {cluster.name}",
        answers=fingerprint(cluster),
        steps=steps,
        simulated=simulated,
        summary=lambda finished_at: platform.summary(cluster, ws, finished_at),
        on_failure=platform.bundle,
        secret_env=tuple(n for n in (dns01 and dns01.token_env, creds and creds.token_env, *backup_env) if n),
        secret_files=(Path(str(creds.ssh_key_file)).expanduser(),) if creds and creds.ssh_key_file else (),
    )
