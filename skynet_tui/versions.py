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
    prerelease: bool = False  # only release candidates exist: offered when asked for, never a default


# Releases Skynet can install and manage; older minors appear only as upgrade sources. Each row was read from
# the siderolabs/talos repository at the tag in its `latest` (the newest tag of that minor):
# pkg/machinery/compatibility/talos1xx/talos1xx.go for the Kubernetes range and MinimumHostUpgradeVersion, and
# pkg/machinery/constants/constants.go for DefaultKubernetesVersion. v1.14 has no release yet, only v1.14.0-rc.1.
TALOS_RELEASES: dict[str, TalosRelease] = {
    # read at tag v1.11.6 (talos111/talos111.go)
    "1.11": TalosRelease("1.11", "v1.11.6", "1.29.0", "1.34", "1.34.1", "1.9.0"),
    # read at tag v1.12.11 (talos112/talos112.go)
    "1.12": TalosRelease("1.12", "v1.12.11", "1.30.0", "1.35", "1.35.4", "1.10.0"),
    # read at tag v1.13.9 (talos113/talos113.go)
    "1.13": TalosRelease("1.13", "v1.13.9", "1.31.0", "1.36", "1.36.3", "1.11.0"),
    # read at tag v1.14.0-rc.1 (talos114/talos114.go): a release candidate, offered only when written out
    "1.14": TalosRelease("1.14", "v1.14.0-rc.1", "1.32.0", "1.37", "1.37.0-rc.0", "1.12.0", prerelease=True),
}
INSTALLABLE_MINORS = ("1.13", "1.14")
DEFAULT_TALOS = "v1.13.9"  # the newest stable release; a release candidate is never the default
DEFAULT_KUBERNETES = "1.36.3"
VANILLA_SCHEMATIC = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"

# The newest patch of each Kubernetes minor Skynet knows (a path that steps through a minor lands here); the
# minors span every row of TALOS_RELEASES. Updated with each Skynet release, like the chart table. 1.37 has only
# its release candidate, the default of Talos v1.14.0-rc.1.
KUBERNETES_LATEST: dict[str, str] = {
    "1.29": "1.29.15",
    "1.30": "1.30.14",
    "1.31": "1.31.14",
    "1.32": "1.32.13",
    "1.33": "1.33.9",
    "1.34": "1.34.6",
    "1.35": "1.35.4",
    "1.36": "1.36.3",
    "1.37": "1.37.0-rc.0",
}

_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$")
_RELEASE_CANDIDATE = re.compile(r"^v\d+\.\d+\.\d+-rc\.\d+$")


def parse_version(text: str) -> tuple[int, int, int] | None:
    """`v1.13.9` or `1.36.3` → (1, 13, 9); None when it is not a version."""
    match = _SEMVER.match(text.strip())
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def is_release_candidate(text: str) -> bool:
    """`v1.14.0-rc.1` → True: a pre-release, offered only to those who ask for it."""
    return bool(_RELEASE_CANDIDATE.match(text.strip()))


def talos_version_problem(text: str) -> str | None:
    """Why Skynet cannot install this Talos version, or None: an installable minor, as a release (stable minors)
    or as a release candidate `-rc.N` (minors that have only release candidates so far)."""
    release = release_for(text)
    if parse_version(text) is None or not text.startswith("v"):
        return f"{text!r} is not a Talos version (e.g. {DEFAULT_TALOS})"
    if release is None or release.minor not in INSTALLABLE_MINORS:
        supported = ", ".join(
            TALOS_RELEASES[m].latest + (" (release candidate)" if TALOS_RELEASES[m].prerelease else "")
            for m in INSTALLABLE_MINORS
        )
        return f"Talos {text} is not supported; use {supported}"
    candidate = is_release_candidate(text)
    if release.prerelease and not candidate:
        return (
            f"Talos {text} is not released yet; its release candidate is {release.latest} (a pre-release: "
            f"opt in by writing that version), the stable release is {DEFAULT_TALOS}"
        )
    if not release.prerelease and "-" in text:
        return f"Talos {text} is a pre-release of a minor that has releases; use {release.latest}"
    return None


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
