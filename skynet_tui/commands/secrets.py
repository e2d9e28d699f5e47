"""`skynet secrets add-recipient|remove-recipient KEY`: who can decrypt the workspace's secrets.age/."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from skynet_tui.commands import EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from skynet_tui.spec import Cluster

MAX_KEY_FILE = 16 * 1024


def _key(text: str) -> str:
    """KEY as given, or the first line of the public key file it names (~/.ssh/id_ed25519.pub)."""
    path = Path(text).expanduser()
    if text.endswith(".pub") and path.is_file() and path.stat().st_size <= MAX_KEY_FILE:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        return lines[0].strip() if lines else ""
    return text.strip()


def run(args: argparse.Namespace) -> int:
    from skynet_tui import gitops, sharing, spec
    from skynet_tui.sharing.age import describe
    from skynet_tui.workspace import Workspace

    ws = Workspace.at(args.workspace or Path.cwd())
    if not ws.is_skynet() or not ws.cluster_yaml.is_file():
        print(f"skynet: {ws.root} is not a Skynet workspace; give --workspace", file=sys.stderr)
        return EXIT_USAGE
    key = _key(args.key)
    cluster = spec.load(ws.cluster_yaml)
    adding = args.action == "add-recipient"
    recipients = (sharing.added if adding else sharing.removed)(cluster.recipients, key)
    if recipients is None:
        said = "is a recipient already" if adding else "is not one of the recipients"
        print(f"{describe(key)} {said}; nothing changed", file=sys.stderr if not adding else sys.stdout)
        return EXIT_OK if adding else EXIT_USAGE
    if not recipients:
        print(
            "skynet: that is the last recipient; with none, nobody could decrypt secrets.age/. Add another "
            "first, or remove spec.secrets from cluster.yaml and run skynet generate to stop sharing",
            file=sys.stderr,
        )
        return EXIT_USAGE
    updated = sharing.with_recipients(cluster, recipients)  # a key that is not one: SpecError, exit 2
    sharing.check_opened(ws)
    with ws.lock():
        ws.write("cluster.yaml", spec.dump(updated))
        changed = sharing.seal(ws, recipients)
        verb = "add" if adding else "remove"
        committed = ws.commit(
            f"skynet secrets: {verb} recipient {describe(key)}; secrets.age/ encrypted again",
            ["cluster.yaml", sharing.SEALED],
        )
    files = sum(1 for path in changed if path.endswith(".age"))
    print(
        f"{'added' if adding else 'removed'} {describe(key)}: {len(recipients)} recipient(s); {files} file(s) "
        f"of secrets.age/ encrypted again; {'committed' if committed else 'nothing to commit'}"
    )
    if not args.no_push and committed and sharing.pushes(ws):
        gitops.push(ws, updated, on_command=lambda line: print(line))
        print(f"pushed to {updated.spec.gitops.repo_url} ({updated.spec.gitops.branch})")
    if not adding:
        print(revocation(updated))
    return EXIT_OK


def revocation(cluster: Cluster) -> str:
    """What removing a recipient cannot do, and the rotation that does: talosctl's own commands."""
    cps = ",".join(n.ip for n in cluster.control_planes)
    workers = ",".join(n.ip for n in cluster.workers)
    first = cluster.control_planes[0].ip
    base = f"talosctl --talosconfig secrets/talosconfig --endpoints {cps} --nodes {first}"
    worker_flag = f" --worker-nodes {workers}" if workers else ""
    return "\n".join(
        [
            "This cannot revoke what that key's holder already decrypted: a copy of the Talos secrets bundle "
            "(the cluster's CAs), the admin talosconfig and the kubeconfig stays valid after this commit.",
            "Skynet has no guided rotation yet; the one that makes them useless is a rotation of the Talos and "
            "Kubernetes CAs, which re-issues the admin client certificate, then a new kubeconfig (from the "
            "workspace folder):",
            f"  {base} rotate-ca --control-plane-nodes {cps}{worker_flag} --talos --kubernetes --dry-run=false "
            "--output secrets/talosconfig.rotated",
            "  mv secrets/talosconfig.rotated secrets/talosconfig",
            f"  {base} kubeconfig secrets/kubeconfig --force",
            "After it secrets/secrets.yaml still holds the old CAs: do not run skynet generate or skynet node "
            "before the bundle is brought in line with the nodes.",
        ]
    )
