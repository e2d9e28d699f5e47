"""Supported Talos and Kubernetes versions: the one support matrix everything else reads."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class TalosRelease:
    """What one Talos minor supports (pkg/machinery/compatibility/talos1xx)."""

    minor: str  # "1.13"
    latest: str  # newest patch release known to Skynet, "v1.13.9"
    k8s_min: str  # lowest supported Kubernetes, "1.31.0"
    k8s_max_minor: str  # highest supported Kubernetes minor, "1.36"
    k8s_default: str  # talosctl's default Kubernetes for this minor
    upgrade_from: str  # lowest host version an upgrade may start from


# Releases Skynet can install and manage; older minors appear only as upgrade sources.
TALOS_RELEASES: dict[str, TalosRelease] = {
    "1.11": TalosRelease("1.11", "v1.11.5", "1.29.0", "1.34", "1.34.1", "1.9.0"),
    "1.12": TalosRelease("1.12", "v1.12.6", "1.30.0", "1.35", "1.35.0", "1.10.0"),
    "1.13": TalosRelease("1.13", "v1.13.9", "1.31.0", "1.36", "1.36.3", "1.11.0"),
    "1.14": TalosRelease("1.14", "v1.14.0", "1.32.0", "1.37", "1.37.0", "1.12.0"),
}
INSTALLABLE_MINORS = ("1.13", "1.14")
DEFAULT_TALOS = "v1.13.9"
DEFAULT_KUBERNETES = "1.36.3"
VANILLA_SCHEMATIC = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"

# The newest patch of each Kubernetes minor Skynet knows (a path that steps through a minor lands here); the
# minors span every row of TALOS_RELEASES. Updated with each Skynet release, like the chart table.
KUBERNETES_LATEST: dict[str, str] = {
    "1.29": "1.29.15",
    "1.30": "1.30.14",
    "1.31": "1.31.14",
    "1.32": "1.32.13",
    "1.33": "1.33.9",
    "1.34": "1.34.6",
    "1.35": "1.35.4",
    "1.36": "1.36.3",
    "1.37": "1.37.0",
}

_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$")


def parse_version(text: str) -> tuple[int, int, int] | None:
    """`v1.13.9` or `1.36.3` → (1, 13, 9); None when it is not a version."""
    match = _SEMVER.match(text.strip())
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def minor_of(text: str) -> str | None:
    """`v1.13.9` → `1.13`."""
    parsed = parse_version(text)
    return f"{parsed[0]}.{parsed[1]}" if parsed else None


def release_for(talos_version: str) -> TalosRelease | None:
    """The support-matrix row of a Talos version, or None when Skynet does not know it."""
    minor = minor_of(talos_version)
    return TALOS_RELEASES.get(minor) if minor else None


def kubernetes_range(talos_version: str) -> tuple[str, str] | None:
    """Human range of Kubernetes versions a Talos version supports, e.g. ("1.31.0", "1.36.x")."""
    release = release_for(talos_version)
    return (release.k8s_min, f"{release.k8s_max_minor}.x") if release else None


def kubernetes_supported(talos_version: str, kubernetes_version: str) -> bool:
    """True when the Talos version's support range holds the Kubernetes version."""
    release = release_for(talos_version)
    k8s = parse_version(kubernetes_version)
    if release is None or k8s is None:
        return False
    low = parse_version(release.k8s_min)
    high = parse_version(release.k8s_max_minor + ".0")
    assert low is not None and high is not None
    return low <= k8s and k8s[:2] <= high[:2]


# A version's place in semver precedence: (major, minor, patch, 1 for a release or 0 for a pre-release, the
# pre-release's identifiers, numbers before words). `v1.14.0-rc.1` sorts below `v1.14.0`.
VersionKey = tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]


def version_key(text: str) -> VersionKey | None:
    """The sort key of a version (pre-releases below their release); None when it is not a version."""
    match = _SEMVER.match(text.strip())
    if not match:
        return None
    pre = match[4] or ""
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")) if pre else ()
    return (int(match[1]), int(match[2]), int(match[3]), 0 if pre else 1, parts)


def is_prerelease(text: str) -> bool:
    """`v1.14.0-rc.1`, `1.37.0-alpha.2`: a build that is not a release."""
    match = _SEMVER.match(text.strip())
    return bool(match and match[4])


def kubernetes_minor_supported(talos_version: str, kubernetes_minor: str) -> bool:
    """True when the Talos version supports some release of this Kubernetes minor (`1.36`)."""
    return kubernetes_supported(talos_version, f"{kubernetes_minor}.99")


def talos_minors_for(kubernetes_version: str) -> list[str]:
    """The Talos minors (`1.13`, …) whose support range holds the Kubernetes version, oldest first."""
    return [minor for minor in TALOS_RELEASES if kubernetes_supported(f"v{minor}.0", kubernetes_version)]
