"""Which workspace a command works on: `--workspace DIR`, else the current folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from skynet_tui.workspace import Workspace


class UsageError(ValueError):
    """Bad input: exit 2 with the message."""


def workspace_arg(args: argparse.Namespace) -> Workspace:
    """--workspace DIR, else the current folder; UsageError when it holds no cluster.yaml."""
    folder = Path(args.workspace) if getattr(args, "workspace", None) else Path.cwd()
    ws = Workspace.at(folder)
    if not ws.cluster_yaml.is_file():
        raise UsageError(
            f"{ws.root} holds no cluster.yaml: pass --workspace DIR (the workspace of the cluster)"
        )
    return ws


def workspace_of(args: argparse.Namespace) -> Workspace:
    """The workspace of an installed cluster (its kubeconfig and talosconfig fetched); UsageError otherwise."""
    ws = workspace_arg(args)
    for path, what in ((ws.kubeconfig, "kubeconfig"), (ws.talosconfig, "talosconfig")):
        if not path.is_file():
            raise UsageError(f"{path} does not exist: the workspace's install has not finished (no {what})")
    return ws
