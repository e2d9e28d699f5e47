"""`skynet install`: bootstrap the cluster headless from cluster.yaml (resumable; asks once unless --yes)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_USAGE = 2


def load(args: argparse.Namespace):  # -> tuple[Cluster, Workspace] | None
    """The answers and workspace of a headless command; prints every issue and returns None on bad input."""
    from skynet_tui import spec
    from skynet_tui.workspace import Workspace

    try:
        cluster = spec.load(args.config)
    except spec.SpecError as exc:
        print(f"{args.config}: {len(exc.issues)} problem(s); nothing was written:", file=sys.stderr)
        for issue in exc.issues:
            print(f"  {issue}", file=sys.stderr)
        return None
    for warning in spec.warnings(cluster):
        print(f"warning: {warning}", file=sys.stderr)
    return cluster, Workspace.at(args.workspace or Path.cwd() / cluster.name)


def run(args: argparse.Namespace) -> int:
    loaded = load(args)
    if loaded is None:
        return EXIT_USAGE
    from skynet_tui.headless import run_install

    cluster, ws = loaded
    return run_install(cluster, ws, assume_yes=args.yes)
