"""What the headless commands (generate, plan, install) share: the answers of `--config` and the workspace."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from skynet_tui import spec
from skynet_tui.spec import Cluster
from skynet_tui.workspace import Workspace


def answers_and_workspace(args: argparse.Namespace, *, check: bool = True) -> tuple[Cluster, Workspace]:
    """The answers of `--config` and the workspace (`--workspace`, else ./<cluster name>); warnings printed.

    Invalid answers raise SpecError, which the entry point reports with every field path (exit 2); so does a
    folder that cannot be this cluster's workspace (WorkspaceUnusable: a link on the way of a file Skynet
    writes, someone else's git repository or files), before anything is written. `check=False` leaves that
    to the caller (generate checks the folder itself before it writes)."""
    cluster = spec.load(args.config)
    ws = Workspace.at(args.workspace or Path.cwd() / cluster.name)
    if check:
        # Loaded once the answers are valid (the renderers, jinja2): a refused file is refused fast.
        from skynet_tui.generate import check_workspace

        check_workspace(cluster, ws)
    for issue in spec.warnings(cluster, first_install=not ws.cluster_yaml.exists()):
        print(f"warning: {issue}", file=sys.stderr)
    return cluster, ws
