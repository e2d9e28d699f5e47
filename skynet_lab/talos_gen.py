"""The simulated talosctl's offline commands: gen secrets, gen config, machineconfig patch, validate, config."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import yaml

from skynet_lab import talos_merge
from skynet_lab.cli import CliError, Invocation, check_args
from skynet_lab.talos_conn import Ctx, Failure
from skynet_lab.talos_contracts import (
    Inputs,
    check_bundle,
    known_kinds,
    machine_config,
    new_bundle,
    serialize,
    talosconfig,
)
from skynet_lab.talos_merge import ConfigError, Document
from skynet_lab.talos_version import client_minor
from skynet_tui import api

# ---------------------------------------------------------------- command handlers


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def _exists_error(path: Path | str) -> str:
    return f'file "{path}" already exists, use --force to overwrite'


def _write(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)


def gen_secrets(inv: Invocation) -> int:
    check_args(inv, exact=0)
    if inv.has("from-controlplane-config") or inv.has("from-kubernetes-pki"):
        return _fail("the simulated talosctl only generates fresh secrets bundles")
    text = serialize([new_bundle()])
    output = str(inv.get("output-file", "secrets.yaml"))
    if output == "-":
        sys.stdout.write(text)
        return 0
    if Path(output).exists() and not inv.get("force"):
        return _fail(_exists_error(output))
    _write(Path(output), text, 0o600)
    return 0


def gen_config(inv: Invocation) -> int:
    check_args(inv, exact=2)
    endpoint = inv.args[1]
    if not endpoint.startswith("https://"):
        host = endpoint.split("://")[-1].split("/")[0]
        what = "no scheme specified" if ":" in host else "no scheme and port specified"
        fixed = f"https://{host}" if ":" in host else f"https://{host}:6443"
        return _fail(f'{what} for the cluster endpoint URL\ntry: "{fixed}"')
    types = inv.strings("output-types", ["controlplane", "worker", "talosconfig"])
    output = str(inv.get("output", ""))
    for kind in types:
        if kind not in ("controlplane", "worker", "talosconfig"):
            return _fail(f'1 error occurred:\n\t* invalid output type: "{kind}"\n')
    if len(types) > 1 and output == "-":
        return _fail("can't use multiple output types with stdout")
    try:
        bundle = _load_bundle(inv)
        inputs = Inputs(inv, bundle)
        kinds = known_kinds(inputs.minor)
        common = [talos_merge.read_patch(p, kinds) for p in inv.strings("config-patch")]
        cp = [talos_merge.read_patch(p, kinds) for p in inv.strings("config-patch-control-plane")]
        worker = [talos_merge.read_patch(p, kinds) for p in inv.strings("config-patch-worker")]
        print("generating PKI and tokens", file=sys.stderr)
        rendered = {
            "controlplane": serialize(
                talos_merge.apply_patches(machine_config(inputs, True), [*common, *cp])
            ),
            "worker": serialize(talos_merge.apply_patches(machine_config(inputs, False), [*common, *worker])),
        }
    except ConfigError as exc:
        return _fail(str(exc))
    for kind in types:
        text = rendered.get(kind) or api.dump_yaml(talosconfig(inputs), indent=4)
        if output == "-":
            sys.stdout.write(text)
            continue
        if output and len(types) == 1:
            target = Path(output)
        else:
            target = Path(output or os.getcwd()) / (
                f"{kind}.yaml" if kind != "talosconfig" else "talosconfig"
            )
        if target.exists() and not inv.get("force"):
            return _fail(_exists_error(target))
        _write(target, text, 0o600 if kind == "talosconfig" else 0o644)
        print(f"Created {target}", file=sys.stderr)
    return 0


def _load_bundle(inv: Invocation) -> dict[str, Any]:
    path = inv.get("with-secrets")
    if not path:
        # Without a bundle talosctl makes a fresh one; so does the simulation.
        return new_bundle()
    try:
        bundle = yaml.safe_load(Path(str(path)).read_text())
    except FileNotFoundError:
        raise ConfigError(f"failed to load secrets bundle: open {path}: no such file or directory") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"failed to load secrets bundle: {exc}") from None
    if not isinstance(bundle, dict):
        raise ConfigError("failed to load secrets bundle: not a mapping")
    check_bundle(bundle)
    return bundle


def _read_config(path: str) -> tuple[list[Document], int]:
    minor = client_minor()
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise ConfigError(f"open {path}: no such file or directory") from None
    return talos_merge.load_documents(text, path, known_kinds(minor)), minor


def machineconfig_patch(inv: Invocation) -> int:
    check_args(inv, exact=1)
    try:
        docs, minor = _read_config(inv.args[0])
        patches = [talos_merge.read_patch(p, known_kinds(minor)) for p in inv.strings("patch")]
        text = serialize(talos_merge.apply_patches(docs, patches))
    except ConfigError as exc:
        return _fail(str(exc))
    output = inv.get("output")
    if not output:
        sys.stdout.write(text + "\n")
        return 0
    _write(Path(str(output)), text, 0o644)
    return 0


def validate(inv: Invocation) -> int:
    check_args(inv, exact=0)
    if not inv.has("mode"):
        raise CliError('required flag(s) "mode" not set', inv.command)
    config, mode = str(inv.get("config", "")), str(inv.get("mode"))
    try:
        docs, minor = _read_config(config)
    except ConfigError as exc:
        return _fail(str(exc))
    errors = talos_merge.validate(docs, mode, minor)
    warned = talos_merge.warnings(docs)
    if inv.get("strict"):
        errors += [f"warning: {text}" for text in warned]
    else:
        for text in warned:
            print(f"WARNING: {text}", file=sys.stderr)
    if errors:
        return _fail(talos_merge.format_errors(errors))
    print(f"{config} is valid for {mode} mode")
    return 0


def config_cmd(inv: Invocation) -> int:
    """`talosctl config endpoint|node A B…`: set the talosconfig's current context's endpoints or nodes (an
    offline edit of the file, as talosctl does; no machine is contacted)."""
    sub = inv.command[1]
    if sub not in ("endpoint", "node"):
        return _fail(f"talosctl config {sub} is not simulated by the Skynet lab")
    try:
        config = Ctx(inv=inv, root=Path()).talosconfig()
    except Failure as exc:
        return _fail(exc.message)
    config.data["contexts"][config.context][f"{sub}s"] = list(inv.args)
    config.save()
    return 0
