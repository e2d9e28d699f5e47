"""One SVG snapshot per screen of the shell and the wizard, at 100×32 (update: pytest --snapshot-update)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from textual.pilot import Pilot
from textual.widgets import Input

from skynet_tui.app import SkynetApp
from skynet_tui.discovery import Disk, Hardware, Link
from skynet_tui.screens.dialogs import UnsavedDialog, WipeDialog
from skynet_tui.screens.welcome import OpenWorkspaceDialog
from skynet_tui.screens.wizard.discover import DiscoveryScreen
from tests.wizard_helpers import fill, focus

SIZE = (100, 32)
GB = 1000**3


@pytest.fixture(autouse=True)
def steady_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor makes screenshots depend on timing: keep it shown."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


@pytest.fixture
def example_app(tmp_path: Path, example_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> SkynetApp:
    """The wizard on the example answers, in a temp folder (relative paths keep the snapshots stable)."""
    monkeypatch.chdir(tmp_path)
    Path("cluster.yaml").write_text(yaml.safe_dump(example_data, sort_keys=False))
    return SkynetApp(config=Path("cluster.yaml"), workspace=Path("homelab"))


def to_step(presses: int, then: Any = None):
    """run_before: Next `presses` times, then an optional coroutine function of the pilot."""

    async def run_before(pilot: Pilot) -> None:
        await pilot.pause()
        for _ in range(presses):
            await pilot.press("ctrl+n")
            await pilot.pause()
        if then is not None:
            await then(pilot)
        await pilot.app.workers.wait_for_complete()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    return run_before


def canned_hardware() -> dict[str, Hardware]:
    def node(ip: str, serial: str) -> Hardware:
        return Hardware(
            ip,
            disks=[
                Disk(
                    "sda",
                    "/dev/sda",
                    500 * GB,
                    "500 GB",
                    "Samsung SSD 870 EVO",
                    serial,
                    "naa.5002538e",
                    "sata",
                ),
                Disk(
                    "sdb",
                    "/dev/sdb",
                    2000 * GB,
                    "2.0 TB",
                    "WDC WD20EFRX",
                    "WD-" + serial,
                    "naa.50014ee2",
                    "sata",
                    rotational=True,
                    volumes=("gpt partition table", "sdb1 xfs 'data'"),
                ),
                Disk(
                    "sr0",
                    "/dev/sr0",
                    116 * 1000**2,
                    "116 MB",
                    "Virtual CDROM",
                    "",
                    "",
                    "usb",
                    readonly=True,
                    cdrom=True,
                ),
            ],
            links=[
                Link(
                    "eth0",
                    "ac:1f:6b:0a:0b:01",
                    type="ether",
                    oper_state="up",
                    driver="igb",
                    bus_path="0000:03",
                ),
                Link(
                    "eth1",
                    "ac:1f:6b:0a:0b:02",
                    type="ether",
                    oper_state="down",
                    driver="igb",
                    bus_path="0000:04",
                ),
            ],
            fingerprint=base64.b64encode(hashlib.sha256(ip.encode()).digest()).decode(),
        )

    return {
        ip: node(ip, f"S4EW{ip.rsplit('.', 1)[1]}")
        for ip in ("192.168.10.11", "192.168.10.31", "192.168.10.32")
    }


def test_welcome(snap_compare, tmp_path, monkeypatch):
    """The welcome: SKYNET, the tagline, New cluster / Open a workspace ("its console once installed, else
    its install resumed; or edit it") / Lab demo, then the day-two entries Console, Upgrades and Restore; the
    footer lists n, o, l, c, u (r and F1, the keys panel, are left out: they do not fit 80 columns)."""
    monkeypatch.chdir(tmp_path)
    assert snap_compare(SkynetApp(), terminal_size=SIZE, run_before=to_step(0))


def test_cluster_step_with_an_invalid_name(snap_compare, tmp_path, monkeypatch):
    """Step 1 of a new cluster: the name 'Home_Lab' is refused under the field (DNS label), the status line
    says what to fix; Next stays lit (pressing it shows every error of the step and focuses the first)."""
    monkeypatch.chdir(tmp_path)

    async def type_name(pilot: Pilot) -> None:
        await pilot.press("n")
        await pilot.pause()
        await fill(pilot, "metadata.name", "Home_Lab")

    assert snap_compare(SkynetApp(), terminal_size=SIZE, run_before=to_step(0, type_name))


def test_nodes_step(snap_compare, example_app):
    """Step 2 on the example: five nodes in the table (hostname, IP, role, disk, link), each ✓; the
    Add / Edit / Delete / Scan network buttons; a, d, s in the footer."""
    assert snap_compare(example_app, terminal_size=SIZE, run_before=to_step(1))


@pytest.mark.slow
def test_node_dialog(snap_compare, example_app):
    """The node dialog on worker-1 of the example: its disk pinned by serial, its link pinned by MAC; the
    hint that scanning lists the machine's disks."""

    async def edit(pilot: Pilot) -> None:
        await pilot.press("down", "down", "down", "enter")
        await pilot.pause()

    assert snap_compare(example_app, terminal_size=SIZE, run_before=to_step(1, edit))


@pytest.mark.slow
def test_discovery_screen(snap_compare, example_app):
    """Discovery after a scan: three machines with their disks, links and certificate fingerprints (one is
    already node cp-1), and the disks of the highlighted one with their checks: ok, holds data, boot medium."""

    async def discover(pilot: Pilot) -> None:
        app = pilot.app
        app.wizard.hardware.update(canned_hardware())
        app.push_screen(DiscoveryScreen(app.wizard))
        await pilot.pause()
        await focus(pilot, "found")

    assert snap_compare(example_app, terminal_size=SIZE, run_before=to_step(1, discover))


@pytest.mark.slow
def test_node_dialog_of_a_machine_on_its_lease(snap_compare, example_app):
    """A scanned machine added from discovery with another IP typed than the one it answers at: one line
    says it is reached at its lease until the install and keeps the IP after, and its certificate
    fingerprint is shown whole, to compare with its console."""

    async def add(pilot: Pilot) -> None:
        app = pilot.app
        app.wizard.hardware.update(canned_hardware())
        app.push_screen(DiscoveryScreen(app.wizard))
        await pilot.pause()
        await focus(pilot, "found")
        await pilot.press("down", "enter")
        await pilot.pause()
        await fill(pilot, "node.ip", "192.168.10.23")

    assert snap_compare(example_app, terminal_size=SIZE, run_before=to_step(1, add))


@pytest.mark.slow
def test_network_step_with_a_pool_clash(snap_compare, example_app):
    """Step 3: the MetalLB pool typed over cp-1's address; the clash is listed under the pool as a thing to
    fix before writing, and the step itself stays complete (Next is enabled)."""

    async def clash(pilot: Pilot) -> None:
        await fill(pilot, "spec.loadBalancer.addresses", "192.168.10.11-192.168.10.20")

    assert snap_compare(example_app, terminal_size=SIZE, run_before=to_step(2, clash))


@pytest.mark.slow
def test_domain_step_with_dns01(snap_compare, example_app):
    """Step 4 with DNS-01 chosen: the provider and token-variable fields appear; the token variable is
    still empty, so the status line asks for it and Next is dimmed."""

    async def dns01(pilot: Pilot) -> None:
        from tests.wizard_helpers import choose

        await choose(pilot, "f-spec-ingress-acme-challenge", "dns01")
        await choose(pilot, "f-spec-ingress-acme-dns01-provider", "cloudflare")

    assert snap_compare(example_app, terminal_size=SIZE, run_before=to_step(3, dns01))


@pytest.mark.slow
def test_gitops_step(snap_compare, example_app, tmp_path, monkeypatch):
    """Step 5: repository, branch, path, the optional deploy key / token variable, who the secrets are shared
    with (a HOME without an ssh key: the generic hint), and Test access (ctrl+t)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    assert snap_compare(example_app, terminal_size=SIZE, run_before=to_step(4))


@pytest.mark.slow
def test_components_step(snap_compare, example_app):
    """Step 6: a checkbox per component with its one-line explanation; image security off."""
    assert snap_compare(example_app, terminal_size=SIZE, run_before=to_step(5))


@pytest.mark.slow
def test_review_with_a_problem(snap_compare, example_app):
    """Review with the pool over cp-1: the problem is listed (Enter jumps to it), Write and install is dimmed,
    and the answers follow."""

    async def clash(pilot: Pilot) -> None:
        await fill(pilot, "spec.loadBalancer.addresses", "192.168.10.11-192.168.10.20")
        for _ in range(4):
            await pilot.press("ctrl+n")
            await pilot.pause()

    assert snap_compare(example_app, terminal_size=SIZE, run_before=to_step(2, clash))


@pytest.mark.slow
def test_review_files(snap_compare, example_app):
    """Review, Files tab: the workspace tree (cluster.yaml, gitops/…, talos/…, secrets/… marked 🔒) and
    cluster.yaml highlighted on the right."""

    async def files(pilot: Pilot) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("f")
        await pilot.pause()

    assert snap_compare(example_app, terminal_size=SIZE, run_before=to_step(6, files))


def test_wipe_dialog(snap_compare, example_app):
    """The wipe confirmation for a disk with data: the reasons, the hostname to type, Wipe dimmed."""

    async def wipe(pilot: Pilot) -> None:
        pilot.app.push_screen(
            WipeDialog("worker-1", "/dev/sdb (2.0 TB WDC WD20EFRX)", ["holds data: sdb1 xfs 'data'"])
        )
        await pilot.pause()

    assert snap_compare(example_app, terminal_size=SIZE, run_before=to_step(1, wipe))


def test_unsaved_dialog(snap_compare, example_app):
    """Quit with unsaved answers: Save (focused), Discard, Stay."""

    async def unsaved(pilot: Pilot) -> None:
        pilot.app.push_screen(UnsavedDialog("Quit Skynet?"))
        await pilot.pause()

    assert snap_compare(example_app, terminal_size=SIZE, run_before=to_step(0, unsaved))


def test_open_workspace_dialog(snap_compare, tmp_path, example_data, monkeypatch):
    """Open a workspace: the folder typed (the one found here), its state, Edit answers / Open (its console
    when its cluster is up, else its install resumed)."""
    monkeypatch.chdir(tmp_path)
    Path("homelab").mkdir()
    Path("homelab/cluster.yaml").write_text(yaml.safe_dump(example_data))

    async def open_dialog(pilot: Pilot) -> None:
        pilot.app.push_screen(OpenWorkspaceDialog(Path(".")))
        await pilot.pause()

    assert snap_compare(SkynetApp(), terminal_size=SIZE, run_before=to_step(0, open_dialog))
