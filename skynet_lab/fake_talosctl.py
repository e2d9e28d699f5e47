"""The lab's SIMULATED talosctl: parses argv like talosctl 1.13.9 and dispatches to the simulated handlers."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from skynet_lab import cli
from skynet_lab.cli import CliError, HelpRequested, Invocation
from skynet_lab.talos_version import GO_VERSION, SHA, client_version

TABLE = Path(__file__).parent / "data" / "talosctl-1.13.9-flags.json"  # see data/SOURCE


def load_table(path: Path = TABLE) -> cli.Table:
    """Every talosctl command with its flags, as the CLI reference lists them (inherited flags included)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    commands = {
        command: tuple(cli.Flag(name, spec["short"], spec["type"]) for name, spec in flags.items())
        for command, flags in data["commands"].items()
    }
    return cli.Table(data["tool"], commands)


TALOSCTL = load_table()


# The offline commands and their talos_gen functions, by name: each talosctl call is a process of its own, and
# node commands (most calls) never load the config generator.
LOCAL_COMMANDS = {
    ("gen", "secrets"): "gen_secrets",
    ("gen", "config"): "gen_config",
    ("machineconfig", "patch"): "machineconfig_patch",
    ("validate",): "validate",
    ("config", "endpoint"): "config_cmd",
    ("config", "node"): "config_cmd",
}


def _local_handler(command: tuple[str, ...]) -> Callable[[Invocation], int] | None:
    name = LOCAL_COMMANDS.get(command)
    if name is None:
        return None
    from skynet_lab import talos_gen

    handler: Callable[[Invocation], int] = getattr(talos_gen, name)
    return handler


def version_client(inv: Invocation) -> int:
    """`talosctl version --client [--short]`: the client half of `version`, printed to stdout."""
    cli.check_args(inv, exact=0)
    tag = client_version()
    print("Client:")
    if inv.get("short"):
        print(f"Talos {tag}")
    else:
        print(f"\tTag:         {tag}")
        print(f"\tSHA:         {SHA}")
        print("\tBuilt:       ")
        print(f"\tGo version:  {GO_VERSION}")
        print("\tOS/Arch:     linux/amd64")
    return 0


def _node_handler() -> Callable[[Invocation], int] | None:
    try:  # by name at call time: only node commands load it, and tests put a stand-in in sys.modules
        module = importlib.import_module("skynet_lab.talos_node")
    except ModuleNotFoundError as exc:
        if exc.name != "skynet_lab.talos_node":
            raise
        return None
    return module.handle


def dispatch(inv: Invocation) -> int:
    """Run one parsed invocation: offline commands here, everything node-facing in talos_node."""
    if inv.command == ("version",) and inv.get("client"):
        return version_client(inv)
    handler = _local_handler(inv.command)
    if handler is None:
        handler = _node_handler()
        if handler is None:
            print("Error: simulated node commands unavailable", file=sys.stderr)
            return 1
    return handler(inv)


def _print_error(exc: CliError) -> None:
    # talosctl prints the bare error, then - when the text mentions a flag, arg(s) or command - the usage.
    print(exc.message, file=sys.stderr)
    if exc.usage and any(word in exc.message for word in ("arg(s)", "flag", "command")):
        print(file=sys.stderr)
        print(cli.usage(TALOSCTL, exc.command), file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the fake executable; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        inv = cli.parse(TALOSCTL, args)
        return dispatch(inv)
    except HelpRequested as exc:
        print(cli.usage(TALOSCTL, exc.command), end="")
        return 0
    except CliError as exc:
        _print_error(exc)
        return 1
    except BrokenPipeError:
        return 1
