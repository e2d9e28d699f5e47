"""Upgrade paths from the support matrix: every required minor stepped through, every impossible target refused
with its reason, pre-releases only when asked for."""

from __future__ import annotations

import pytest

from skynet_tui import versions
from skynet_tui.upgrade.paths import Refused, kubernetes_path, talos_path, talosctl_for_kubernetes


@pytest.mark.parametrize(
    ("running", "target", "kubernetes", "path"),
    [
        (["v1.13.8"] * 5, "v1.13.9", ["1.35.4"], ["v1.13.9"]),
        (["v1.13.9"], "v1.13.9", ["1.36.3"], []),
        # 1.11 → 1.13 goes through 1.12, after the newest patch of 1.11 (the upgrade guide's rule)
        (["v1.11.3"], "v1.13.9", ["1.33.2"], ["v1.11.6", "v1.12.11", "v1.13.9"]),
        (["v1.11.6"], "v1.13.9", ["1.33.2"], ["v1.12.11", "v1.13.9"]),
        # mixed versions (an upgrade stopped half-way): from the lowest
        (["v1.13.8", "v1.13.9", "v1.13.8"], "v1.13.9", ["1.36.3"], ["v1.13.9"]),
        (["v1.13.8"], "1.13.9", ["1.36.3"], ["v1.13.9"]),  # a target without its v
    ],
)
def test_talos_paths_step_through_every_required_minor(running, target, kubernetes, path) -> None:
    assert talos_path(running, target, kubernetes=kubernetes) == path


@pytest.mark.parametrize(
    ("running", "target", "talos", "path"),
    [
        (["1.35.4"] * 5, "1.36.3", ["v1.13.9"], ["1.36.3"]),
        (["1.36.1"], "1.36.3", ["v1.13.9"], ["1.36.3"]),
        (["1.36.3"], "v1.36.3", ["v1.13.9"], []),
        # Kubernetes 1.34 → 1.36 goes through 1.35, one minor at a time
        (["1.34.1"], "1.36.3", ["v1.13.9"], ["1.35.4", "1.36.3"]),
        (["1.32.0", "1.33.1"], "1.36.3", ["v1.13.9"], ["1.33.9", "1.34.6", "1.35.4", "1.36.3"]),
    ],
)
def test_kubernetes_paths_go_one_minor_at_a_time(running, target, talos, path) -> None:
    assert kubernetes_path(running, target, talos=talos) == path


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda: kubernetes_path(["1.36.3"], "1.37.0-rc.0", talos=["v1.13.9"], allow_prerelease=True),
         "Kubernetes 1.37 needs Talos ≥ 1.14 and a node runs Talos v1.13.9: upgrade Talos first"),
        (lambda: kubernetes_path(["1.36.3"], "1.37.0-rc.0", talos=["v1.14.0-rc.1", "v1.13.9"],
                                 allow_prerelease=True), "needs Talos ≥ 1.14"),
        (lambda: kubernetes_path(["1.36.3"], "1.38.0", talos=["v1.14.0-rc.1"]),
         "no Talos release Skynet knows supports Kubernetes 1.38.0"),
        (lambda: kubernetes_path(["1.36.3"], "1.35.4", talos=["v1.13.9"]), "Skynet does not downgrade Kubernetes"),
        (lambda: kubernetes_path(["1.29.1"], "1.31.14", talos=["v1.13.9"]),
         "Talos v1.13.9 no longer supports Kubernetes 1.30.14"),
        (lambda: kubernetes_path(["1.36.3"], "1.37.0-rc.0", talos=["v1.14.0-rc.1"]), "pass --pre-release"),
        (lambda: kubernetes_path(["1.36.3"], "latest", talos=["v1.14.0-rc.1"]), "is not a Kubernetes version"),
        (lambda: kubernetes_path([], "1.36.3", talos=["v1.13.9"]), "no node reported its kubelet version"),
        (lambda: talos_path(["v1.13.9"], "v1.13.8", kubernetes=["1.36.3"]), "Skynet does not downgrade"),
        (lambda: talos_path(["v1.13.9"], "v1.15.0", kubernetes=["1.36.3"]),
         "support matrix does not know Talos v1.15"),
        (lambda: talos_path(["v1.13.9"], "v1.13.12", kubernetes=["1.36.3"]), "newer than its support matrix"),
        (lambda: talos_path(["v1.13.9"], "v1.14.0-rc.1", kubernetes=["1.36.3"]), "pass --pre-release"),
        (lambda: talos_path(["v1.10.4"], "v1.13.9", kubernetes=["1.32.0"]),
         "support matrix does not know Talos v1.10"),
        # a hop that would drop the Kubernetes the cluster runs
        (lambda: talos_path(["v1.12.1"], "v1.13.9", kubernetes=["1.30.2"]),
         "Talos v1.13.9 supports Kubernetes 1.31.0 to 1.36.x and the cluster runs 1.30.2: upgrade Kubernetes"),
        (lambda: talos_path(["v1.13.9"], "v1.14.0-rc.1", kubernetes=["1.31.5"], allow_prerelease=True),
         "supports Kubernetes 1.32.0 to 1.37.x"),
        (lambda: talos_path(["v1.13.9"], "v1.14.0", kubernetes=["1.36.3"]), "newer than its support matrix"),
        (lambda: talos_path(["v1.13.9"], "2.0.0", kubernetes=["1.36.3"]), "does not know Talos v2.0"),
        (lambda: talos_path([], "v1.13.9"), "no node reported its Talos version"),
    ],
)  # fmt: skip
def test_impossible_targets_are_refused_with_the_reason(call, reason) -> None:
    with pytest.raises(Refused) as refused:
        call()
    assert reason in str(refused.value)


