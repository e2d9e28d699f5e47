"""argv builders for every talosctl call Skynet makes (pure functions; only flags talosctl 1.13.9 has).

Node-facing commands name the node explicitly (`--nodes`) and, after install, the workspace talosconfig
(`--talosconfig`), so nothing depends on ~/.talos/config or TALOSCONFIG. Their `--endpoints` are always the
control planes' IPs (Talos' advice: apid on an endpoint proxies to the `--nodes` targets; never the VIP, and
never a worker as its own endpoint); without `endpoint=` the talosconfig's endpoints apply, which Skynet sets
to the same control-plane IPs with `talosctl config endpoint`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from skynet_tui import versions

TALOSCTL = "talosctl"

# Resources Skynet reads with `talosctl get` (maintenance mode allows only the non-sensitive ones).
RESOURCES = (
    "disks",
    "discoveredvolumes",
    "links",
    "addresses",
    "machinestatus",
    "members",
    "services",
    "etcdmembers",
    "versions",
    "extensions",
)
INSECURE_RESOURCES = (
    "disks",
    "discoveredvolumes",
    "links",
    "addresses",
    "machinestatus",
    "versions",
    "extensions",
)


def contract(talos_version: str) -> str:
    """The `--talos-version` value pinning the config contract: `v1.13.9` → `v1.13`."""
    minor = versions.minor_of(talos_version)
    if minor is None:
        raise ValueError(f"{talos_version!r} is not a Talos version")
    return f"v{minor}"


def duration(seconds: float) -> str:
    """A Go duration flag value: 1200 → `20m0s`."""
    whole = int(seconds)
    if whole < 0:
        raise ValueError("a duration cannot be negative")
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def _target(
    node: str | Sequence[str], endpoint: str | Sequence[str] | None, talosconfig: Path | str | None
) -> list[str]:
    nodes = [node] if isinstance(node, str) else list(node)
    if not nodes:
        raise ValueError("at least one node is required")
    out: list[str] = []
    if talosconfig is not None:
        out += ["--talosconfig", str(talosconfig)]
    if endpoint is not None:
        endpoints = [endpoint] if isinstance(endpoint, str) else list(endpoint)
        if not endpoints:
            raise ValueError("--endpoints needs at least one control-plane IP")
        out += ["--endpoints", ",".join(endpoints)]
    return [*out, "--nodes", ",".join(nodes)]


# ---------------------------------------------------------------- offline: secrets and configs


def gen_secrets(output: Path | str, talos_version: str) -> list[str]:
    """`talosctl gen secrets`: the cluster's CAs and tokens, once (it refuses to overwrite a bundle)."""
    return [
        TALOSCTL,
        "gen",
        "secrets",
        "--output-file",
        str(output),
        "--talos-version",
        contract(talos_version),
    ]


def gen_config(
    cluster_name: str,
    endpoint_url: str,
    *,
    secrets: Path | str,
    talos_version: str,
    kubernetes_version: str,
    install_image: str,
    output: Path | str,
    patches: Sequence[Path | str] = (),
    controlplane_patches: Sequence[Path | str] = (),
    worker_patches: Sequence[Path | str] = (),
    output_types: Sequence[str] = ("controlplane", "worker"),
) -> list[str]:
    """`talosctl gen config` from an existing secrets bundle, compact, with the contract pinned.

    `--install-disk=` is empty on purpose: every node's own patch sets its disk (path or selector), so the
    base config never carries a guessed /dev/sda next to a node's diskSelector. `--force` lets a re-run
    replace its own earlier output.
    """
    if not endpoint_url.startswith("https://"):
        raise ValueError(f"the cluster endpoint must be an https:// URL, got {endpoint_url!r}")
    argv = [
        TALOSCTL,
        "gen",
        "config",
        cluster_name,
        endpoint_url,
        "--with-secrets",
        str(secrets),
        "--talos-version",
        contract(talos_version),
        "--kubernetes-version",
        kubernetes_version.removeprefix("v"),
        "--install-image",
        install_image,
        "--install-disk=",
        "--with-docs=false",
        "--with-examples=false",
        "--output-types",
        ",".join(output_types),
        "--output",
        str(output),
        "--force",
    ]
    for flag, files in (
        ("--config-patch", patches),
        ("--config-patch-control-plane", controlplane_patches),
        ("--config-patch-worker", worker_patches),
    ):
        for path in files:
            argv += [flag, f"@{path}"]
    return argv


