"""Image Factory names: the installer image a node installs and upgrades from."""

from __future__ import annotations

import re

FACTORY = "factory.talos.dev"
_SCHEMATIC = re.compile(r"^[0-9a-f]{64}$")


def installer_image(
    schematic: str, version: str, *, platform: str = "metal", secureboot: bool = False
) -> str:
    """`factory.talos.dev/metal-installer/<schematic>:<version>`; its schematic must match the boot ISO's."""
    if not _SCHEMATIC.match(schematic):
        raise ValueError(f"{schematic!r} is not an Image Factory schematic id (64 lowercase hex characters)")
    if not re.fullmatch(r"v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", version):
        raise ValueError(f"{version!r} is not a Talos version tag (e.g. v1.13.9)")
    repository = f"{platform}-installer-secureboot" if secureboot else f"{platform}-installer"
    return f"{FACTORY}/{repository}/{schematic}:{version}"


def kubernetes_image(component: str, version: str) -> str:
    """Upstream image of a control-plane component (`kube-apiserver`, …) at a Kubernetes version."""
    return f"registry.k8s.io/{component}:v{version.removeprefix('v')}"


def kubelet_image(version: str) -> str:
    """The kubelet image Talos runs at a Kubernetes version (Talos builds its own, with the host tools)."""
    return f"ghcr.io/siderolabs/kubelet:v{version.removeprefix('v')}"