def test_pre_releases_only_when_asked_for_and_never_on_the_way() -> None:
    assert talos_path(["v1.13.9"], "v1.14.0-rc.1", kubernetes=["1.36.3"], allow_prerelease=True) == [
        "v1.14.0-rc.1"
    ]
    assert talos_path(["v1.12.6"], "v1.14.0-rc.1", kubernetes=["1.35.4"], allow_prerelease=True) == [
        "v1.12.11",
        "v1.13.9",
        "v1.14.0-rc.1",
    ]
    assert kubernetes_path(["1.36.3"], "1.37.0-rc.0", talos=["v1.14.0-rc.1"], allow_prerelease=True) == [
        "1.37.0-rc.0"
    ]
    hops = talos_path(["v1.11.3"], "v1.13.9", kubernetes=["1.33.2"], allow_prerelease=True)
    assert not any(versions.is_prerelease(hop) for hop in hops)
    assert versions.version_key("v1.14.0-rc.1") < versions.version_key("v1.14.0")  # type: ignore[operator]
    assert versions.version_key("v1.14.0-rc.2") > versions.version_key("v1.14.0-rc.1")  # type: ignore[operator]
    assert versions.version_key("v1.14.0-beta.0") < versions.version_key("v1.14.0-rc.1")  # type: ignore[operator]


def test_every_path_the_matrix_allows_holds_at_every_hop() -> None:
    """Each Talos hop accepts the host it starts from and supports the running Kubernetes; each Kubernetes hop
    is one minor and fits every node's Talos."""
    for minor, release in versions.TALOS_RELEASES.items():
        for target_minor, target in versions.TALOS_RELEASES.items():
            if versions.version_key(target.latest) <= versions.version_key(release.latest):  # type: ignore[operator]
                continue
            kubernetes = [versions.TALOS_RELEASES[target_minor].k8s_min]
            try:
                hops = talos_path(
                    [f"v{minor}.0"], target.latest, kubernetes=kubernetes, allow_prerelease=target.prerelease
                )
            except Refused:
                assert not versions.kubernetes_supported(f"v{minor}.0", kubernetes[0])
                continue
            host = f"v{minor}.0"
            for hop in hops:
                rule = versions.release_for(hop)
                assert rule is not None
                assert versions.version_key(host) >= versions.version_key(rule.upgrade_from)  # type: ignore[operator]
                assert versions.kubernetes_supported(hop, kubernetes[0])
                host = hop
    for low in range(31, 36):
        hops = kubernetes_path([f"1.{low}.0"], "1.36.3", talos=["v1.13.9"])
        assert [versions.minor_of(h) for h in hops] == [f"1.{m}" for m in range(low + 1, 37)]


def test_talosctl_must_know_the_target() -> None:
    assert talosctl_for_kubernetes("v1.13.9", "1.36.3", ["v1.13.9"]) is None
    assert "takes talosctl v1.14.x" in (talosctl_for_kubernetes("v1.13.9", "1.37.0", ["v1.14.0"]) or "")
    assert "older than Talos v1.14.0" in (talosctl_for_kubernetes("v1.13.9", "1.36.3", ["v1.14.0"]) or "")
