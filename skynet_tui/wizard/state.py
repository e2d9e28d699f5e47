"""The answers being edited by the wizard: a cluster.yaml dict, reading and writing its fields, and saving.

Pure Python (no Textual). Every rule about the answers lives in `skynet_tui.spec`; `checks` applies them per
step, `catalog` says which field belongs to which step.
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from skynet_tui import spec
from skynet_tui.wizard.catalog import FieldSpec
from skynet_tui.workspace import Workspace

# Optional sub-objects that disappear from the answers once all their fields are empty.
_PRUNABLE = ("spec.ingress.acme.dns01", "spec.gitops.credentials", "spec.secrets.encryption.age",
             "spec.secrets.encryption", "spec.secrets")  # fmt: skip


# ---------------------------------------------------------------- reading and writing the answers dict


def _parts(path: str) -> list[str]:
    return path.split(".")


def get_value(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for part in _parts(path):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def set_value(data: dict[str, Any], path: str, value: Any) -> None:
    """Set (or with None, remove) the value at a dotted path, creating parents as needed."""
    parts = _parts(path)
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            if value is None:
                return
            child = node[part] = {}
        node = child
    if value is None:
        node.pop(parts[-1], None)
        for prunable in _PRUNABLE:
            if get_value(data, prunable) == {}:
                parent, _, key = prunable.rpartition(".")
                container = get_value(data, parent)
                if isinstance(container, dict):
                    container.pop(key, None)
    else:
        node[parts[-1]] = value


def split_list(text: str) -> list[str]:
    return [item for item in re.split(r"[,\s]+", text.strip()) if item]


def split_keys(text: str) -> list[str]:
    """Public keys, one per line or comma-separated: an ssh key line holds spaces."""
    return [" ".join(item.split()) for item in re.split(r"[,\n]+", text) if item.strip()]


def text_of(data: dict[str, Any], spec_field: FieldSpec) -> str:
    """The text an input shows for a field."""
    value = get_value(data, spec_field.path)
    if value is None:
        return ""
    if spec_field.kind in ("list", "keys"):
        return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return str(value)


def set_text(data: dict[str, Any], spec_field: FieldSpec, text: str) -> None:
    """Write what the operator typed; an empty input removes the key (so spec's default or 'required' applies)."""
    text = text.strip()
    if spec_field.kind == "list":
        set_value(data, spec_field.path, split_list(text) or None)
    elif spec_field.kind == "keys":
        set_value(data, spec_field.path, split_keys(text) or None)
    else:
        set_value(data, spec_field.path, text or None)
    if spec_field.path == "spec.ingress.acme.challenge" and text != "dns01":
        set_value(data, "spec.ingress.acme.dns01", None)


def disk_text(value: Any) -> str:
    """installDisk as one line: `/dev/sda`, `serial:S4EW…` or `wwid:naa.5000…`."""
    if isinstance(value, dict):
        for key in ("serial", "wwid"):
            if value.get(key):
                return f"{key}:{value[key]}"
        return ""
    return "" if value is None else str(value)


def parse_disk_text(text: str) -> Any:
    text = text.strip()
    for key in ("serial", "wwid"):
        if text.lower().startswith(key + ":"):
            return {key: text[len(key) + 1 :].strip()}
    return text or None


def link_text(node: dict[str, Any]) -> str:
    return str(node.get("mac") or node.get("interface") or "")


def set_link_text(node: dict[str, Any], text: str) -> None:
    """One input for the node's link: a MAC pins it by hardware address, anything else is a link name."""
    text = text.strip()
    node.pop("mac", None)
    node.pop("interface", None)
    if not text:
        return
    node["mac" if spec.is_mac(text) else "interface"] = text


def blank_answers() -> dict[str, Any]:
    """A new cluster: the model's defaults filled in, everything the operator must decide left empty."""
    return spec.defaults()


def suggest_hostname(data: dict[str, Any], role: str) -> str:
    """The next free `cp-N` / `worker-N`."""
    prefix = "cp" if role == "controlplane" else "worker"
    used = {n.get("hostname") for n in get_value(data, "spec.nodes") or []}
    number = 1
    while f"{prefix}-{number}" in used:
        number += 1
    return f"{prefix}-{number}"


def new_node(data: dict[str, Any]) -> dict[str, Any]:
    """A node typed in by hand: a free hostname for the suggested role, and the model's defaults shown."""
    role = suggest_role(data)
    hostname = suggest_hostname(data, role)
    # No link is guessed: the operator types it (or discovery fills it), as the machine names it.
    return {"hostname": hostname, "role": role, **spec.defaults(spec.Node)}


def suggest_role(data: dict[str, Any]) -> str:
    """Three control planes first, then workers."""
    nodes = get_value(data, "spec.nodes") or []
    planes = sum(1 for n in nodes if n.get("role") == "controlplane")
    return "controlplane" if planes < 3 else "worker"


# ---------------------------------------------------------------- the editing session


DRAFT_HEADER = "# Draft answers saved by the Skynet wizard; open it with `skynet` to finish them.\n"
DRAFT_FILE = "cluster.draft.yaml"  # a draft saved beside valid answers, which it never replaces


def holds_valid_answers(path: Path) -> bool:
    """True when `path` is a file of valid answers (not a draft)."""
    try:
        return path.is_file() and not is_draft(path) and not spec.check(spec.read_answers(path))
    except spec.SpecError:
        return False


class Answers:
    """The answers being edited plus the workspace they belong to, and whether they changed since saved."""

    def __init__(self, data: dict[str, Any] | None = None, workspace: str | None = None):
        self.data: dict[str, Any] = data if data is not None else blank_answers()
        self.workspace_text: str = workspace or ""
        self._saved = copy.deepcopy(self.data) if data is not None else None
        # Disks the operator agreed to wipe by typing the hostname: (ip, disk text).
        self.wipe_confirmed: set[tuple[str, str]] = set()

    @classmethod
    def from_cluster(cls, cluster: spec.Cluster, workspace: str | Path | None = None) -> Answers:
        return cls(spec.to_data(cluster), str(workspace) if workspace else None)

    @classmethod
    def from_file(cls, path: Path, workspace: str | Path | None = None) -> Answers:
        """Load answers, valid or a saved draft; a file that is not a YAML mapping raises SpecError."""
        raw = spec.read_answers(path)  # a regular, small file of plain YAML (spec/loader.py)
        if not isinstance(raw, dict):
            raise spec.SpecError([spec.Issue(str(path), "the answers file must be a YAML mapping")])
        return cls(raw, str(workspace or path.parent))

    @property
    def name(self) -> str:
        return str(get_value(self.data, "metadata.name") or "")

    @property
    def workspace(self) -> Path | None:
        """The workspace folder: as typed, else ./<cluster name>."""
        text = self.workspace_text.strip()
        if text:
            return Path(text).expanduser()
        return Path(self.name) if self.name else None

    @property
    def dirty(self) -> bool:
        return self.data != self._saved

    def cluster(self) -> spec.Cluster:
        """The validated model; raises SpecError."""
        return spec.parse(self.data)

    def text(self) -> str:
        """cluster.yaml as it will be written: canonical when valid, the raw draft otherwise."""
        try:
            return spec.dump(self.cluster())
        except spec.SpecError:
            return DRAFT_HEADER + yaml.safe_dump(self.data, sort_keys=False, default_flow_style=False)

    def save(self) -> Path:
        """Write the answers into the workspace; returns the path written.

        Valid answers go to cluster.yaml (and a draft beside it is removed). Incomplete ones go to cluster.yaml
        as a draft, unless cluster.yaml holds valid answers: those are never replaced by a draft, which goes to
        cluster.draft.yaml beside them."""
        folder = self.workspace
        if folder is None:
            raise ValueError("name the cluster (or the workspace folder) first")
        ws = Workspace.at(folder)
        ws.root.mkdir(parents=True, exist_ok=True)
        text = self.text()
        draft = text.startswith(DRAFT_HEADER)
        target = ws.cluster_yaml
        if draft and holds_valid_answers(ws.cluster_yaml):
            target = ws.root / DRAFT_FILE
        ws.write(target.name, text)
        if not draft:
            with contextlib.suppress(FileNotFoundError):
                ws.path(DRAFT_FILE).unlink()
        self._saved = copy.deepcopy(self.data)
        return target

    def mark_saved(self) -> None:
        self._saved = copy.deepcopy(self.data)


def is_draft(path: Path) -> bool:
    """True when the file is answers the wizard saved unfinished (they open in the wizard, not headless).

    Only a regular file's first line is read: a FIFO or a device given as --config neither hangs nor floods."""
    header = DRAFT_HEADER.encode("utf-8")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        return stat.S_ISREG(os.fstat(fd).st_mode) and os.read(fd, len(header)) == header
    except OSError:
        return False
    finally:
        os.close(fd)
