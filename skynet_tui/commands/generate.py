"""`skynet generate`: validate cluster.yaml and write the workspace (patches, GitOps tree, machine configs)."""

from __future__ import annotations

import argparse
import sys

from skynet_tui.commands import EXIT_OK, EXIT_USAGE
from skynet_tui.commands.answers import answers_and_workspace


def run(args: argparse.Namespace) -> int:
    # Invalid answers (exit 2), a workspace in use (exit 2), a missing talosctl or a failed step (exit 1)
    # are reported by the CLI entry point; nothing is written before the answers validate.
    cluster, ws = answers_and_workspace(args, check=False)  # generate() checks the folder before writing
    from skynet_tui.generate import generate  # the renderers load once the answers are valid

    if ws.root.exists() and not ws.root.is_dir():
        print(f"skynet: --workspace {ws.root} exists and is not a folder", file=sys.stderr)
        return EXIT_USAGE

    def on_line(stream: str, line: str) -> None:
        print(f"  {line}" if stream != "info" else line, file=sys.stderr if stream == "err" else sys.stdout)

    result = generate(cluster, ws, patches_only=args.patches_only, push=args.push, on_line=on_line)

    if result.secrets_created:
        print(f"created the secrets bundle {ws.secrets_bundle} (0600, not in git): back it up somewhere safe")
    if not result.changed:
        print(f"{ws.root}: up to date, nothing changed")
    else:
        committed = "committed" if result.committed else "no commit needed (only git-ignored files changed)"
        print(f"{ws.root}: {len(result.changed)} file(s) written; {committed}")
    if result.node_configs:
        print(f"machine configs: {ws.node_configs_dir}/<hostname>.yaml ({len(result.node_configs)} nodes)")
    elif args.patches_only:
        print("patches only: run without --patches-only (talosctl on PATH) to render the machine configs")
    if result.pushed:
        print(f"pushed to {cluster.spec.gitops.repo_url} ({cluster.spec.gitops.branch})")
    return EXIT_OK
