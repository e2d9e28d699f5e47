"""`skynet open URL|PATH`: take a workspace over from its repository, its secrets decrypted from secrets.age/."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from skynet_tui.commands import EXIT_OK, EXIT_USAGE


def run(args: argparse.Namespace) -> int:
    from skynet_tui import sharing, spec
    from skynet_tui.workspace import Workspace

    identity = Path(args.identity or sharing.DEFAULT_IDENTITY).expanduser()
    try:
        sharing.load_identities(identity)  # before the clone: a missing or unusable key fails first
    except sharing.EncryptionError as exc:
        print(f"skynet: {exc}; nothing was written", file=sys.stderr)
        return EXIT_USAGE
    if sharing.is_local_clone(args.source):
        if args.workspace:
            print(
                "skynet: --workspace is for a clone; open a local workspace by its path alone",
                file=sys.stderr,
            )
            return EXIT_USAGE
        ws = Workspace.at(args.source)
    else:
        dest = Path(args.workspace or Path.cwd() / sharing.default_folder(args.source))
        ws = sharing.clone(args.source, dest.expanduser().resolve(), on_command=lambda line: print(line))
        print(f"cloned {args.source} into {ws.root}")
    cluster = spec.load(ws.cluster_yaml)
    try:
        written = sharing.open_secrets(ws, identity)
    except sharing.EncryptionError as exc:
        print(f"skynet: {exc}", file=sys.stderr)
        print(f"nothing was written into {ws.secrets_dir}", file=sys.stderr)
        return EXIT_USAGE
    print(
        f"{ws.root}: {len(written)} secret file(s) of {cluster.name} decrypted into secrets/ (0600, not in git), "
        "each matching the manifest's sha256"
    )
    print(f"next: skynet status --workspace {ws.root}")
    return EXIT_OK
