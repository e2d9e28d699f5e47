"""The release the simulated talosctl claims to be: its client version (the lab may pretend to be another), its build.

Both halves of the fake read it: `talosctl version --client` prints it, and `gen config` emits the config contract
of its minor. It sits below both so neither imports the other.
"""

from __future__ import annotations

import os

# The client version the simulated talosctl reports; the lab may pretend to be another release.
VERSION_ENV = "SKYNET_LAB_TALOSCTL_VERSION"
DEFAULT_VERSION = "v1.13.9"
# The build the simulated talosctl reports.
SHA = "3ebd10a7"
GO_VERSION = "go1.25.9"


def client_version() -> str:
    return os.environ.get(VERSION_ENV) or DEFAULT_VERSION


def minor(tag: str) -> int:
    parts = tag.lstrip("v").split(".")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 13


def client_minor() -> int:
    return minor(client_version())
