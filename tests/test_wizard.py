"""The wizard: answers state and checks (pure), and Pilot runs typing through every step."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from contextlib import suppress
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from rich.console import Console
from textual.screen import Screen
from textual.widgets import Button, Checkbox, DataTable, Input, OptionList, Select, Static
from textual.worker import WorkerCancelled

from skynet_lab import state as state_mod
from skynet_lab.bin import install_fakes, lab_path
from skynet_tui import spec
from skynet_tui.app import SkynetApp
from skynet_tui.screens.wizard.fields import FieldRow
from skynet_tui.screens.wizard.review import answers_table
from skynet_tui.wizard import catalog, checks, machines, state
from skynet_tui.wizard.access import check_access
from skynet_tui.wizard.state import Answers
from tests.lab_helpers import make_lab
from tests.wizard_helpers import (
    SIZE,
    FakeInstall,
    choose,
    expected_answers,
    fill,
    focus,
    set_checkbox,
    type_into,
)

# ---------------------------------------------------------------- state (pure)


def test_locate_points_issue_paths_at_steps_and_fields():
    assert checks.locate("spec.loadBalancer.addresses[0]") == checks.Location(
        "network", "spec.loadBalancer.addresses"
    )
    assert checks.locate("spec.network.nameservers[1]").field == "spec.network.nameservers"
    assert checks.locate("spec.nodes[2].ip") == checks.Location("nodes", "spec.nodes", 2, "ip")
    assert checks.locate("spec.nodes") == checks.Location("nodes", "spec.nodes")
    assert checks.locate("spec.ingress.acme.dns01.tokenEnv").step == "domain"
    assert checks.locate("spec.gitops.credentials").field == "spec.gitops.credentials.sshKeyFile"
    assert checks.locate("spec.network").field == "spec.network.subnet"
    assert checks.locate("metadata.name").step == "cluster"


def test_text_round_trips_and_optional_objects_disappear_when_emptied():
    data = state.blank_answers()
    ns = catalog.FIELD_BY_PATH["spec.network.nameservers"]
    state.set_text(data, ns, "1.1.1.1, 9.9.9.9  8.8.8.8")
    assert data["spec"]["network"]["nameservers"] == ["1.1.1.1", "9.9.9.9", "8.8.8.8"]
    assert state.text_of(data, ns) == "1.1.1.1, 9.9.9.9, 8.8.8.8"
    token = catalog.FIELD_BY_PATH["spec.gitops.credentials.tokenEnv"]
    state.set_text(data, token, "GIT_TOKEN")
    assert data["spec"]["gitops"]["credentials"] == {"tokenEnv": "GIT_TOKEN"}
    state.set_text(data, token, "")
    assert "credentials" not in data["spec"]["gitops"]
    challenge = catalog.FIELD_BY_PATH["spec.ingress.acme.challenge"]
    state.set_value(data, "spec.ingress.acme.dns01.provider", "cloudflare")
    state.set_text(data, challenge, "http01")
    assert "dns01" not in data["spec"]["ingress"]["acme"]


def test_disk_and_link_texts():
    assert state.parse_disk_text("serial:S4EW 1") == {"serial": "S4EW 1"}
    assert state.parse_disk_text("wwid:naa.5") == {"wwid": "naa.5"}
    assert state.parse_disk_text("/dev/nvme0n1") == "/dev/nvme0n1"
    assert state.disk_text({"wwid": "naa.5"}) == "wwid:naa.5"
    node: dict[str, Any] = {"interface": "eth0"}
    state.set_link_text(node, "AA:bb:cc:dd:ee:01")
    assert node == {"mac": "AA:bb:cc:dd:ee:01"}
    state.set_link_text(node, "enp3s0")
    assert node == {"interface": "enp3s0"}


def test_field_errors_block_and_cross_field_issues_are_notes(example_data):
    data = copy.deepcopy(example_data)
    assert checks.check_step(data, "network").ok
    data["spec"]["network"]["gateway"] = "192.168.10.300"
    result = checks.check_step(data, "network")
    assert not result.ok
    assert "not an IPv4 address" in result.errors["spec.network.gateway"][0]
    assert checks.check_step(data, "domain").ok  # other steps are not blamed for it

    data = copy.deepcopy(example_data)
    data["spec"]["loadBalancer"]["addresses"] = ["192.168.10.11-192.168.10.20"]
    result = checks.check_step(data, "network")
    assert result.ok
    assert "contains 192.168.10.11" in result.notes["spec.loadBalancer.addresses"][0]


def test_cross_field_notes_show_before_the_later_steps_are_filled(example_data):
    # A new cluster at the network step: no domain, no GitOps yet; the pool clash is already listed.
    data = copy.deepcopy(example_data)
    del data["spec"]["ingress"], data["spec"]["gitops"], data["metadata"]["name"]
    data["spec"]["loadBalancer"]["addresses"] = ["192.168.10.12/32"]
    result = checks.check_step(data, "network")
    assert result.ok
    assert "the IP of node cp-2" in result.notes["spec.loadBalancer.addresses"][0]
    # ...while the step that owns the missing name still reports it.
    assert checks.check_step(data, "cluster").errors["metadata.name"] == ["is required"]


def test_node_checks(example_data):
    data = copy.deepcopy(example_data)
    node = {"hostname": "Bad_Name", "ip": "192.168.10.999", "role": "worker", "interface": "eno1"}
    errors = checks.check_node(data, 5, node)
    assert set(errors) == {"hostname", "ip"}
    assert checks.check_node(data, 5, {"hostname": "w", "ip": "192.168.10.30", "role": "worker"}) == {
        "mac": ["name the node's network link: interface (e.g. enp3s0, as discovery or `talosctl get links "
                "--insecure` shows it) or mac"]
    }  # fmt: skip
    ok = {"hostname": "worker-3", "ip": "192.168.10.11", "role": "worker", "interface": "eno1"}
    assert checks.check_node(data, 5, ok) == {}
    assert "already used by node cp-1" in checks.node_cross_issues(data, 5, ok)["ip"][0]
    assert state.suggest_hostname(data, "worker") == "worker-3"
    assert state.suggest_hostname(data, "controlplane") == "cp-4"
    assert state.suggest_role(data) == "worker"
    assert state.suggest_role(state.blank_answers()) == "controlplane"


def test_answers_save_a_draft_or_the_canonical_file(tmp_path, example_data):
    answers = Answers(workspace=str(tmp_path / "draft"))
    with pytest.raises(ValueError):
        Answers().save()
    state.set_value(answers.data, "metadata.name", "half")
    assert answers.dirty
    path = answers.save()
    assert not answers.dirty
    assert path.read_text().startswith(state.DRAFT_HEADER)
    reopened = Answers.from_file(path)
    assert reopened.data == answers.data and reopened.workspace == tmp_path / "draft"

    full = Answers(copy.deepcopy(example_data), str(tmp_path / "full"))
    text = full.save().read_text()
    assert text == spec.dump(spec.parse(example_data))
    other = Answers(copy.deepcopy(example_data), str(tmp_path / "full"))
    state.set_value(other.data, "metadata.name", "another")
    assert "holds the workspace of cluster 'homelab'" in checks.check_workspace(other)[1][0]


# ---------------------------------------------------------------- Pilot


def bare_repo(tmp_path: Path) -> str:
    repo = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(repo)], check=True)
    return f"file://{repo}"


async def wait_workers(app: SkynetApp, pilot: Any) -> None:
    with suppress(WorkerCancelled):
        await app.workers.wait_for_complete()
    await pilot.pause()


def control_value(screen: Screen[Any], path: str) -> Any:
    control = screen.query_one(f"#{catalog.widget_id(path)}")
    if isinstance(control, Select):
        return control.value
    assert isinstance(control, Input | Checkbox)
    return control.value


@pytest.mark.usefixtures("git")
@pytest.mark.slow
@pytest.mark.asyncio
async def test_every_step_typed_from_empty_writes_the_expected_cluster_yaml(tmp_path):
    expected = expected_answers()
    expected["spec"]["gitops"]["repoURL"] = bare_repo(tmp_path)
    env = {**os.environ, "PATH": lab_path(install_fakes(tmp_path / "bin"))}
    folder = tmp_path / "homelab"
    app = SkynetApp(env=env, bootstrap_factory=FakeInstall)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        await fill(pilot, "metadata.name", "homelab")
        await type_into(pilot, catalog.widget_id(catalog.WORKSPACE), str(folder))
        await pilot.press("ctrl+n")
        await pilot.pause()

        # Nodes: two, added by hand through the dialog.
        await pilot.press("a")
        await pilot.pause()
        assert app.screen.query_one("#f-node-hostname", Input).value == "cp-1"
        await type_into(pilot, "f-node-ip", "127.0.88.11")
        assert app.screen.query_one("#f-node-link", Input).value == ""  # no guessed link name
        await type_into(pilot, "f-node-link", "eth0")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        await choose(pilot, "f-node-role", "worker")
        assert app.screen.query_one("#f-node-hostname", Input).value == "worker-1"
        await type_into(pilot, "f-node-ip", "127.0.88.21")
        await type_into(pilot, "f-node-link", "aa:bb:cc:dd:ee:01")
        await type_into(pilot, "f-node-installDisk", "serial:S4EWNX0R1")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen.query_one("#nodes-table", DataTable).row_count == 2
        await pilot.press("ctrl+n")
        await pilot.pause()

        await fill(pilot, "spec.network.subnet", "127.0.88.0/24")
        await fill(pilot, "spec.network.gateway", "127.0.88.1")
        await fill(pilot, "spec.network.nameservers", "1.1.1.1")
        await fill(pilot, "spec.network.ntp", "pool.ntp.org")
        await fill(pilot, "spec.controlPlane.endpoint", "127.0.88.10")
        await fill(pilot, "spec.loadBalancer.addresses", "127.0.88.200-127.0.88.220")
        await pilot.press("ctrl+n")
        await pilot.pause()

        await fill(pilot, "spec.ingress.domain", "lab.example.com")
        await fill(pilot, "spec.ingress.acme.email", "ops@example.com")
        await choose(pilot, catalog.widget_id("spec.ingress.acme.challenge"), "dns01")
        await choose(pilot, catalog.widget_id("spec.ingress.acme.dns01.provider"), "cloudflare")
        await fill(pilot, "spec.ingress.acme.dns01.tokenEnv", "CF_API_TOKEN")
        await pilot.press("ctrl+n")
        await pilot.pause()

        await fill(pilot, "spec.gitops.repoURL", expected["spec"]["gitops"]["repoURL"])
        await pilot.press("ctrl+t")
        await wait_workers(app, pilot)
        result = str(app.screen.query_one("#access-result", Static).render())
        assert "✓ reachable; branch main does not exist yet" in result
        await pilot.press("ctrl+n")
        await pilot.pause()

        await set_checkbox(pilot, catalog.widget_id("spec.components.tracing"), False)
        await set_checkbox(pilot, catalog.widget_id("spec.components.imageSecurity"), True)
        await pilot.press("ctrl+n")
        await wait_workers(app, pilot)

        assert type(app.screen).__name__ == "ReviewStep"
        assert not app.screen.query_one("#next", Button).disabled
        await pilot.press("ctrl+n")
        await wait_workers(app, pilot)
        await pilot.pause()
        assert isinstance(app.screen, FakeInstall), app.screen
        installed = app.screen

    want = spec.dump(spec.parse(expected))
    assert (folder / "cluster.yaml").read_text() == want
    assert spec.dump(installed.cluster) == want
    assert installed.ws.root == folder.resolve()
    assert installed.env is env
    assert (folder / "talos" / "nodes" / "worker-1.yaml").is_file()
    assert (folder / "gitops" / "bootstrap" / "root.yaml").is_file()
    assert (folder / "secrets" / "nodes" / "cp-1.yaml").stat().st_mode & 0o777 == 0o600


@pytest.mark.slow
@pytest.mark.asyncio
async def test_an_answers_file_opens_with_every_field_prefilled(tmp_path):
    expected = expected_answers()
    expected["spec"]["gitops"]["repoURL"] = "git@github.com:example/homelab.git"
    data = spec.to_data(spec.parse(expected))
    path = tmp_path / "cluster.yaml"
    path.write_text(spec.dump(spec.parse(expected)))
    app = SkynetApp(config=path, workspace=tmp_path / "ws")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        seen = []
        for step in catalog.STEP_IDS[:-1]:
            screen = app.screen
            assert step == screen.STEP
            if step == "nodes":
                table = screen.query_one("#nodes-table", DataTable)
                rows = [table.get_row_at(i) for i in range(table.row_count)]
                assert [row[1:] for row in rows] == [
                    ["cp-1", "127.0.88.11", "controlplane", "/dev/sda", "eth0", "-"],
                    ["worker-1", "127.0.88.21", "worker", "serial:S4EWNX0R1", "aa:bb:cc:dd:ee:01", "-"],
                ]
            for row in screen.query(FieldRow):
                path_ = row.spec_field.path
                if path_ == catalog.WORKSPACE:
                    assert control_value(screen, path_) == str(tmp_path / "ws")
                    continue
                want = state.get_value(data, path_)
                if row.spec_field.kind == "list":
                    want = ", ".join(want)
                assert control_value(screen, path_) == ("" if want is None else want), path_
                seen.append(path_)
            assert not screen.query_one("#next", Button).disabled
            await pilot.press("ctrl+n")
            await pilot.pause()
        assert app.screen.STEP == "review"
        assert not app.wizard.answers.dirty
    assert set(seen) == {f.path for f in catalog.FIELDS} - {catalog.WORKSPACE}


@pytest.mark.slow
@pytest.mark.asyncio
async def test_an_invalid_ip_keeps_the_step_with_the_message_visible(tmp_path, example_data):
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(example_data))
    app = SkynetApp(config=path, workspace=tmp_path / "ws")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+n", "ctrl+n")
        await pilot.pause()
        screen = app.screen
        assert screen.STEP == "network"
        await fill(pilot, "spec.network.gateway", "192.168.10.300")
        row = screen.query_one(f"#row-{catalog.widget_id('spec.network.gateway')}", FieldRow)
        error = row.query_one(".field-error", Static)
        assert "✗ '192.168.10.300' is not an IPv4 address" in str(error.render())
        assert error.display and error.region.height >= 1  # on screen, not just in the DOM
        assert "Gateway" in str(screen.query_one("#step-status", Static).render())
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen is screen  # Next stays on the step, with the field focused
        assert app.focused is row.control
        await fill(pilot, "spec.network.gateway", "192.168.10.1")
        assert not str(error.render())


@pytest.mark.slow
@pytest.mark.asyncio
async def test_back_keeps_what_was_typed(tmp_path):
    app = SkynetApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        await fill(pilot, "metadata.name", "keepme")
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.STEP == "cluster"
        assert app.screen.query_one(f"#{catalog.widget_id('metadata.name')}", Input).value == "keepme"


@pytest.mark.slow
@pytest.mark.asyncio
async def test_a_pool_over_a_node_ip_is_listed_on_review_and_the_jump_focuses_the_field(
    tmp_path, example_data
):
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(example_data))
    app = SkynetApp(config=path, workspace=tmp_path / "ws")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+n", "ctrl+n")
        await pilot.pause()
        await fill(pilot, "spec.loadBalancer.addresses", "192.168.10.11-192.168.10.20")
        assert not app.screen.query_one("#next", Button).disabled  # a cross-field issue: listed on review
        await pilot.press("ctrl+r")
        await wait_workers(app, pilot)
        review = app.screen
        assert review.STEP == "review"
        problems = review.query_one("#review-problems", OptionList)
        texts = [str(problems.get_option_at_index(i).prompt) for i in range(problems.option_count)]
        assert any("MetalLB pool" in t and "contains 192.168.10.11" in t for t in texts), texts
        assert review.query_one("#next", Button).disabled
        assert app.focused is problems
        index = next(i for i, t in enumerate(texts) if "contains 192.168.10.11" in t)
        for _ in range(index):
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        assert app.screen.STEP == "network"
        assert app.focused is not None and app.focused.id == catalog.widget_id("spec.loadBalancer.addresses")


@pytest.mark.slow
@pytest.mark.asyncio
async def test_a_node_problem_jumps_into_the_node_dialog(tmp_path, example_data):
    data = copy.deepcopy(example_data)
    data["spec"]["nodes"][2]["ip"] = "192.168.10.11"  # the same as cp-1
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(data))
    app = SkynetApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.open_workspace(tmp_path, resume=False)  # a workspace whose answers have a cross-field error
        await pilot.pause()
        await pilot.press("ctrl+r")
        await wait_workers(app, pilot)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        assert type(app.screen).__name__ == "NodeDialog"
        assert app.focused is not None and app.focused.id == "f-node-ip"
        assert "already used by node cp-1" in str(
            app.screen.query_one("#row-f-node-ip").query_one(".field-note", Static).render()
        )


@pytest.mark.slow
@pytest.mark.lab
@pytest.mark.asyncio
async def test_discovery_lists_lab_nodes_with_disks_and_a_data_disk_needs_the_typed_hostname(tmp_path):
    with make_lab(tmp_path, 2, 0) as lab:
        app = SkynetApp(env=lab.env())
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("n")
            await pilot.pause()
            await fill(pilot, "metadata.name", "lab")
            await pilot.press("ctrl+n")
            await pilot.pause()
            await pilot.press("s")
            await pilot.pause()
            screen = app.screen
            assert type(screen).__name__ == "DiscoveryScreen"
            await type_into(pilot, "scan-cidr", lab.subnet)
            await pilot.press("enter")
            await wait_workers(app, pilot)
            found = screen.query_one("#found", DataTable)
            rows = [found.get_row_at(i) for i in range(found.row_count)]
            assert [row[0] for row in rows] == lab.node_ips
            assert all("sda" in row[1] for row in rows), rows
            # The highlighted machine's disks, each with its check.
            disks = screen.query_one("#disks", DataTable)
            checks = [disks.get_row_at(i)[1] for i in range(disks.row_count)]
            reported = app.wizard.hardware[lab.node_ips[0]].disks
            assert [disks.get_row_at(i)[0] for i in range(disks.row_count)] == [d.dev_path for d in reported]
            assert "ok" in checks
            assert any(check.startswith("holds data") for check in checks)
            assert any(check.startswith("boot medium") for check in checks)

            # A machine whose disks are all fine but one: the suggested, unflagged disk pinned by serial, its
            # up link; and a machine with a data disk, which is picked by hand and needs the typed hostname.
            hardware = app.wizard.hardware
            data_ip = next(ip for ip in lab.node_ips if any(d.volumes for d in hardware[ip].disks))
            plain_ip = next(ip for ip in lab.node_ips if ip != data_ip)
            await focus(pilot, "found")
            for _ in range(lab.node_ips.index(plain_ip)):
                await pilot.press("down")
            await pilot.press("enter")
            await pilot.pause()
            dialog = app.screen
            assert dialog.query_one("#f-node-ip", Input).value == plain_ip
            assert dialog.query_one("#f-node-hostname", Input).value == "cp-1"
            suggested = hardware[plain_ip].suggested_disk()
            assert suggested is not None and suggested.serial
            assert dialog.query_one("#f-node-installDisk", Input).value == f"serial:{suggested.serial}"
            assert dialog.query_one("#f-node-link", Input).value == hardware[plain_ip].suggested_link().name
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert app.screen is screen
            assert found.get_row_at(lab.node_ips.index(plain_ip))[4] == "added as cp-1"
            # The certificate read over TLS is the one the machine's console shows, and it is pinned.
            console = next(n for n in state_mod.load_stored_nodes(lab.root) if n["ip"] == plain_ip)[
                "fingerprint"
            ]
            assert hardware[plain_ip].fingerprint == console
            assert found.get_row_at(lab.node_ips.index(plain_ip))[3] == console[:10] + "…"
            added = next(n for n in app.wizard.answers.data["spec"]["nodes"] if n["ip"] == plain_ip)
            assert added["certFingerprint"] == console and "maintenanceAddress" not in added

            await focus(pilot, "found")
            found.move_cursor(row=lab.node_ips.index(data_ip))
            await pilot.press("enter")
            await pilot.pause()
            dialog = app.screen
            await focus(pilot, "disk-table")
            table = dialog.query_one("#disk-table", DataTable)
            data_row = next(
                i for i in range(table.row_count) if table.get_row_at(i)[1].startswith("holds data")
            )
            for _ in range(data_row):
                await pilot.press("down")
            await pilot.press("enter")
            await pilot.pause()
            disk_text = dialog.query_one("#f-node-installDisk", Input).value
            data_disk = next(d for d in hardware[data_ip].disks if d.volumes)
            assert disk_text == f"serial:{data_disk.serial}"
            await choose(pilot, "pin", "wwid")  # pinned by WWID instead
            disk_text = dialog.query_one("#f-node-installDisk", Input).value
            assert disk_text == f"wwid:{data_disk.wwid}"
            await pilot.press("ctrl+s")
            await pilot.pause()
            wipe = app.screen
            assert type(wipe).__name__ == "WipeDialog"
            await pilot.press(*"cp-9")
            await pilot.pause()
            assert wipe.query_one("#wipe-confirm", Button).disabled
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is wipe  # the wrong name confirms nothing
            await pilot.press("backspace", "2")
            await pilot.pause()
            assert not wipe.query_one("#wipe-confirm", Button).disabled
            await pilot.press("enter")
            await pilot.pause()
            await pilot.pause()
            assert app.screen is screen
            nodes = app.wizard.answers.data["spec"]["nodes"]
            assert [n["ip"] for n in nodes] == [plain_ip, data_ip]
            assert state.disk_text(nodes[1]["installDisk"]) == disk_text
            assert app.wizard.answers.data["spec"]["network"]["subnet"] == lab.subnet


@pytest.mark.slow
@pytest.mark.lab
@pytest.mark.asyncio
async def test_a_machine_found_on_its_dhcp_lease_keeps_the_lease_as_its_maintenance_address(tmp_path):
    with make_lab(tmp_path, 1, 0, leases=1) as lab:
        stored = state_mod.load_stored_nodes(lab.root)[0]
        lease, final, console = stored["lease"], stored["ip"], stored["fingerprint"]
        app = SkynetApp(env=lab.env())
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("n")
            await pilot.pause()
            await fill(pilot, "metadata.name", "lab")
            await pilot.press("ctrl+n")
            await pilot.pause()
            await pilot.press("s")
            await pilot.pause()
            screen = app.screen
            await type_into(pilot, "scan-cidr", lab.subnet)
            await pilot.press("enter")
            await wait_workers(app, pilot)
            found = screen.query_one("#found", DataTable)
            assert [found.get_row_at(i)[0] for i in range(found.row_count)] == [lease]
            await focus(pilot, "found")
            await pilot.press("enter")
            await pilot.pause()
            dialog = app.screen
            identity = dialog.query_one("#node-identity", Static)
            assert dialog.query_one("#f-node-ip", Input).value == lease
            assert str(identity.render()) == f"Certificate {console}, pinned: check it on the console"
            await type_into(pilot, "f-node-ip", final)  # the static address it keeps
            assert str(identity.render()).splitlines()[0] == (
                f"Answers at {lease} until its install (its DHCP lease), then at {final}."
            )
            assert dialog.query_one("#disk-heading", Static).display  # still this machine's disks
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert app.screen is screen
            (node,) = app.wizard.answers.data["spec"]["nodes"]
            link = app.wizard.hardware[lease].suggested_link()
            assert link is not None
            assert node | {"installDisk": None} == {
                "hostname": "cp-1", "ip": final, "role": "controlplane", "installDisk": None,
                "interface": link.name, "maintenanceAddress": lease, "certFingerprint": console,
            }  # fmt: skip
            assert checks.check_node(app.wizard.answers.data, 0, node) == {}
            assert found.get_row_at(0)[4] == "added as cp-1"
            await pilot.press("escape")
            await pilot.pause()
            row = app.screen.query_one("#nodes-table", DataTable).get_row_at(0)
            assert row[2:] == [f"{final} (now {lease})", "controlplane", node_disk_text(node), link.name,
                               console[:10] + "…"]  # fmt: skip


def node_disk_text(node: dict) -> str:
    return state.disk_text(node["installDisk"])


def test_the_review_lists_a_nodes_maintenance_address_and_fingerprint(example_data):
    data = copy.deepcopy(example_data)
    fingerprint = "j8iNuGT6IsHyWS0K8D5r5KJXy+ba0Tt3ZnsdDGgb/ec="
    data["spec"]["nodes"][3] |= {"maintenanceAddress": "192.168.10.143", "certFingerprint": fingerprint}
    console = Console(width=300, record=True, color_system=None)
    console.print(answers_table(data, SimpleNamespace(answers=SimpleNamespace(workspace="homelab"))))
    lines = {line.split()[0]: line for line in console.export_text().splitlines() if line.strip()}
    assert f"until its install at 192.168.10.143  certificate {fingerprint}" in lines["worker-1"]
    assert "until its install" not in lines["worker-2"] and "certificate" not in lines["worker-2"]


def test_release_channel_and_address_notes():
    data = state.blank_answers()
    assert (
        checks.talos_help(data)
        == "v1.13.9 is stable; v1.14.0-rc.1 is a release candidate (type it to opt in)"
    )
    state.set_value(data, "spec.talos.version", "v1.14.0-rc.1")
    assert checks.talos_help(data).startswith("v1.14.0-rc.1 is a release candidate: a pre-release")
    assert checks.kubernetes_help(data) == (
        "Talos v1.14 (release candidate) supports 1.32.0 – 1.37.x (default 1.37.0-rc.0)"
    )
    node = {"ip": "192.168.10.11", "certFingerprint": "j8iNuGT6IsHyWS0K8D5r5KJXy+ba0Tt3ZnsdDGgb/ec="}
    assert machines.address_note(node) == "" and machines.short_fingerprint(node) == "j8iNuGT6Is…"
    node["maintenanceAddress"] = "192.168.10.143"
    assert machines.address_note(node) == (
        "Answers at 192.168.10.143 until its install (its DHCP lease), then at 192.168.10.11."
    )
    assert machines.short_fingerprint({}) == "-"


@pytest.mark.usefixtures("git")
def test_check_access_reads_the_remote_without_prompting(tmp_path, monkeypatch):
    url = bare_repo(tmp_path)
    missing = check_access(url, "main")
    assert missing.ok and "does not exist yet" in missing.message
    work = tmp_path / "work"
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    ident = ["-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "-C", str(work), *ident, "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    subprocess.run(["git", "-C", str(work), "push", "-q", url, "main"], check=True)
    found = check_access(url, "main")
    assert found.ok and "branch main is at" in found.message
    gone = check_access(f"file://{tmp_path}/nothing.git", "main")
    assert not gone.ok and "does not appear to be a git repository: no such repository" in gone.message
    assert "Could not read from remote repository" not in gone.message  # the cause, not git's last line
    monkeypatch.delenv("SKYNET_TEST_TOKEN", raising=False)
    no_token = check_access(url, "main", token_env="SKYNET_TEST_TOKEN")
    assert not no_token.ok and "SKYNET_TEST_TOKEN is not set" in no_token.message
    no_key = check_access(url, "main", ssh_key_file=str(tmp_path / "absent_key"))
    assert not no_key.ok and "does not exist" in no_key.message


@pytest.mark.asyncio
async def test_a_required_field_says_so_once_left_empty():
    app = SkynetApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        row = app.screen.query_one(f"#row-{catalog.widget_id('metadata.name')}", FieldRow)
        error = row.query_one(".field-error", Static)
        assert not str(error.render())  # untouched: no shouting yet
        await pilot.press("tab")
        await pilot.pause()
        assert str(error.render()) == "✗ Cluster name is required"  # the message names its field


@pytest.mark.slow
@pytest.mark.asyncio
async def test_review_f_switches_to_the_files_and_back(tmp_path, example_data):
    from textual.widgets import TabbedContent

    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(example_data))
    app = SkynetApp(config=path, workspace=tmp_path / "ws")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+r")
        await pilot.pause()
        tabs = app.screen.query_one("#review-tabs", TabbedContent)
        await pilot.press("f")
        await pilot.pause()
        assert tabs.active == "tab-files"
        await pilot.press("f")
        await pilot.pause()
        assert tabs.active == "tab-summary"


def test_the_version_range_blocks_the_cluster_step_as_typed():
    data = {"metadata": {"name": "lab"}, "spec": {"talos": {"version": "v1.13.9"}}}
    data["spec"]["kubernetes"] = {"version": "1.40.0"}
    errors = checks.check_step(data, "cluster").errors
    assert "support range 1.31.0 – 1.36.x" in errors["spec.kubernetes.version"][0]
    data["spec"]["kubernetes"]["version"] = "1.36.3"
    assert checks.check_step(data, "cluster").ok


def test_the_wizard_model_loads_without_textual():
    package = Path(catalog.__file__).parent
    modules = sorted(
        f"skynet_tui.wizard.{path.stem}" for path in package.glob("*.py") if path.stem != "__init__"
    )
    code = "import sys\n" + "".join(f"import {module}\n" for module in modules)
    code += (
        "views = ('textual', 'rich', 'skynet_tui.screens', 'skynet_tui.widgets', 'skynet_tui.app')\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(views))\n"
        "assert not loaded, loaded\n"
    )
    assert len(modules) >= 5
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_wizard_offers_exactly_the_specs_dns01_providers():
    schema = spec.json_schema()["$defs"]["Dns01"]["properties"]["provider"]
    spec_providers = next(member["enum"] for member in schema["anyOf"] if "enum" in member)
    offered = [value for _label, value in catalog.FIELD_BY_PATH["spec.ingress.acme.dns01.provider"].choices]
    assert offered == spec_providers
    assert "rfc2136" not in offered


def test_choices_defaults_and_help_come_from_the_model():
    for field in catalog.FIELDS + catalog.NODE_FIELDS:
        assert field.help, field.path
        assert len(field.help) <= 80, f"{field.path}: the help should fit one line at 100 columns"
        if field.kind == "choice":
            model_path = field.path if field.path.startswith("spec.") else "spec.nodes." + field.path[5:]
            assert tuple(value for _label, value in field.choices) == spec.choices(model_path)
    assert catalog.FIELD_BY_PATH["spec.network.subnet"].help == spec.help_line("spec.network.subnet")
    assert state.blank_answers() == spec.defaults()


def test_the_link_input_pins_a_mac_exactly_when_spec_reads_one():
    for text in ("aa:bb:cc:dd:ee:01", "AA:BB:CC:DD:EE:01", "aa-bb-cc-dd-ee-01", "aa:bb:cc:dd:ee", "enp3s0"):
        node: dict[str, Any] = {}
        state.set_link_text(node, text)
        assert ("mac" in node) == spec.is_mac(text), text
