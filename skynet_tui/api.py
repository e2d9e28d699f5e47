"""The public API of skynet_tui that other packages, such as the lab, may use."""

from __future__ import annotations

from skynet_tui.launcher import run
from skynet_tui.lockfile import Busy as LockBusy
from skynet_tui.lockfile import LockFile
from skynet_tui.talos.yamlio import dump as dump_yaml
from skynet_tui.talos.yamlio import dump_all as dump_yaml_all
from skynet_tui.versions import (
    DEFAULT_KUBERNETES,
    VANILLA_SCHEMATIC,
    kubernetes_supported,
    release_for,
    version_key,
)
from skynet_tui.workspace import atomic_write

__all__ = [
    "DEFAULT_KUBERNETES",
    "LockBusy",
    "LockFile",
    "VANILLA_SCHEMATIC",
    "atomic_write",
    "dump_yaml",
    "dump_yaml_all",
    "kubernetes_supported",
    "release_for",
    "run",
    "version_key",
]
