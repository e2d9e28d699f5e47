"""`skynet install`: bootstrap the cluster headless from cluster.yaml (resumable; asks once unless --yes)."""

from __future__ import annotations

import argparse

from skynet_tui.commands.answers import answers_and_workspace


def run(args: argparse.Namespace) -> int:
    cluster, ws = answers_and_workspace(args)
    from skynet_tui.headless import run_install  # the runner loads once the answers are valid

    return run_install(cluster, ws, assume_yes=args.yes)