def machineconfig_patch(config: Path | str, patches: Sequence[Path | str], output: Path | str) -> list[str]:
    """`talosctl machineconfig patch`: one node's config from its role's config plus its own patch."""
    argv = [TALOSCTL, "machineconfig", "patch", str(config)]
    for path in patches:
        argv += ["--patch", f"@{path}"]
    return [*argv, "--output", str(output)]


def validate(config: Path | str, mode: str = "metal", strict: bool = True) -> list[str]:
    """`talosctl validate`: Talos' own check of a rendered config (authoritative; the JSON schema is not).
    `--strict` (the default) also fails on warnings, e.g. deprecated fields."""
    argv = [TALOSCTL, "validate", "--config", str(config), "--mode", mode]
    return [*argv, "--strict"] if strict else argv


def version_client() -> list[str]:
    """`talosctl version --client --short`: the local client's version only."""
    return [TALOSCTL, "version", "--client", "--short"]


# ---------------------------------------------------------------- maintenance mode (before install)


def version_insecure(node: str) -> list[str]:
    """`talosctl version --insecure`: is the node up in maintenance mode, and which Talos does it run?"""
    return [TALOSCTL, "version", "--insecure", "--nodes", node]


def get(
    resource: str,
    node: str,
    *,
    insecure: bool = False,
    talosconfig: Path | str | None = None,
    endpoint: str | Sequence[str] | None = None,
) -> list[str]:
    """`talosctl get <resource> -o json`: a stream of JSON objects (see parse.json_stream)."""
    if resource not in RESOURCES:
        raise ValueError(f"unknown resource {resource!r}; Skynet reads {', '.join(RESOURCES)}")
    if insecure:
        if resource not in INSECURE_RESOURCES:
            raise ValueError(f"{resource} cannot be read in maintenance mode (--insecure)")
        if talosconfig is not None:
            raise ValueError("--insecure and a talosconfig do not go together")
        return [TALOSCTL, "get", resource, "--insecure", "--nodes", node, "--output", "json"]
    if talosconfig is None:
        raise ValueError("reading an installed node needs the workspace talosconfig")
    return [TALOSCTL, "get", resource, *_target(node, endpoint, talosconfig), "--output", "json"]


def apply_config(
    node: str,
    config: Path | str,
    *,
    insecure: bool = True,
    talosconfig: Path | str | None = None,
    endpoint: str | Sequence[str] | None = None,
    dry_run: bool = False,
    cert_fingerprint: str | None = None,
) -> list[str]:
    """`talosctl apply-config -f FILE`: insecure for a node in maintenance mode, mTLS afterwards.

    `cert_fingerprint` pins the maintenance API's certificate (SPKI SHA-256, base64): talosctl then refuses to
    send the config, and with it every cluster CA key, to any other server."""
    argv = [TALOSCTL, "apply-config"]
    if insecure:
        if talosconfig is not None:
            raise ValueError("--insecure and a talosconfig do not go together")
        argv += ["--insecure", "--nodes", node]
        if cert_fingerprint:
            argv += ["--cert-fingerprint", cert_fingerprint]
    else:
        if cert_fingerprint:
            raise ValueError("--cert-fingerprint pins the maintenance-mode certificate: --insecure only")
        if talosconfig is None:
            raise ValueError("applying to an installed node needs the workspace talosconfig")
        argv += _target(node, endpoint, talosconfig)
    argv += ["--file", str(config)]
    return [*argv, "--dry-run"] if dry_run else argv


