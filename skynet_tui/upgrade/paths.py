"""Upgrade paths from the support matrix: Talos through each minor, Kubernetes one minor at a time; refusals say why.

Talos follows its upgrade guide: the latest patch of the running minor, then the latest patch of every minor in
between, then the target; every hop must accept the running host version (the installer's preflight) and
support the Kubernetes the cluster runs. Kubernetes follows `talosctl upgrade-k8s`: one minor at a time, each
hop within the support range of every node's Talos. Pre-releases are targets only when asked for, and never a
stop on the way.
"""

from __future__ import annotations

from collections.abc import Sequence

from skynet_tui import versions


class Refused(ValueError):
    """The target cannot be reached from what runs now; the message says why and what to do first."""


def normal_talos(text: str) -> str:
    """`1.13.9` or `v1.13.9` → `v1.13.9`; Refused when it is not a version."""
    value = text.strip()
    if versions.version_key(value) is None:
        raise Refused(f"{text!r} is not a Talos version (e.g. {versions.DEFAULT_TALOS})")
    return value if value.startswith("v") else f"v{value}"


def normal_kubernetes(text: str) -> str:
    """`v1.36.3` or `1.36.3` → `1.36.3`; Refused when it is not a version."""
    value = text.strip().removeprefix("v")
    if versions.version_key(value) is None:
        raise Refused(f"{text!r} is not a Kubernetes version (e.g. {versions.DEFAULT_KUBERNETES})")
    return value


def _key(version: str) -> versions.VersionKey:
    key = versions.version_key(version)
    if key is None:
        raise Refused(f"{version!r} is not a version")
    return key


def lowest(found: Sequence[str]) -> str:
    return min(found, key=_key)


def highest(found: Sequence[str]) -> str:
    return max(found, key=_key)


def _minor(version: str) -> tuple[int, int]:
    key = _key(version)
    return key[0], key[1]


def _check_prerelease(target: str, allow_prerelease: bool, what: str) -> None:
    if versions.is_prerelease(target) and not allow_prerelease:
        raise Refused(f"{what} {target} is a pre-release: pass --pre-release to upgrade to it")


# ---------------------------------------------------------------- Talos


def _talos_release(version: str) -> versions.TalosRelease:
    release = versions.release_for(version)
    if release is None:
        known = ", ".join(f"v{m}" for m in versions.TALOS_RELEASES)
        raise Refused(
            f"Skynet's support matrix does not know Talos v{versions.minor_of(version)} (it knows {known})"
        )
    return release


def talos_path(
    running: Sequence[str],
    target: str,
    *,
    kubernetes: Sequence[str] = (),
    allow_prerelease: bool = False,
) -> list[str]:
    """The Talos versions to upgrade through, in order, ending at `target`; [] when every node runs it already.

    `running` is every node's Talos version, `kubernetes` every node's Kubernetes version (kubelets)."""
    target = normal_talos(target)
    _check_prerelease(target, allow_prerelease, "Talos")
    release = _talos_release(target)
    if not versions.is_prerelease(target) and _key(target) > _key(release.latest):
        raise Refused(
            f"Skynet knows Talos up to {release.latest} in v{release.minor}; {target} is newer than its support "
            "matrix: update Skynet first"
        )
    if not running:
        raise Refused("no node reported its Talos version: is the Talos API reachable?")
    now = [normal_talos(v) for v in running]
    low, high = lowest(now), highest(now)
    if _key(high) > _key(target):
        raise Refused(
            f"a node runs Talos {high}, newer than {target}: Skynet does not downgrade "
            "(`talosctl rollback` returns one node to its previous image)"
        )
    if _key(low) == _key(target):
        return []
    current = _talos_release(low)
    hops: list[str] = []
    if _minor(low) != _minor(target):
        if _key(low) < _key(current.latest):
            hops.append(current.latest)
        for major, minor in _minors_between(_minor(low), _minor(target)):
            hops.append(_talos_release(f"v{major}.{minor}.0").latest)
    hops.append(target)
    host = low
    for hop in hops:
        hop_release = _talos_release(hop)
        if _key(host) < _key(hop_release.upgrade_from):
            raise Refused(
                f"Talos {hop} upgrades from v{hop_release.upgrade_from.removeprefix('v')} or later, "
                f"and a node runs {host}"
            )
        _talos_supports(hop, kubernetes)
        host = hop
    return hops


