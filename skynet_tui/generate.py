"""The generate pipeline shared by `skynet generate` and the wizard: answers → workspace → configs → commit.

Order: the patches are rendered and checked in memory, and talosctl's presence and version, first; then
gitops/ (rendered and checked by the gitops module before it writes), cluster.yaml and the Talos patches
are written; then talosctl makes the secrets bundle (once, never replaced), the role configs and one config
per node in a staging folder, validates each (`talosctl validate --mode metal --strict`), and only then are
they moved into secrets/ (0600, git-ignored). A new talosconfig gets the control planes' IPs as its endpoints
with `talosctl config endpoint` and no default nodes. The commit holds only what git may see.
`render_commands` lists the talosctl calls, so `skynet plan --commands` shows exactly what runs here.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skynet_tui import gitops, launcher, sharing, spec, versions
from skynet_tui.events import LineStream
from skynet_tui.redact import Redactor
from skynet_tui.spec import Cluster
from skynet_tui.talos import commands, parse, patches
from skynet_tui.talos.images import installer_image
from skynet_tui.workspace import COMMITTED, Workspace

LineCallback = Callable[[LineStream, str], None]  # (stream, redacted line)
TALOSCTL_TIMEOUT = 120.0
PARALLEL = 8  # per-node talosctl calls at once


class GenerateError(RuntimeError):
    """Generation failed; the message says which step and why (never a secret)."""


@dataclass
class GenerateResult:
    """What a generate run did."""

    changed: list[str] = field(default_factory=list)  # workspace-relative paths written or removed
    committed: bool = False
    pushed: bool = False
    secrets_created: bool = False
    node_configs: dict[str, Path] = field(default_factory=dict)  # hostname → rendered machine config

    @property
    def secret_changes(self) -> list[str]:
        return [path for path in self.changed if path.startswith("secrets/")]


def _info(on_line: LineCallback | None, text: str) -> None:
    if on_line is not None:
        on_line("info", text)


def announcer(on_line: LineCallback | None) -> launcher.CommandCallback | None:
    """The launcher's on_command for a pipeline that reports through `on_line`: each command as an info line."""
    if on_line is None:
        return None
    return lambda text: on_line("info", text)


# ---------------------------------------------------------------- committed files


def _write_committed(
    ws: Workspace, cluster: Cluster, files: dict[str, str], tree: dict[str, str]
) -> list[str]:
    """Write the GitOps tree (rendered and checked already), cluster.yaml and the patches; drop stale patches."""
    prefix = cluster.spec.gitops.path
    ws.check_links(files)
    changed = [f"{prefix}/{rel}" for rel in gitops.write_tree(ws, cluster, tree)]
    changed += [rel for rel, text in files.items() if ws.write(rel, text)]
    # Patches of nodes (or role patches) that the answers no longer produce.
    for path in sorted(ws.talos_dir.rglob("*.yaml")) if ws.talos_dir.is_dir() else []:
        rel = path.relative_to(ws.root).as_posix()
        if rel not in files:
            path.unlink()
            changed.append(rel)
    return changed


# ---------------------------------------------------------------- talosctl


class _Talosctl:
    """Runs talosctl through the launcher with the workspace's redactor; failures become GenerateError."""

    def __init__(self, ws: Workspace, env: dict[str, str], on_line: LineCallback | None):
        self.ws, self.env, self.on_line = ws, env, on_line
        self.redactor: Redactor = ws.redactor()

    def refresh_redactor(self) -> None:
        self.redactor = self.ws.redactor()

    def _start(self, argv: Sequence[str]) -> launcher.Process:
        return launcher.start(
            argv,
            cwd=self.ws.root,
            env=self.env,
            on_line=self.on_line,
            redactor=self.redactor,
            timeout=TALOSCTL_TIMEOUT,
            on_command=announcer(self.on_line),
        )

    @staticmethod
    def _check(argv: Sequence[str], result: launcher.Result) -> launcher.Result:
        if not result.ok:
            what = " ".join(argv[:3]) if argv[1] in ("gen", "machineconfig") else " ".join(argv[:2])
            why = "timed out" if result.timed_out else (result.tail(3) or f"exit code {result.returncode}")
            raise GenerateError(f"{what} failed: {why}")
        return result

    def run(self, argv: Sequence[str]) -> launcher.Result:
        return self._check(argv, self._start(argv).wait())

    def run_all(self, argvs: list[list[str]]) -> None:
        """Several independent calls, a few at a time; the first failure is raised after all ended."""
        for start in range(0, len(argvs), PARALLEL):
            batch = argvs[start : start + PARALLEL]
            processes = [self._start(argv) for argv in batch]
            results = [process.wait() for process in processes]
            for argv, result in zip(batch, results, strict=True):
                self._check(argv, result)