# ---------------------------------------------------------------- installed cluster (mTLS)


def bootstrap(node: str, talosconfig: Path | str, endpoint: str | Sequence[str] | None = None) -> list[str]:
    """`talosctl bootstrap`: start etcd on exactly one control plane, once."""
    return [TALOSCTL, "bootstrap", *_target(node, endpoint, talosconfig)]


def health(
    node: str,
    talosconfig: Path | str,
    *,
    control_planes: Sequence[str],
    workers: Sequence[str] = (),
    wait_timeout: float = 1200,
    endpoint: str | Sequence[str] | None = None,
) -> list[str]:
    """`talosctl health` run on one control plane, with the node lists given (no discovery needed)."""
    if not control_planes:
        raise ValueError("health needs the control-plane node list")
    argv = [TALOSCTL, "health", *_target(node, endpoint, talosconfig)]
    argv += ["--control-plane-nodes", ",".join(control_planes)]
    if workers:
        argv += ["--worker-nodes", ",".join(workers)]
    return [*argv, "--wait-timeout", duration(wait_timeout)]


def kubeconfig(
    path: Path | str, node: str, talosconfig: Path | str, endpoint: str | Sequence[str] | None = None
) -> list[str]:
    """`talosctl kubeconfig PATH`: the admin kubeconfig into the workspace, never merged into ~/.kube."""
    return [
        TALOSCTL,
        "kubeconfig",
        str(path),
        *_target(node, endpoint, talosconfig),
        "--force",
        "--merge=false",
    ]


def etcd_status(
    nodes: Sequence[str], talosconfig: Path | str, endpoint: str | Sequence[str] | None = None
) -> list[str]:
    """`talosctl etcd status` across control planes (a text table)."""
    return [TALOSCTL, "etcd", "status", *_target(list(nodes), endpoint, talosconfig)]


def get_on(resource: str, nodes: Sequence[str], talosconfig: Path | str) -> list[str]:
    """`talosctl get <resource> -o json` on installed nodes, routed through the talosconfig's own endpoints."""
    if resource not in RESOURCES:
        raise ValueError(f"unknown resource {resource!r}; Skynet reads {', '.join(RESOURCES)}")
    return [TALOSCTL, "get", resource, *_target(list(nodes), None, talosconfig), "--output", "json"]


def etcd_status_on(nodes: Sequence[str], talosconfig: Path | str) -> list[str]:
    """`talosctl etcd status` on these control planes, routed through the talosconfig's own endpoints."""
    return [TALOSCTL, "etcd", "status", *_target(list(nodes), None, talosconfig)]


def etcd_members(
    node: str, talosconfig: Path | str, endpoint: str | Sequence[str] | None = None
) -> list[str]:
    """`talosctl etcd members` (a text table)."""
    return [TALOSCTL, "etcd", "members", *_target(node, endpoint, talosconfig)]


def config_endpoint(talosconfig: Path | str, endpoints: Sequence[str]) -> list[str]:
    """`talosctl config endpoint`: the control-plane IPs (never the VIP) as the talosconfig endpoints."""
    return [TALOSCTL, "config", "endpoint", *endpoints, "--talosconfig", str(talosconfig)]


def config_node(talosconfig: Path | str, nodes: Sequence[str]) -> list[str]:
    """`talosctl config node`: the default nodes of the talosconfig context (Skynet leaves them unset: every
    call names its nodes, so a forgotten `-n` fails instead of hitting a default node)."""
    return [TALOSCTL, "config", "node", *nodes, "--talosconfig", str(talosconfig)]


