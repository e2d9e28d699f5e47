"""`skynet [--config FILE] [--workspace DIR]`: the terminal UI (the wizard prefilled when --config is given)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from skynet_tui import spec
from skynet_tui.commands import EXIT_USAGE
from skynet_tui.wizard.state import is_draft


def run(args: argparse.Namespace) -> int:
    """Check --config before any screen opens (exit 2 with every field path), then run the app."""
    config = Path(args.config) if getattr(args, "config", None) else None
    workspace = Path(args.workspace) if getattr(args, "workspace", None) else None
    if config is not None:
        if is_draft(config):
            return _run_tui(config, workspace or config.parent)
        cluster = spec.load(config)  # SpecError: every field path, exit 2, from the entry point
        if workspace is None:
            workspace = Path(cluster.name)
    return _run_tui(config, workspace)


def _run_tui(config: Path | None, workspace: Path | None) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()) and not os.environ.get("TEXTUAL_DRIVER"):
        print(
            "skynet: the terminal UI needs a terminal; without one use "
            "`skynet install --config cluster.yaml --yes` (or `skynet demo --headless`)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from skynet_tui.app import run_app  # Textual (~0.5 s) loads once answers and terminal are known good

    return run_app(config=config, workspace=workspace)