def _check_client(env: dict[str, str], cluster: Cluster, on_line: LineCallback | None = None) -> None:
    """The local talosctl must be at least the cluster's Talos minor (it only knows contracts up to its own)."""
    argv = commands.version_client()
    result = _Talosctl._check(
        argv, launcher.run(argv, env=env, timeout=TALOSCTL_TIMEOUT, on_command=announcer(on_line))
    )
    have = parse.client_version(result.stdout)
    want = cluster.spec.talos.version
    have_version, want_version = versions.parse_version(have or ""), versions.parse_version(want)
    if have is None or have_version is None or want_version is None:
        raise GenerateError("could not read the talosctl version from `talosctl version --client --short`")
    if have_version[:2] < want_version[:2]:
        raise GenerateError(
            f"talosctl {have} is older than Talos {want}: install talosctl v{versions.minor_of(want)}.x "
            "(curl -sL https://talos.dev/install | sh) so the configs match the nodes"
        )


@dataclass(frozen=True)
class RenderCommands:
    """The talosctl calls of one render, in order: what `_render_configs` runs and `skynet plan` lists."""

    secrets: list[str] | None  # gen secrets: only while the workspace has no bundle
    configs: list[str]  # gen config: the control-plane and worker configs
    talosconfig: list[list[str]]  # gen config talosconfig, then config endpoint: only while there is none
    nodes: list[list[str]]  # machineconfig patch: one config per node
    validate: list[list[str]]  # validate --mode metal --strict, one per node config

    def all(self) -> list[list[str]]:
        return [*([self.secrets] if self.secrets else []), self.configs, *self.talosconfig, *self.nodes,
                *self.validate]  # fmt: skip


def render_commands(
    cluster: Cluster, ws: Workspace, *, new_bundle: bool, new_talosconfig: bool
) -> RenderCommands:
    """The talosctl argvs that render `cluster`'s machine configs in the workspace's staging folder."""
    talos, k8s = cluster.spec.talos, cluster.spec.kubernetes
    staging = ws.staging_dir
    present = set(patches.build(cluster).files())
    role_patches = {
        name: [ws.root / name] if name in present else []
        for name in (patches.COMMON_PATCH, patches.CONTROLPLANE_PATCH, patches.WORKER_PATCH)
    }
    install_image = installer_image(talos.schematic, talos.version)

    def gen_config(output: Path, **kw: Any) -> list[str]:
        return commands.gen_config(
            cluster.name,
            cluster.spec.control_plane.url,
            secrets=ws.secrets_bundle,
            talos_version=talos.version,
            kubernetes_version=k8s.version,
            install_image=install_image,
            output=output,
            **kw,
        )

    configs = gen_config(
        staging / "generated",
        patches=role_patches[patches.COMMON_PATCH],
        controlplane_patches=role_patches[patches.CONTROLPLANE_PATCH],
        worker_patches=role_patches[patches.WORKER_PATCH],
    )
    talosconfig: list[list[str]] = []
    if new_talosconfig:
        talosconfig = [
            gen_config(staging / "talosconfig", output_types=("talosconfig",)),
            commands.config_endpoint(staging / "talosconfig", [n.ip for n in cluster.control_planes]),
        ]
    staged = {node.hostname: staging / "nodes" / f"{node.hostname}.yaml" for node in cluster.spec.nodes}
    return RenderCommands(
        secrets=commands.gen_secrets(staging / "secrets.yaml", talos.version) if new_bundle else None,
        configs=configs,
        talosconfig=talosconfig,
        nodes=[
            commands.machineconfig_patch(
                staging / "generated" / f"{node.role}.yaml",
                [ws.root / patches.node_patch_path(node.hostname)],
                staged[node.hostname],
            )
            for node in cluster.spec.nodes
        ],
        validate=[commands.validate(path, mode="metal", strict=True) for path in staged.values()],
    )


def _render_configs(
    ws: Workspace, cluster: Cluster, env: dict[str, str], on_line: LineCallback | None, result: GenerateResult
) -> None:
    talosctl = _Talosctl(ws, env, on_line)
    talos, k8s = cluster.spec.talos, cluster.spec.kubernetes
    staging = (
        ws.staging_dir
    )  # under the workspace lock: no other render uses it; a crash's copy goes in ensure()
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o700, parents=True)
    plan = render_commands(
        cluster, ws, new_bundle=not ws.secrets_bundle.exists(), new_talosconfig=not ws.talosconfig.exists()
    )
    try:
        if plan.secrets is not None:
            _info(on_line, "creating the cluster secrets bundle (once; keep secrets/ safe)")
            talosctl.run(plan.secrets)
            ws.write_secret(ws.secrets_bundle.name, (staging / "secrets.yaml").read_bytes())
            result.secrets_created = True
            result.changed.append(_rel(ws, ws.secrets_bundle))
            talosctl.refresh_redactor()

        _info(
            on_line,
            f"rendering the control-plane and worker configs (Talos {talos.version}, Kubernetes {k8s.version})",
        )
        talosctl.run(plan.configs)
        for argv in plan.talosconfig:  # a new talosconfig: control-plane endpoints, no default nodes
            talosctl.run(argv)
        talosctl.refresh_redactor()

        staged = {node.hostname: staging / "nodes" / f"{node.hostname}.yaml" for node in cluster.spec.nodes}
        _info(on_line, f"rendering {len(staged)} machine config(s), one per node")
        talosctl.run_all(plan.nodes)
        _info(on_line, "validating every machine config (talosctl validate --mode metal --strict)")
        talosctl.run_all(plan.validate)

        # Everything rendered and valid: move it into place.
        for name in ("controlplane.yaml", "worker.yaml"):
            _move(ws, staging / "generated" / name, ws.generated_dir / name, result)
        for hostname, path in staged.items():
            _move(ws, path, ws.node_config(hostname), result)
            result.node_configs[hostname] = ws.node_config(hostname)
        if plan.talosconfig:
            ws.write_secret(ws.talosconfig.name, (staging / "talosconfig").read_bytes())
            result.changed.append(_rel(ws, ws.talosconfig))
        if ws.node_configs_dir.is_dir():
            for path in sorted(ws.node_configs_dir.glob("*.yaml")):
                if path.stem not in staged:
                    path.unlink()
                    result.changed.append(_rel(ws, path))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _rel(ws: Workspace, path: Path) -> str:
    return path.relative_to(ws.root).as_posix()