def _minors_between(low: tuple[int, int], high: tuple[int, int]) -> list[tuple[int, int]]:
    """The minors strictly between two (same major)."""
    if low[0] != high[0]:
        raise Refused(f"Skynet does not plan upgrades across major versions ({low[0]} → {high[0]})")
    return [(low[0], minor) for minor in range(low[1] + 1, high[1])]


def _talos_supports(talos: str, kubernetes: Sequence[str]) -> None:
    if not kubernetes:
        return
    release = _talos_release(talos)
    low, high = lowest(kubernetes), highest(kubernetes)
    if not versions.kubernetes_supported(talos, low):
        raise Refused(
            f"Talos {talos} supports Kubernetes {release.k8s_min} to {release.k8s_max_minor}.x and the cluster "
            f"runs {low}: upgrade Kubernetes to {release.k8s_min} or later first (skynet upgrade kubernetes)"
        )
    if not versions.kubernetes_supported(talos, high):
        raise Refused(
            f"Talos {talos} supports Kubernetes up to {release.k8s_max_minor}.x and the cluster runs {high}"
        )


# ---------------------------------------------------------------- Kubernetes


def kubernetes_path(
    running: Sequence[str],
    target: str,
    *,
    talos: Sequence[str] = (),
    allow_prerelease: bool = False,
) -> list[str]:
    """The Kubernetes versions to upgrade through, one minor at a time, ending at `target`; [] when reached.

    `running` is every node's Kubernetes version (kubelets), `talos` every node's Talos version."""
    target = normal_kubernetes(target)
    _check_prerelease(target, allow_prerelease, "Kubernetes")
    if not versions.talos_minors_for(target):
        newest = max(versions.TALOS_RELEASES.values(), key=lambda r: _key(f"v{r.minor}.0"))
        raise Refused(
            f"no Talos release Skynet knows supports Kubernetes {target} (the newest, Talos v{newest.minor}, "
            f"supports up to {newest.k8s_max_minor}.x)"
        )
    if not running:
        raise Refused("no node reported its kubelet version: is the Kubernetes API reachable?")
    now = [normal_kubernetes(v) for v in running]
    low, high = lowest(now), highest(now)
    if _key(high) > _key(target):
        raise Refused(
            f"a node runs Kubernetes {high}, newer than {target}: Skynet does not downgrade Kubernetes"
        )
    if _key(low) == _key(target):
        return []
    hops: list[str] = []
    for major, minor in _minors_between(_minor(low), _minor(target)):
        known = versions.KUBERNETES_LATEST.get(f"{major}.{minor}")
        if known is None:
            raise Refused(f"Skynet knows no release of Kubernetes {major}.{minor} to step through")
        hops.append(known)
    hops.append(target)
    for hop in hops:
        _kubernetes_fits(hop, talos)
    return hops


def _kubernetes_fits(kubernetes: str, talos: Sequence[str]) -> None:
    for node_talos in sorted(set(talos), key=_key):
        if versions.kubernetes_supported(node_talos, kubernetes):
            continue
        minor = versions.minor_of(kubernetes)
        needs = versions.talos_minors_for(kubernetes)
        if needs and _key(f"v{needs[0]}.0") > _key(node_talos):
            raise Refused(
                f"Kubernetes {minor} needs Talos ≥ {needs[0]} and a node runs Talos {node_talos}: "
                f"upgrade Talos first (skynet upgrade talos --to {versions.TALOS_RELEASES[needs[0]].latest})"
            )
        release = versions.release_for(node_talos)
        floor = release.k8s_min if release else "?"
        raise Refused(
            f"Talos {node_talos} no longer supports Kubernetes {kubernetes} (its minimum is {floor})"
        )


def talosctl_for_kubernetes(client: str, target: str, talos: Sequence[str] = ()) -> str | None:
    """Why this talosctl cannot run `upgrade-k8s --to target` on these nodes, or None when it can.

    talosctl knows the Kubernetes releases (and the Talos compatibility rows) of its own minor and older only."""
    needs = versions.talos_minors_for(target)
    client_minor = _minor(normal_talos(client))
    if needs and _minor(f"v{needs[0]}.0") > client_minor:
        return f"talosctl {client} cannot upgrade Kubernetes to {target}: that takes talosctl v{needs[0]}.x or newer"
    newest = highest([normal_talos(t) for t in talos]) if talos else None
    if newest is not None and _minor(newest) > client_minor:
        return f"talosctl {client} is older than Talos {newest} on a node: use talosctl v{versions.minor_of(newest)}.x"
    return None
