"""Taking a workspace over from its repository: clone it (or use a local clone) and decrypt secrets.age/."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from skynet_tui import launcher
from skynet_tui.sharing.age import load_identities
from skynet_tui.sharing.store import unseal
from skynet_tui.workspace import GIT_IDENTITY, Workspace, WorkspaceError, WorkspaceUnusable

CLONE_TIMEOUT = 600.0
_SSH_BATCH = "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new"


def default_folder(source: str) -> str:
    """Where a clone goes without --workspace: the repository's name, as git names it (homelab.git → homelab)."""
    name = re.split(r"[/:\\]", source.rstrip("/"))[-1].removesuffix(".git")
    return name if name and name not in (".", "..") else "workspace"


def is_local_clone(source: str) -> bool:
    """A folder with a work tree and its .git: opened where it is, not cloned."""
    path = Path(source).expanduser()
    return path.is_dir() and (path / ".git").exists()


def clone(
    source: str,
    dest: Path,
    *,
    env: Mapping[str, str] | None = None,
    on_command: launcher.CommandCallback | None = None,
) -> Workspace:
    """`git clone` the workspace's repository into `dest` (absent or an empty folder); WorkspaceError says why
    git refused, WorkspaceUnusable when `dest` is taken or the clone is not a Skynet workspace."""
    if source.startswith("-"):
        raise WorkspaceUnusable(f"{source[:60]!r} is not a repository URL or path")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise WorkspaceUnusable(f"{dest} exists and is not an empty folder; give --workspace a new one")
    run_env = {**(env if env is not None else os.environ), **GIT_IDENTITY, "GIT_TERMINAL_PROMPT": "0"}
    run_env.setdefault("GIT_SSH_COMMAND", _SSH_BATCH)
    result = launcher.run(
        ["git", "clone", "--quiet", "--", source, str(dest)],
        env=run_env,
        timeout=CLONE_TIMEOUT,
        on_command=on_command,
    )
    if not result.ok:
        lines = [line.strip() for _, line in result.lines if line.strip()]
        reason = next((line for line in lines if line.startswith("fatal:")), None) or result.tail(2)
        raise WorkspaceError(f"git clone {source} failed: {reason or f'exit code {result.returncode}'}")
    ws = Workspace.at(dest)
    if not ws.is_skynet() or not ws.cluster_yaml.is_file():
        raise WorkspaceUnusable(
            f"{source} is not a Skynet workspace's repository (no cluster.yaml, no .gitignore)"
        )
    return ws


def open_secrets(ws: Workspace, identity: Path) -> list[str]:
    """Decrypt secrets.age/ into secrets/ with the identities of `identity` (an age identity file or an ssh
    private key), every file checked against the manifest; the files written, relative to secrets/."""
    if not ws.is_skynet():
        raise WorkspaceUnusable(f"{ws.root} is not a Skynet workspace")
    identities = load_identities(identity)
    with ws.lock():
        return unseal(ws, identities, str(identity))
