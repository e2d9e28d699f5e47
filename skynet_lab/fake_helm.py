"""The lab's SIMULATED helm: `helm template` of the platform charts (rendered from a table) and `helm version`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from skynet_lab.bin import quiet_on_broken_pipe

VERSION = "v3.19.0"
COMMIT = "0000000000000000000000000000000000000000"
SIMULATED = {"version", "template"}
REAL_COMMANDS = {
    "completion", "create", "dependency", "env", "get", "help", "history", "install", "lint", "list", "package",
    "plugin", "pull", "push", "registry", "repo", "rollback", "search", "show", "status", "test", "uninstall",
    "upgrade", "verify",
}  # fmt: skip
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


def _parse(
    argv: list[str], value_flags: dict[str, str], bool_flags: set[str], multi: set[str]
) -> tuple[list[str], dict[str, Any]]:
    """Cobra-like parsing: `--flag value`, `--flag=value`, `-f value`; returns (positionals, flags)."""
    args: list[str] = []
    flags: dict[str, Any] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            args += argv[i + 1 :]
            break
        if not arg.startswith("-") or arg == "-":
            args.append(arg)
            i += 1
            continue
        name, eq, inline = arg.partition("=")
        key = value_flags.get(name) or (
            name.lstrip("-") if name.lstrip("-") in bool_flags and name.startswith("--") else None
        )
        if key is None:
            if name.startswith("--"):
                raise HelmError(f"unknown flag: {name}")
            raise HelmError(f"unknown shorthand flag: {name[1:2]!r} in {arg}")
        if key in bool_flags:
            flags[key] = inline.lower() != "false" if eq else True
            i += 1
            continue
        if eq:
            value = inline
        elif i + 1 < len(argv):
            value = argv[i + 1]
            i += 1
        else:
            raise HelmError(f"flag needs an argument: {name}")
        if key in multi:
            flags.setdefault(key, []).extend(value.split(","))
        else:
            flags[key] = value
        i += 1
    return args, flags


def _values(files: list[str]) -> dict[str, Any]:
    import yaml

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


def template(argv: list[str]) -> int:
    import yaml

    from skynet_lab.kubesim.charts import render

    value_flags = {
        "--repo": "repo", "--version": "version", "--namespace": "namespace", "-n": "namespace",
        "--values": "values", "-f": "values", "--include-crds": "include-crds",
    }  # fmt: skip
    args, flags = _parse(argv, value_flags, {"include-crds"}, {"values"})
    if not args:
        raise HelmError(f'"helm template" requires at least 1 argument\n\n{TEMPLATE_USAGE}')
    if len(args) > 2:
        raise HelmError(f'"helm template" requires at most 2 arguments\n\n{TEMPLATE_USAGE}')
    release, chart = args if len(args) == 2 else ["release-name", args[0]]
    repo = flags.get("repo", "")
    if repo and not repo.startswith(("http://", "https://", "oci://", "file://")):
        raise HelmError(f"could not find protocol handler for: {repo.split(':', 1)[0]}")
    values = _values(flags.get("values", []))
    docs = render(
        release,
        chart,
        namespace=flags.get("namespace", "default"),
        version=flags.get("version", ""),
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


def version(argv: list[str]) -> int:
    _, flags = _parse(argv, {"--short": "short"}, {"short"}, set())
    if flags.get("short"):
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
    command = next((a for a in argv if not a.startswith("-")), "")
    rest = list(argv)
    if command:
        rest.remove(command)
    try:
        if command == "template":
            return template(rest)
        if command == "version":
            return version(rest)
        if command in REAL_COMMANDS:
            raise HelmError(
                f'"helm {command}" is not simulated by the Skynet lab (simulated: template, version)'
            )
        if not command:
            raise HelmError("the Skynet lab's simulated helm needs a command: template or version")
        raise HelmError(f'unknown command "{command}" for "helm"\nRun \'helm --help\' for usage.')
    except HelmError as exc:
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        return 1
