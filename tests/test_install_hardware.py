"""The install against lab machines that differ from the answers, as real ones do: checked before anything is
written (link, certificate, Talos version), and a node that never comes back is blamed on its link."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from skynet_lab import state
from skynet_lab.core import Lab
from skynet_tui import events, journal, spec
from skynet_tui.plan.install import install_plan
from skynet_tui.plan.steps import Plan
from skynet_tui.runner import Runner
from skynet_tui.workspace import Workspace
from tests.install_helpers import CORE_ONLY, FAST, fast_timing
from tests.runner_helpers import Recorder

pytestmark = [pytest.mark.lab, pytest.mark.slow, pytest.mark.usefixtures("git")]

MACHINE_STEPS = (
    "preflight-",
    "verify-",
    "generate",
    "push",
    "apply-",
    "install-",
    "talosconfig",
    "bootstrap",
)


@pytest.fixture
def lab(tmp_path: Path):
    with Lab(tmp_path / "lab", 1, 1, latency=FAST, leases=2) as running:  # both on a DHCP lease
        yield running


def _answers(lab: Lab, **node: object) -> dict:
    """The lab's answers (core platform), with `node` set on the worker."""
    data = lab.cluster_data()
    data["spec"]["components"] = dict(CORE_ONLY)
    data["spec"]["nodes"][1].update(node)
    return data


def _run(lab: Lab, data: dict, ws: Workspace, *, verify: bool = True, **timing: float) -> Recorder:
    """Run the install's machine steps (up to the bootstrap); without `verify`, the preflight of each
    machine's link, certificate and image is left out (what the wait does without it)."""
    cluster = spec.parse(data)
    plan = install_plan(cluster, ws, env=lab.env(), timing=fast_timing(**timing), simulated=True)
    steps = [s for s in plan.steps if s.id.startswith(MACHINE_STEPS)]
    if not verify:
        steps = [
            dataclasses.replace(s, deps=tuple(d for d in s.deps if not d.startswith("verify-")))
            for s in steps
            if not s.id.startswith("verify-")
        ]
    rec = Recorder()
    Runner(Plan(plan.name, steps, simulated=True, answers=plan.answers), ws, rec, env=lab.env()).run()
    return rec


def _failed(rec: Recorder) -> dict[str, str]:
    return {e.step_id: e.error for e in rec.of(events.StepFailed)}


def _nothing_written(lab: Lab, ws: Workspace) -> None:
    assert not [
        r.step for r in journal.read(ws.journal) if r.event == "start" and r.step.startswith("apply-")
    ]
    assert all(n["applied_at"] is None for n in state.load_stored_nodes(lab.root))


def test_a_link_the_machine_lacks_fails_its_preflight_and_nothing_is_written(lab, tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path / "ws")
    rec = _run(lab, _answers(lab, interface="eno1", mac=None), ws)
    worker = lab.worker_ips[0]
    (error,) = _failed(rec).values()
    assert list(_failed(rec)) == ["verify-worker-1"]
    assert (
        f"worker-1 ({state.load_node(lab.root, worker)['lease']}) has no link eno1; it has enp3s0 (up"
        in error
    )
    assert "spec.nodes[1].interface" in error
    _nothing_written(lab, ws)


def test_a_wrong_pinned_fingerprint_refuses_to_send_the_config(lab, tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path / "ws")
    other = lab.cluster_data()["spec"]["nodes"][0]["certFingerprint"]  # the control plane's, not the worker's
    rec = _run(lab, _answers(lab, certFingerprint=other), ws)
    (error,) = _failed(rec).values()
    assert list(_failed(rec)) == ["verify-worker-1"]
    assert f"not the pinned fingerprint {other}" in error and "nothing was sent to it" in error
    _nothing_written(lab, ws)


def test_a_node_booted_from_another_talos_minor_is_reported_before_any_write(lab, tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path / "ws")
    cp, worker = lab.control_plane_ips[0], lab.worker_ips[0]
    lab.boot_iso(cp, talos_version="v1.12.11")
    lab.boot_iso(worker, talos_version="v1.13.8")  # a patch release: a warning only
    rec = _run(lab, _answers(lab), ws)  # read after the new boots: their new fingerprints pinned
    failed = _failed(rec)
    assert list(failed) == ["verify-cp-1"]
    assert (
        "cp-1 (" in failed["verify-cp-1"]
        and "booted Talos v1.12.11, but the answers install v1.13.9" in (failed["verify-cp-1"])
    )
    assert "! worker-1 booted Talos v1.13.8; it installs v1.13.9 (the installer image decides)" in rec.lines(
        "verify-worker-1"
    )
    _nothing_written(lab, ws)


def test_the_install_applies_at_the_maintenance_address_and_waits_on_the_ip(lab, tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path / "ws")
    data = _answers(lab)
    worker = spec.parse(data).workers[0]
    lease = state.load_node(lab.root, worker.ip)["lease"]
    assert worker.maintenance_address == lease != worker.ip
    rec = _run(lab, data, ws)
    assert _failed(rec) == {}, rec.events
    applied = rec.commands("apply-worker-1")
    assert applied == [
        f"$ talosctl apply-config --insecure --nodes {lease} --cert-fingerprint {worker.cert_fingerprint} "
        "--file secrets/nodes/worker-1.yaml"
    ]
    polled = rec.commands("install-worker-1")
    assert any(f"get machinestatus --talosconfig secrets/talosconfig --endpoints {lab.control_plane_ips[0]} "
               f"--nodes {worker.ip}" in line for line in polled)  # fmt: skip
    verify = rec.lines("verify-worker-1")[-1]
    assert (
        verify
        == f"worker-1: link the link with MAC {worker.mac} present, Talos v1.13.9, certificate "
        + str(worker.cert_fingerprint)
    )
    node = state.load_node(lab.root, worker.ip)
    assert node["address"] == worker.ip and node["stage"] in ("booting", "running")


@pytest.mark.parametrize("verify", [True, False], ids=["unplugged-link", "missing-link-past-preflight"])
def test_a_node_that_never_comes_back_is_blamed_on_its_link(lab, tmp_path: Path, verify: bool) -> None:
    """An unplugged link passes the preflight with a warning; a missing one only gets this far without it.
    Either way the node reboots into no address, and the wait names the link instead of timing out."""
    ws = Workspace.at(tmp_path / "ws")
    stored = state.load_node(lab.root, lab.worker_ips[0])
    down = next(x["id"] for x in stored["hardware"]["links"] if x["type"] == "ether" and not x["linkState"])
    link = down if verify else "eno1"
    rec = _run(lab, _answers(lab, interface=link, mac=None), ws, verify=verify, reboot_grace=3.0)
    if verify:
        assert any(f"link {down} has no carrier" in line for line in rec.lines("verify-worker-1"))
    failed = _failed(rec)
    assert list(failed) == ["install-worker-1"]
    assert "worker-1 did not come back after its reboot: nothing answered at" in failed["install-worker-1"]
    assert (
        f"The likely cause is its link: its config puts {lab.worker_ips[0]}/24 on the link {link} "
        in (failed["install-worker-1"])
    )
    assert "(spec.nodes[1].interface)" in failed["install-worker-1"]