def _move(ws: Workspace, source: Path, target: Path, result: GenerateResult) -> None:
    if ws.write_secret(target.relative_to(ws.secrets_dir), source.read_bytes()):
        result.changed.append(_rel(ws, target))


# ---------------------------------------------------------------- the pipeline


def generate(
    cluster: Cluster,
    ws: Workspace,
    *,
    patches_only: bool = False,
    push: bool = False,
    on_line: LineCallback | None = None,
    env: Mapping[str, str] | None = None,
) -> GenerateResult:
    """Write the workspace for `cluster` and, unless `patches_only`, its machine configs; commit; push if asked.

    Raises launcher.ToolNotFound when talosctl is missing (checked before anything is written),
    GenerateError when a talosctl step or a check fails, WorkspaceLocked when another skynet holds `ws`.
    """
    run_env = dict(env if env is not None else os.environ)
    if not patches_only:
        if launcher.which("talosctl", run_env) is None:
            raise launcher.ToolNotFound("talosctl")
        _check_client(run_env, cluster, on_line)
    # Everything that can fail on the answers or the folder fails here, before the workspace is touched.
    files = {"cluster.yaml": spec.dump(cluster), **patches.build(cluster).files()}
    tree = gitops.checked_tree(cluster)
    _check_paths(ws, cluster, files, tree, patches_only)
    sharing.check_opened(ws)  # a clone whose secrets are still encrypted would get a new PKI
    committed = [*COMMITTED, cluster.spec.gitops.path]
    result = GenerateResult()
    with ws.lock():
        ws.ensure()
        ws.remove_leftovers([cluster.spec.gitops.path])
        ws.init_git(cluster.spec.gitops.branch, on_command=announcer(on_line))
        result.changed += _write_committed(ws, cluster, files, tree)
        if not patches_only:
            _render_configs(ws, cluster, run_env, on_line, result)
        ws.secure_secrets()
        result.changed += sharing.seal(ws, cluster.recipients)  # secrets.age/: what changed, or removed
        result.committed = ws.commit(commit_message(cluster), committed, on_command=announcer(on_line))
        if push:
            _info(on_line, f"pushing to {cluster.spec.gitops.repo_url}")
            gitops.push(ws, cluster, on_line=on_line, env=run_env, on_command=announcer(on_line))
            result.pushed = True
    return result


def check_workspace(cluster: Cluster, ws: Workspace, *, patches_only: bool = False) -> None:
    """Whether the folder can be this cluster's workspace, before anything is written: every path generate
    would write free of links, and the folder Skynet's or free of its names (WorkspaceUnusable otherwise).
    The answers are valid already; the rendered tree's own checks are generate's."""
    files = {"cluster.yaml": spec.dump(cluster), **patches.build(cluster).files()}
    _check_paths(ws, cluster, files, gitops.render_tree(cluster), patches_only)


def _check_paths(
    ws: Workspace, cluster: Cluster, files: dict[str, str], tree: dict[str, str], patches_only: bool
) -> None:
    prefix = cluster.spec.gitops.path
    written = [*files, *(f"{prefix}/{rel}" for rel in tree)]
    if not patches_only:
        secrets = [ws.secrets_bundle, ws.talosconfig, ws.generated_dir / "controlplane.yaml",
                   ws.generated_dir / "worker.yaml", *(ws.node_config(n.hostname) for n in cluster.spec.nodes)]  # fmt: skip
        written += [_rel(ws, path) for path in secrets]
    ws.check_writable([*COMMITTED, prefix], written)


def commit_message(cluster: Cluster) -> str:
    return (
        f"skynet generate: {cluster.name} (Talos {cluster.spec.talos.version}, "
        f"Kubernetes {cluster.spec.kubernetes.version})"
    )


def patch_files(cluster: Cluster) -> dict[str, str]:
    """The Talos patch files of a cluster (workspace-relative path → text), e.g. for the wizard's preview."""
    return patches.build(cluster).files()
