"""Test helpers for the Talos side: schema validation of patch documents, answers variants, the fake on PATH."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from skynet_lab.bin import install_fakes, lab_path
from skynet_tui import spec
from tests.conftest import DATA

SCHEMAS = {
    "1.13": DATA / "schemas" / "talos" / "config.schema.json",
    "1.14": DATA / "schemas" / "talos" / "config.schema.v1.14.0-rc.1.json",
}
FIXTURES = DATA / "fixtures" / "talos"

# Known gaps of the published schemas (reference/talos.md §2.3): kinds spelled differently in code.
SCHEMA_KIND = {"UnattendedInstallConfig": "UnattendedInstall", "KubeSpanEndpointsConfig": "KubeSpanEndpoints"}


@cache
def validator(minor: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMAS[minor].read_text()))


# Another gap: v1alpha1 `machine.logging.destinations[].endpoint` is a URL string in YAML (Endpoint's
# UnmarshalYAML parses a string, v1alpha1_types.go at v1.13.9), but the schema types it as an empty object.
LOGGING_ENDPOINT = re.compile(r"(tcp|udp)://[^/:]+:[0-9]{1,5}/?")


def _logging_endpoints(doc: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """`doc` with each logging endpoint checked here as the string Talos reads, and replaced for the schema."""
    destinations = ((doc.get("machine") or {}).get("logging") or {}).get("destinations")
    if "kind" in doc or not isinstance(destinations, list):
        return doc, []
    errors = [
        f"machine/logging/destinations/{i}/endpoint: {d.get('endpoint')!r} is not tcp://host:port/ or udp://"
        for i, d in enumerate(destinations)
        if not LOGGING_ENDPOINT.fullmatch(str(d.get("endpoint", "")))
    ]
    checked = copy.deepcopy(doc)
    for destination in checked["machine"]["logging"]["destinations"]:
        destination["endpoint"] = {}
    return checked, errors


def schema_errors(doc: dict[str, Any], minor: str) -> list[str]:
    """Schema errors of one patch document (`$patch: delete` documents are directives, not documents)."""
    if doc.get("$patch") == "delete":
        allowed = {"apiVersion", "kind", "name", "$patch"}
        return [] if set(doc) <= allowed and doc.get("kind") else [f"bad delete directive {doc}"]
    checked, errors = _logging_endpoints(doc)
    checked = dict(checked)
    if checked.get("kind") in SCHEMA_KIND:
        checked["kind"] = SCHEMA_KIND[checked["kind"]]
    return errors + [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator(minor).iter_errors(checked)
    ]


def talos_114(data: dict[str, Any]) -> dict[str, Any]:
    """The same answers for Talos v1.14, its release candidate (with the Kubernetes it defaults to)."""
    out = copy.deepcopy(data)
    out["spec"]["talos"]["version"] = "v1.14.0-rc.1"
    out["spec"]["kubernetes"]["version"] = "1.37.0-rc.0"
    return out


def small(data: dict[str, Any]) -> dict[str, Any]:
    """One control plane and one worker (fewer talosctl calls for end-to-end tests)."""
    out = copy.deepcopy(data)
    out["spec"]["nodes"] = [out["spec"]["nodes"][0], out["spec"]["nodes"][3]]
    return out


def parse(data: dict[str, Any]) -> spec.Cluster:
    return spec.parse(copy.deepcopy(data))


def write_answers(path: Path, data: dict[str, Any]) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def fakes_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put the lab's fakes first on PATH for this test; returns their folder."""
    folder = install_fakes(tmp_path / "bin")
    monkeypatch.setenv("PATH", lab_path(folder))
    return folder


def git_ls_files(root: Path) -> list[str]:
    return subprocess.run(
        ["git", "ls-files"], cwd=root, check=True, capture_output=True, text=True
    ).stdout.split()


def git_commits(root: Path) -> int:
    out = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=root, capture_output=True, text=True)
    return int(out.stdout.strip() or 0) if out.returncode == 0 else 0


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under a folder (including .git) with its bytes: to prove nothing changed."""
    if not root.exists():
        return {}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def run_fake(
    *argv: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The fake talosctl as a real process (for exit codes and streams exactly as callers see them)."""
    code = "import sys; from skynet_lab.fake_talosctl import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *argv], cwd=cwd, env=env, capture_output=True, text=True
    )
