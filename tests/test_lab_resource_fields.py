"""The lab's `talosctl get -o json` specs use Talos's own field names: the yaml struct tags of the Go
definitions at v1.13.9 (vendored under tests/data/fixtures/talos/resources), every key known and every field
without omitempty present, nested structs included."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from skynet_lab import state
from skynet_tui.talos import commands as talos
from skynet_tui.talos import parse
from tests.conftest import DATA
from tests.lab_helpers import (  # noqa: F401 - lab_factory_fixture provides the lab_factory fixture
    install_state,
    lab_factory_fixture,
    talosctl,
    write_talosconfig,
)

pytestmark = pytest.mark.lab

GO = DATA / "fixtures" / "talos" / "resources"
_STRUCT = re.compile(r"^type (\w+) struct \{\n(.*?)^\}", re.M | re.S)
_FIELD = re.compile(r'^\s*\w+\s+([\w.\[\]*]+)\s+`yaml:"([^",]+)(,omitempty)?"', re.M)


@dataclass(frozen=True)
class Field:
    type: str  # the Go type without [] or *: a struct of these files, or anything else (a leaf)
    required: bool  # no omitempty: talosctl always prints it


def _structs(*files: str) -> dict[str, dict[str, Field]]:
    out: dict[str, dict[str, Field]] = {}
    for name in files:
        for match in _STRUCT.finditer((GO / name).read_text()):
            out[match[1]] = {
                tag: Field(kind.lstrip("[]*").rsplit(".", 1)[-1], not omit)
                for kind, tag, omit in _FIELD.findall(match[2])
            }
    return out


def _problems(value: Any, struct: str, structs: dict[str, dict[str, Field]], where: str) -> list[str]:
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _problems(item, struct, structs, f"{where}[{i}]")]
    fields = structs[struct]
    out = [f"{where}.{key}: no such field in {struct}" for key in value if key not in fields]
    out += [f"{where}.{tag}: missing ({struct} has no omitempty)" for tag, f in fields.items() if f.required
            and tag not in value]  # fmt: skip
    for key, item in value.items():
        kind = fields[key].type if key in fields else ""
        if kind in structs and item is not None:
            out += _problems(item, kind, structs, f"{where}.{key}")
    return out


RESOURCES = {
    "disks": ("DiskSpec", ("disk.go",)),
    "discoveredvolumes": ("DiscoveredVolumeSpec", ("discovered_volume.go",)),
    "links": ("LinkStatusSpec", ("link_status.go",)),
    "machinestatus": ("MachineStatusSpec", ("machine_status.go",)),
    "extensions": ("Layer", ("config.go", "metadata.go")),
}


def test_the_go_definitions_are_read() -> None:
    disk = _structs("disk.go")["DiskSpec"]
    assert disk["dev_path"] == Field("string", True) and disk["serial"] == Field("string", False)
    layer = _structs("config.go", "metadata.go")
    assert layer["Layer"]["metadata"].type == "Metadata" and layer["Metadata"]["compatibility"].required
    assert _structs("machine_status.go")["MachineStatusStatus"]["unmetConditions"].type == "UnmetCondition"


def test_every_spec_the_lab_prints_has_talos_field_names(lab_factory, tmp_path: Path) -> None:
    lab = lab_factory(3, 1)
    lab.boot_iso(
        lab.worker_ips[0], schematic="c" * 64, extensions=[{"name": "iscsi-tools", "version": "v0.2.0"}]
    )
    maintenance, installed = lab.worker_ips[0], lab.control_plane_ips[0]
    install_state(lab, bootstrapped=False)
    state.update_node(
        lab.root, maintenance, lambda n: n.update(applied_at=None, config=None)
    )  # back in the ISO
    tc = write_talosconfig(tmp_path / "talosconfig", lab.control_plane_ips)
    checked = 0
    for resource, (spec_type, files) in RESOURCES.items():
        structs = _structs(*files)
        for argv in (
            talos.get(resource, installed, talosconfig=tc),
            talos.get(resource, maintenance, insecure=True),
        ):
            result = talosctl(lab, *argv[1:])
            if (
                result.returncode != 0
            ):  # --insecure is refused once installed, and so on: only what it prints counts
                continue
            items = parse.json_stream(result.stdout)
            for item in items:
                assert (
                    _problems(item["spec"], spec_type, structs, f"{resource}/{item['metadata']['id']}") == []
                )
            checked += len(items)
    assert checked > 20
