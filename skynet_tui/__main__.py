"""Command line: `skynet [--config F] [--workspace D]` opens the TUI; subcommands run headless."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from skynet_tui.commands import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from skynet_tui.stdio import stdout_gone

MAX_ISSUES_SHOWN = 40

# Heavy modules (pydantic, textual, kubernetes) are imported only inside the command that needs them,
# so `skynet --help` stays fast (bench/cli_startup.py).

# The lab's day-two faults (skynet_lab/faults.py `usage()`, which a test compares), listed without loading it.
FAULTS = "node-notready=NODE, app-degraded=APP, cert-expiring=CERT, api-down; `clear` removes them"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skynet",
        description="From bare-metal machines in Talos maintenance mode to a GitOps-managed Kubernetes platform.",
        epilog="Without a command, skynet opens the terminal UI (the wizard prefilled when --config is given).",
    )
    parser.add_argument("--config", metavar="FILE", help="answers file (cluster.yaml) to open in the wizard")
    parser.add_argument("--workspace", metavar="DIR", help="workspace folder (default ./<cluster name>)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    gen = sub.add_parser(
        "generate", help="validate cluster.yaml and write the workspace (Talos config, GitOps)"
    )
    gen.add_argument("--config", required=True, metavar="FILE")
    gen.add_argument("--workspace", metavar="DIR")
    gen.add_argument(
        "--patches-only", action="store_true", help="write patches and gitops/ only; no talosctl"
    )
    gen.add_argument("--push", action="store_true", help="push the workspace to gitops.repoURL")

    plan = sub.add_parser(
        "plan", help="print the install plan for cluster.yaml, and what a re-run would skip"
    )
    plan.add_argument("--config", required=True, metavar="FILE")
    plan.add_argument("--workspace", metavar="DIR")
    plan.add_argument(
        "--commands",
        action="store_true",
        help="print every command each step would run, in order (run from the workspace; nothing is run)",
    )

    install = sub.add_parser("install", help="bootstrap the cluster headless, with live logs (resumable)")
    install.add_argument("--config", required=True, metavar="FILE")
    install.add_argument("--workspace", metavar="DIR")
    install.add_argument("--yes", action="store_true", help="do not ask before writing to the machines")

    demo = sub.add_parser(
        "demo",
        help="run the whole arc against a SIMULATED lab cluster",
        description="Install a SIMULATED lab cluster, then open its console (the lab stops when you quit). "
        "--keep leaves the lab running after a successful install; --fault injects day-two faults into a "
        "running lab; --stop ends a kept lab. DIR/lab is the workspace (skynet status --workspace DIR/lab).",
    )
    demo.add_argument("--headless", action="store_true", help="print to the terminal instead of the TUI")
    demo.add_argument(
        "--workspace",
        metavar="DIR",
        help="where the workspace and lab state go (default: skynet/demo in the user's data directory, "
        "$XDG_DATA_HOME or ~/.local/share; a stopped demo resumes there)",
    )
    demo.add_argument(
        "--fresh", action="store_true", help="remove the demo's folder first: start over instead of resuming"
    )
    demo.add_argument("--nodes", default="3+2", metavar="CP+W", help="control planes + workers (default 3+2)")
    demo.add_argument(
        "--scenario",
        choices=("install", "upgrade", "replace-node", "backup-restore"),
        default="install",
        metavar="NAME",
        help="install (default), or upgrade: install Talos v1.13.8 / Kubernetes 1.35.4, then upgrade to v1.13.9 "
        "and 1.36.3 (headless); replace-node: replace worker-1, then cp-1, on new machines (headless); "
        "backup-restore: back up, lose etcd, restore (headless)",
    )
    demo.add_argument(
        "--keep",
        action="store_true",
        help="leave the lab running after a successful install; prints how to reach and stop it",
    )
    demo.add_argument(
        "--stop", action="store_true", help="stop the lab a --keep left running in --workspace DIR"
    )
    demo.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="FAULT",
        help=f"inject a day-two fault into the running lab in --workspace DIR (repeatable): {FAULTS}",
    )

    status = sub.add_parser(
        "status",
        help="the day-two console: every layer of a running cluster, live (--once: one summary, for cron and CI)",
        description="Without --once, open the console. With --once, print one line per layer and the problems; "
        "exit 0 when every checked layer is ok, 1 otherwise, 2 on bad input.",
    )
    status.add_argument(
        "--workspace", metavar="DIR", help="a workspace: its secrets/kubeconfig and talosconfig"
    )
    status.add_argument("--kubeconfig", metavar="FILE", help="a kubeconfig (default: KUBECONFIG)")
    status.add_argument("--talosconfig", metavar="FILE", help="a talosconfig (default: TALOSCONFIG)")
    status.add_argument(
        "--once", action="store_true", help="print a summary and exit (0 healthy, 1 not, 2 bad input)"
    )
    status.add_argument("--json", action="store_true", help="with --once: print the summary as JSON")
    status.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="with --once: wait at most this long (default 30)",
    )

    _upgrade_parser(sub)
    _node_parser(sub)
    _backup_parsers(sub)
    _access_parser(sub)
    _sharing_parsers(sub)
    sub.add_parser("schema", help="print the JSON schema of cluster.yaml (for editors)")
    return parser


def _upgrade_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    upgrade = sub.add_parser(
        "upgrade",
        help="guided upgrades of Talos, Kubernetes or the platform's charts (without a kind: the upgrade screen)",
        description="Plan an upgrade from the support matrix and run it gated, one node at a time, journaled "
        "(run it again to resume; ctrl+c once pauses after the node under way, twice stops). Exit 0 done, "
        "1 failed or stopped, 2 bad input (a target the matrix refuses).",
    )
    upgrade.add_argument(
        "kind", nargs="?", choices=("talos", "kubernetes", "platform"), help="what to upgrade"
    )
    upgrade.add_argument("--to", metavar="VERSION", help="the target version (talos, kubernetes)")
    upgrade.add_argument("--workspace", metavar="DIR", help="the cluster's workspace (default: this folder)")
    upgrade.add_argument("--yes", action="store_true", help="do not ask before changing the machines")
    upgrade.add_argument(
        "--dry-run", action="store_true", help="show the path, gates and plan; change nothing"
    )
    upgrade.add_argument(
        "--allow-degraded", action="store_true", help="go on although Applications are not Healthy (listed)"
    )
    upgrade.add_argument(
        "--pre-release", action="store_true", help="allow a pre-release (rc, beta) as target"
    )
    upgrade.add_argument(
        "--parallel",
        type=int,
        default=1,
        metavar="N",
        help="upgrade N workers at once, within spec.upgrade.maxUnavailableWorkers (default 1)",
    )


def _node_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    node = sub.add_parser(
        "node",
        help="add, remove or replace a machine of the cluster (gated, one node, journaled)",
        description="add: find a machine in maintenance mode and join it; remove NAME: cordon, drain, leave etcd, "
        "reset, delete (refused when etcd would lose quorum); replace NAME: remove, then add a new machine with "
        "the same hostname, IP and role. Exit 0 done, 1 failed or stopped (run again to resume), 2 refused.",
    )
    node.add_argument("action", choices=("add", "remove", "replace"), help="what to do")
    node.add_argument("name", nargs="?", help="the node's hostname (remove, replace; add: --hostname)")
    node.add_argument("--workspace", metavar="DIR", help="the cluster's workspace (default: this folder)")
    node.add_argument("--address", metavar="IP", help="the new machine's maintenance address (default: scan)")
    node.add_argument("--scan", metavar="CIDR", help="where to look for it (default: network.subnet)")
    node.add_argument("--ip", metavar="IP", help="add: the static address the node keeps")
    node.add_argument("--hostname", metavar="NAME", help="add: its hostname (default: the next free one)")
    node.add_argument("--role", choices=("controlplane", "worker"), help="add: its role (default: suggested)")
    node.add_argument("--yes", action="store_true", help="do not ask before changing the machines")
    node.add_argument(
        "--drain-timeout",
        type=float,
        metavar="S",
        help="how long a drain retries evictions a PodDisruptionBudget refuses (default 600)",
    )
    node.add_argument(
        "--allow-degraded", action="store_true", help="go on although Applications are not Healthy (listed)"
    )


def _backup_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = sub.add_parser(
        "backup",
        help="an etcd snapshot into the workspace's backups/ (0600, outside git) with its manifest",
        description="Snapshot etcd (talosctl etcd snapshot) into backups/ with a manifest: time, versions, "
        "members, workspace commit, sha256. Exit 0 written, 1 failed, 2 bad input.",
    )
    backup.add_argument("--workspace", metavar="DIR", help="the cluster's workspace (default: this folder)")
    backup.add_argument("--keep", type=int, metavar="N", help="then remove all but the newest N backups")
    backup.add_argument("--list", action="store_true", help="list the backups, newest first, and exit")
    restore = sub.add_parser(
        "restore",
        help="disaster recovery: wipe etcd on the control planes and recover it from a snapshot",
        description="Follows Talos's disaster-recovery procedure. Refuses while etcd has quorum (exit 1, "
        "saying why) unless --force. Exit 0 restored, 1 refused or failed, 2 bad input.",
    )
    restore.add_argument(
        "--snapshot", metavar="FILE", help="an etcd snapshot (skynet backup); without it, the restore screen"
    )
    restore.add_argument("--workspace", metavar="DIR", help="the cluster's workspace (default: this folder)")
    restore.add_argument("--force", action="store_true", help="restore although etcd still has quorum")
    restore.add_argument("--yes", action="store_true", help="do not ask for the cluster's name first")


def _access_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    access = sub.add_parser(
        "access",
        help="per-operator Talos access: grant a talosconfig with a role, list, revoke",
        description="grant NAME --role os:operator|os:reader|os:etcd:backup: a talosconfig for one operator, its "
        "client certificate signed by the cluster's OS CA (secrets/access/NAME.talosconfig, 0600), recorded in "
        "access.yaml (committed, no key). revoke NAME removes the record: Talos has no revocation list, the "
        "certificate stays valid until it expires (short --ttl is the control). Exit 0 done, 2 bad input.",
    )
    access.add_argument("action", choices=("grant", "list", "revoke"), help="what to do")
    access.add_argument("name", nargs="?", help="the operator (a DNS label: alice, ci-backup)")
    access.add_argument("--role", metavar="ROLE", help="grant: os:operator, os:reader or os:etcd:backup")
    access.add_argument(
        "--ttl", default="8760h", metavar="DURATION", help="grant: lifetime, e.g. 24h, 90d (default 8760h)"
    )
    access.add_argument("--workspace", metavar="DIR", help="the cluster's workspace (default: this folder)")


def _sharing_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    opener = sub.add_parser(
        "open",
        help="take a workspace over from its repository: clone it, decrypt secrets.age/ into secrets/",
        description="Clone the workspace's repository (or use a local clone), decrypt secrets.age/ into "
        "secrets/ (0600) with an age identity or an ssh private key and check every file against the manifest. "
        "Exit 0 ready, 1 the clone failed, 2 no matching identity or bad input (nothing written into secrets/).",
    )
    opener.add_argument("source", metavar="URL|PATH", help="the repository to clone, or a local clone")
    opener.add_argument(
        "--identity", metavar="FILE", help="age identity file or ssh private key (default ~/.ssh/id_ed25519)"
    )
    opener.add_argument(
        "--workspace", metavar="DIR", help="where the clone goes (default ./<repository name>)"
    )
    shared = sub.add_parser(
        "secrets",
        help="who can decrypt the workspace's secrets.age/: add or remove an age or ssh public key",
        description="Change spec.secrets.encryption.age.recipients in cluster.yaml, encrypt every file of "
        "secrets.age/ again, commit, and push when the workspace has a remote. Exit 0 done, 2 bad input.",
    )
    shared.add_argument("action", choices=("add-recipient", "remove-recipient"), help="what to do")
    shared.add_argument(
        "key", metavar="KEY", help="an age1… key, an ssh-ed25519/ssh-rsa key line, or a .pub file"
    )
    shared.add_argument("--workspace", metavar="DIR", help="the cluster's workspace (default: this folder)")
    shared.add_argument("--no-push", action="store_true", help="commit only; do not push")


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit:  # --help or a usage error: argparse printed, and exits
        try:
            sys.stdout.flush()  # here, where a closed pipe (`skynet --help | head -1`) is caught
        except BrokenPipeError:
            stdout_gone()
        raise
    command = args.command or "tui"
    module = importlib.import_module(f"skynet_tui.commands.{command}")
    try:
        code = int(module.run(args) or 0)
        sys.stdout.flush()  # here, where a closed pipe is caught, not at exit where it is a warning
    except BrokenPipeError:
        return _stdout_gone()
    except KeyboardInterrupt:
        print("interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    except Exception as exc:  # the one place an error becomes a message and an exit code
        return _report(exc, debug=args.debug or bool(os.environ.get("SKYNET_DEBUG")))
    return code


def _stdout_gone() -> int:
    """The reader of stdout went away (`skynet schema | head -c 10`): stop quietly, as a Unix filter does."""
    stdout_gone()
    return EXIT_OK


def _report(exc: Exception, *, debug: bool) -> int:
    """Bad input exits 2 with every field path; a failed operation exits 1 with one line."""
    # Here, not at the top: `skynet --help` loads no pydantic (spec) nor the rest (bench/cli_startup.py).
    from skynet_tui.launcher import ToolNotFound
    from skynet_tui.redact import Redactor
    from skynet_tui.sharing import EncryptionError
    from skynet_tui.spec import SpecError
    from skynet_tui.workspace import WorkspaceLocked, WorkspaceUnusable

    redact = Redactor()
    if isinstance(exc, SpecError):
        unread = [i for i in exc.issues if i.message.startswith("cannot read the answers file")]
        if unread and len(exc.issues) == 1:  # no file to judge: say so, not "invalid"
            reason = unread[0].message.removeprefix("cannot read the answers file: ")
            print(f"skynet: cannot read {redact(unread[0].path)}: {reason}", file=sys.stderr)
            return EXIT_USAGE
        print(
            f"skynet: the answers are invalid; nothing was written ({len(exc.issues)} problem(s)):",
            file=sys.stderr,
        )
        for issue in exc.issues[:MAX_ISSUES_SHOWN]:
            # Path and message apart: "tokenEnv: holds …" would read to the redactor as a key and its secret.
            node = f" ({redact(issue.subject)})" if issue.subject else ""
            print(f"  {redact(issue.path)}{node}: {redact(issue.message)}", file=sys.stderr)
        if len(exc.issues) > MAX_ISSUES_SHOWN:
            print(f"  … and {len(exc.issues) - MAX_ISSUES_SHOWN} more", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(exc, WorkspaceLocked | WorkspaceUnusable | EncryptionError):
        print(f"skynet: {redact(str(exc))}; nothing was written", file=sys.stderr)
        return EXIT_USAGE
    if debug:
        raise exc
    hint = "" if isinstance(exc, ToolNotFound) else " (run with --debug for details)"
    print(f"skynet: {redact(str(exc))}{hint}", file=sys.stderr)
    return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