def upgrade(
    node: str,
    image: str,
    talosconfig: Path | str,
    *,
    endpoint: str | Sequence[str] | None = None,
    timeout: float = 1800,
) -> list[str]:
    """`talosctl upgrade`: one node at a time, waiting for it to come back (plain progress lines)."""
    return [
        TALOSCTL,
        "upgrade",
        *_target(node, endpoint, talosconfig),
        "--image",
        image,
        "--wait",
        "--progress",
        "plain",
        "--timeout",
        duration(timeout),
    ]


def upgrade_k8s(
    node: str,
    to: str,
    talosconfig: Path | str,
    *,
    endpoint: str | Sequence[str] | None = None,
    dry_run: bool = False,
) -> list[str]:
    """`talosctl upgrade-k8s --to X`: run against one control plane; upgrades the whole cluster."""
    argv = [
        TALOSCTL,
        "upgrade-k8s",
        *_target(node, endpoint, talosconfig),
        "--to",
        to.removeprefix("v"),
    ]
    return [*argv, "--dry-run"] if dry_run else argv


def etcd_snapshot(
    node: str, path: Path | str, talosconfig: Path | str, endpoint: str | None = None
) -> list[str]:
    """`talosctl etcd snapshot PATH`: a consistent copy of etcd from one healthy control plane (one node only)."""
    return [TALOSCTL, "etcd", "snapshot", str(path), *_target(node, endpoint or node, talosconfig)]


def etcd_leave(node: str, talosconfig: Path | str, endpoint: str | Sequence[str] | None = None) -> list[str]:
    """`talosctl etcd leave`: the control plane's own member leaves etcd, and its etcd stops (etcd-maintenance)."""
    return [TALOSCTL, "etcd", "leave", *_target(node, endpoint, talosconfig)]


def etcd_remove_member(
    node: str, member_id: str, talosconfig: Path | str, endpoint: str | Sequence[str] | None = None
) -> list[str]:
    """`talosctl etcd remove-member ID`, run on a healthy control plane: removes a member that cannot leave by
    itself (its machine is gone)."""
    if not member_id or member_id.startswith("-"):
        raise ValueError(f"{member_id!r} is not an etcd member ID")
    return [TALOSCTL, "etcd", "remove-member", member_id, *_target(node, endpoint, talosconfig)]


def reset(
    node: str,
    talosconfig: Path | str,
    *,
    endpoint: str | Sequence[str] | None = None,
    graceful: bool = True,
    reboot: bool = False,
    timeout: float = 600,
) -> list[str]:
    """`talosctl reset`: wipe the node (graceful: cordon, drain and leave etcd first), then power it off (or
    reboot it into maintenance mode); waits for the reset to finish (scaling-down)."""
    return [
        TALOSCTL,
        "reset",
        *_target(node, endpoint, talosconfig),
        f"--graceful={'true' if graceful else 'false'}",
        f"--reboot={'true' if reboot else 'false'}",
        "--wait",
        "--timeout",
        duration(timeout),
    ]


def reset_etcd_data(node: str, talosconfig: Path | str) -> list[str]:
    """`talosctl reset` of a control plane for disaster recovery: wipe EPHEMERAL (etcd's data at v1.13), no
    graceful leave (there is no cluster to leave), reboot; its etcd then waits for a bootstrap."""
    return [
        TALOSCTL,
        "reset",
        *_target(node, node, talosconfig),
        "--graceful=false",
        "--reboot",
        "--system-labels-to-wipe",
        "EPHEMERAL",
    ]


def bootstrap_recover(node: str, snapshot: Path | str, talosconfig: Path | str) -> list[str]:
    """`talosctl bootstrap --recover-from=FILE`: etcd starts on this one control plane from the snapshot."""
    return [TALOSCTL, "bootstrap", *_target(node, node, talosconfig), f"--recover-from={snapshot}"]


def service(node: str, name: str, talosconfig: Path | str) -> list[str]:
    """`talosctl service NAME` on one node: its state (Running, Preparing, Failed…) as a text table."""
    return [TALOSCTL, "service", name, *_target(node, node, talosconfig)]
