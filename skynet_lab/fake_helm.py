"""The lab's SIMULATED helm: `helm template` of the platform charts (rendered from a table) and `helm version`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from skynet_lab import cli
from skynet_lab.bin import quiet_on_broken_pipe
from skynet_lab.cli import Flag, Invocation
from skynet_lab.kubesim.helm import render

VERSION = "v3.19.0"
COMMIT = "0000000000000000000000000000000000000000"
# helm's commands the lab does not simulate: named as such instead of "unknown command".
REAL_COMMANDS = (
    "completion", "create", "dependency", "env", "get", "help", "history", "install", "lint", "list", "package",
    "plugin", "pull", "push", "registry", "repo", "rollback", "search", "show", "status", "test", "uninstall",
    "upgrade", "verify",
)  # fmt: skip
# What the lab simulates: helm's global --namespace, then each simulated command's own flags.
HELM = cli.Table(
    "helm",
    {
        "": (Flag("namespace", "n", "string", persistent=True),),
        "template": (
            Flag("repo", None, "string"),
            Flag("version", None, "string"),
            Flag("values", "f", "strings"),
            Flag("include-crds"),
        ),
        "version": (Flag("short"),),
        **dict.fromkeys(REAL_COMMANDS),
    },
)
TEMPLATE_USAGE = "Usage:  helm template [NAME] [CHART] [flags]"


class HelmError(Exception):
    """Printed as `Error: <message>` with exit code 1, as helm does."""


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = (
            _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        )
    return out


def _values(files: list[str]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for name in files:
        try:
            text = Path(name).read_text(encoding="utf-8") if name != "-" else sys.stdin.read()
        except FileNotFoundError:
            raise HelmError(f"open {name}: no such file or directory") from None
        except OSError as exc:
            raise HelmError(f"open {name}: {exc.strerror.lower() if exc.strerror else exc}") from None
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}: " if mark is not None else ""
            raise HelmError(
                f"failed to parse {name}: error converting YAML to JSON: yaml: {where}{getattr(exc, 'problem', exc)}"
            ) from None
        if not isinstance(data, dict):
            raise HelmError(
                f"failed to parse {name}: error unmarshaling JSON: json: cannot unmarshal into Go value of type map[string]interface {{}}"
            )
        merged = _merge(merged, data)
    return merged


def template(inv: Invocation) -> int:
    args, flags = inv.args, inv.flags
    if not args:
        raise HelmError(f'"helm template" requires at least 1 argument\n\n{TEMPLATE_USAGE}')
    if len(args) > 2:
        raise HelmError(f'"helm template" requires at most 2 arguments\n\n{TEMPLATE_USAGE}')
    release, chart = args if len(args) == 2 else ["release-name", args[0]]
    repo = str(flags.get("repo", ""))
    if repo and not repo.startswith(("http://", "https://", "oci://", "file://")):
        raise HelmError(f"could not find protocol handler for: {repo.split(':', 1)[0]}")
    values = _values(inv.strings("values"))
    docs = render(
        release,
        chart,
        namespace=str(flags.get("namespace", "default")),
        version=str(flags.get("version", "")),
        values=values,
        include_crds=bool(flags.get("include-crds")),
    )
    out = []
    for source, doc in docs:
        body = yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=1_000_000)
        out.append(f"---\n# Source: {source}\n{body}")
    sys.stdout.write("".join(out))
    sys.stdout.flush()
    return 0


def version(inv: Invocation) -> int:
    if inv.get("short"):
        print(f"{VERSION}+simulated", flush=True)
    else:
        print(
            f'version.BuildInfo{{Version:"{VERSION}", GitCommit:"{COMMIT}", GitTreeState:"clean", '
            'GoVersion:"go1.24.9 (simulated by the Skynet lab)"}',
            flush=True,
        )
    return 0


def main(argv: list[str]) -> int:
    """Entry point; a closed stdout (`| head`) ends quietly, as a Go tool dies of SIGPIPE."""
    return quiet_on_broken_pipe(_main, argv)


def _main(argv: list[str]) -> int:
    """Entry point of the fake `helm` executable."""
    try:
        inv = cli.parse(HELM, argv)
        if inv.command == ("template",):
            return template(inv)
        if inv.command == ("version",):
            return version(inv)
        raise HelmError(f'"{inv.path}" is not simulated by the Skynet lab (simulated: template, version)')
    except cli.HelpRequested as exc:
        print(cli.usage(HELM, exc.command), end="", flush=True)
        return 0
    except cli.CliError as exc:
        hint = "" if exc.command else "\nRun 'helm --help' for usage."
        print(f"Error: {exc.message}{hint}", file=sys.stderr, flush=True)
        return 1
    except HelmError as exc:
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        return 1
