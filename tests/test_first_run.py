"""The first run as a newcomer meets it: `skynet demo` walks the wizard from its first step to the console."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from textual.widgets import Input, Label, Select, Static

from skynet_tui import events, spec
from skynet_tui.__main__ import main
from skynet_tui.app import DemoArgs, SkynetApp
from skynet_tui.plan import Plan, Step
from skynet_tui.plan.install import install_plan
from skynet_tui.runner import Runner
from skynet_tui.screens.dialogs import DIALOG_CSS, ConfirmDialog
from skynet_tui.screens.wizard.fields import FieldRow, TitleBar
from skynet_tui.wizard import catalog, checks, state
from skynet_tui.wizard.access import explain_failure
from skynet_tui.wizard.catalog import FIELD_BY_PATH, STEP_IDS
from skynet_tui.wizard.state import Answers
from skynet_tui.wizard.suggest import network_suggestions
from skynet_tui.workspace import Workspace
from tests.bootstrap_helpers import wait_until
from tests.lab_helpers import FAST_LATENCY

SIZE = (120, 40)


@pytest.mark.usefixtures("git")
@pytest.mark.slow
@pytest.mark.lab
@pytest.mark.asyncio
async def test_the_interactive_demo_walks_from_the_first_step_to_the_console_with_ctrl_n_only(
    tmp_path: Path,
) -> None:
    from skynet_tui.demo import demo_env, prepare_demo
    from skynet_tui.screens.bootstrap import BootstrapScreen
    from skynet_tui.screens.console import ConsoleScreen

    lab, cluster, ws = prepare_demo(tmp_path / "demo", "1+1", latency=dict(FAST_LATENCY))
    try:
        env = {**demo_env(lab), "SKYNET_TIMING_SCALE": "0.01"}
        app = SkynetApp(demo=DemoArgs(cluster, ws, env))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            seen = []
            for step in STEP_IDS:
                await wait_until(
                    pilot, lambda step=step: getattr(app.screen, "STEP", None) == step, what=step
                )
                seen.append(step)
                wizard = app.wizard
                assert wizard is not None and "SIMULATED LAB" in wizard.heading()
                assert app.screen.result.ok, (step, app.screen.result)
                await pilot.press("ctrl+n")
            assert seen == list(STEP_IDS)  # the first step is the cluster's, not the review
            await wait_until(pilot, lambda: isinstance(app.screen, BootstrapScreen), what="the install")
            install = app.screen
            assert isinstance(install, BootstrapScreen)
            await wait_until(
                pilot, lambda: install.phase in ("succeeded", "failed"), timeout=240, what="the install's end"
            )
            assert install.phase == "succeeded"
            await pilot.press("enter")  # "Install complete": continue
            await wait_until(pilot, lambda: isinstance(app.screen, ConsoleScreen), what="the console")
            assert (ws.root / "cluster.yaml").is_file()
    finally:
        lab.stop()


# ---------------------------------------------------------------- one test per item (3–12) of the first run


def demo_app(example_data: dict[str, Any], tmp_path: Path) -> SkynetApp:
    data = dict(example_data, metadata={"name": "lab"})
    return SkynetApp(demo=DemoArgs(spec.parse(data), Workspace.at(tmp_path / "lab"), env={}))


@pytest.mark.asyncio
async def test_3_the_palette_during_a_demo_offers_no_second_lab_nor_another_cluster(tmp_path, example_data):
    app = demo_app(example_data, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screen.STEP == "cluster"
        for screen in (app.screen, app.screen_stack[1]):  # the step, and the welcome screen under it
            titles = {command.title for command in app.get_system_commands(screen)}
            assert not {"Lab demo", "New cluster", "Open a workspace", "Console", "Upgrades"} & titles
        assert "Save answers" in {c.title for c in app.get_system_commands(app.screen)}
        app.action_lab_demo()  # the welcome's l key cannot start a second lab either
        await pilot.pause()
        assert app.lab is None and not app.workers


@pytest.mark.asyncio
async def test_4_examples_are_marked_hints_and_the_network_step_fills_in_values_from_the_nodes(example_data):
    app = SkynetApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        name = app.screen.query_one(f"#{catalog.widget_id('metadata.name')}", Input)
        assert name.value == "" and name.placeholder == "e.g. homelab"
        data = example_data
        for path in ("spec.network.subnet", "spec.network.gateway"):
            state.set_value(data, path, None)
        del data["spec"]["controlPlane"], data["spec"]["loadBalancer"]
        app.wizard = None
        app.pop_screen()
        app.start_wizard(Answers(data, "homelab"), step="network")
        await pilot.pause()
        values = {
            path: app.screen.query_one(f"#{catalog.widget_id(path)}", Input).value
            for path in ("spec.network.subnet", "spec.network.gateway", "spec.controlPlane.endpoint")
        }
        assert values == {
            "spec.network.subnet": "192.168.10.0/24",
            "spec.network.gateway": "192.168.10.1",
            "spec.controlPlane.endpoint": "192.168.10.10",  # three control planes share a free VIP
        }
        assert app.screen.result.ok
    one_cp = {"spec": {"nodes": [{"hostname": "cp-1", "ip": "10.0.5.7", "role": "controlplane"}]}}
    assert network_suggestions(one_cp) == {
        "spec.network.subnet": "10.0.5.0/24",
        "spec.network.gateway": "10.0.5.1",
        "spec.controlPlane.endpoint": "10.0.5.7",
        "spec.controlPlane.vip": False,
        "spec.loadBalancer.addresses": ["10.0.5.200-10.0.5.220"],
    }
    assert network_suggestions({"spec": {"nodes": []}}) == {}


@pytest.mark.asyncio
async def test_5_next_on_a_step_with_errors_shows_every_error_and_focuses_the_first():
    app = SkynetApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        app.wizard.open("network")
        await pilot.pause()
        rows = {row.spec_field.path: row for row in app.screen.query(FieldRow)}
        error = rows["spec.network.gateway"].query_one(".field-error", Static)
        assert not str(error.render())  # nothing shouted before Next
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen.STEP == "network"
        shown = {path: str(row.query_one(".field-error", Static).render()) for path, row in rows.items()}
        for path, label in (
            ("spec.network.subnet", "Node subnet"),
            ("spec.network.gateway", "Gateway"),
            ("spec.controlPlane.endpoint", "API endpoint"),
            ("spec.loadBalancer.addresses", "MetalLB pool"),
        ):
            assert shown[path] == f"✗ {label} is required"
        assert app.focused is rows["spec.network.subnet"].control


def test_6_messages_name_fields_by_label_and_nodes_by_hostname(tmp_path, example_data, capsys):
    assert checks.operator_text("192.168.10.0/28 overlaps spec.loadBalancer.addresses[0]") == (
        "192.168.10.0/28 overlaps MetalLB pool entry 1"
    )
    assert checks.operator_text("10.0.0.9 is also the IP of spec.nodes[2] (cp-3)") == (
        "10.0.0.9 is also the IP of node cp-3"
    )
    assert checks.operator_text("10.96.0.0/12 overlaps network.subnet 10.0.0.0/8") == (
        "10.96.0.0/12 overlaps Node subnet 10.0.0.0/8"
    )
    example_data["spec"]["nodes"][3]["ip"] = "192.168.10.300"
    result = checks.check_step(example_data, "nodes")
    assert result.node_errors[3][0].startswith("IP address: '192.168.10.300' is not an IPv4 address")
    assert checks.node_name(example_data, 3) == "node worker-1"
    # The command line keeps the path and adds the hostname; a missing file cannot be read, not "invalid".
    bad = tmp_path / "cluster.yaml"
    bad.write_text(yaml.safe_dump(example_data))
    assert main(["plan", "--config", str(bad)]) == 2
    assert "spec.nodes[3].ip (worker-1): '192.168.10.300' is not an IPv4 address" in capsys.readouterr().err
    assert main(["plan", "--config", str(tmp_path / "absent.yaml")]) == 2
    err = capsys.readouterr().err
    assert f"cannot read {tmp_path / 'absent.yaml'}" in err and "invalid" not in err
    # Domain names are case-insensitive: normalised, not refused.
    example_data["spec"]["nodes"][3]["ip"] = "192.168.10.21"
    example_data["spec"]["ingress"]["domain"] = "Example.COM"
    assert spec.parse(example_data).spec.ingress.domain == "example.com"


@pytest.mark.asyncio
async def test_6_a_missing_dns_provider_and_token_are_problems_of_the_step_not_clashes(example_data):
    example_data["spec"]["ingress"]["acme"]["challenge"] = "dns01"
    app = SkynetApp()
    async with app.run_test(size=SIZE) as pilot:
        app.start_wizard(Answers(example_data, "homelab"), step="domain")
        await pilot.pause()
        status = str(app.screen.query_one("#step-status", Static).render())
        assert "clash" not in status and ("problem" in status or "to fix:" in status), status


@pytest.mark.asyncio
async def test_7_the_node_dialog_flags_an_ip_on_the_gateway_vip_or_pool_and_required_choices_have_no_blank(
    example_data,
):
    node = {
        "hostname": "worker-3",
        "ip": "",
        "role": "worker",
        "installDisk": "/dev/sda",
        "interface": "eth0",
    }
    for ip, where in (
        ("192.168.10.1", "Gateway: 192.168.10.1 is also the IP of node worker-3"),
        ("192.168.10.10", "API endpoint: the VIP 192.168.10.10 is also the IP of node worker-3"),
        ("192.168.10.205", "MetalLB pool: 192.168.10.200-192.168.10.220 contains 192.168.10.205"),
    ):
        notes = checks.node_cross_issues(example_data, 5, dict(node, ip=ip))
        assert any(note.startswith(where) for note in notes.get("ip", [])), (ip, notes)
    assert checks.node_cross_issues(example_data, 5, dict(node, ip="192.168.10.31")) == {}
    assert FIELD_BY_PATH["spec.ingress.acme.server"].default == "staging"
    del example_data["spec"]["ingress"]["acme"]["server"]
    app = SkynetApp()
    async with app.run_test(size=SIZE) as pilot:
        app.start_wizard(Answers(example_data, "homelab"), step="domain")
        await pilot.pause()
        for path, value in (
            ("spec.ingress.acme.server", "staging"),
            ("spec.ingress.acme.challenge", "http01"),
        ):
            select = app.screen.query_one(f"#{catalog.widget_id(path)}", Select)
            assert select.value == value and not select._allow_blank


@pytest.mark.asyncio
async def test_8_delete_asks_first_e_is_in_the_footer_f1_shows_the_keys_and_dialogs_share_one_style(
    example_data,
):
    from textual.widgets import HelpPanel

    from skynet_tui.screens.bootstrap import ConfirmAbort

    app = SkynetApp()
    async with app.run_test(size=SIZE) as pilot:
        app.start_wizard(Answers(example_data, "homelab"), step="nodes")
        await pilot.pause()
        nodes = app.screen
        shown = {active.binding.key for active in app.active_bindings.values() if active.binding.show}
        assert {"a", "e", "s"} <= shown  # e (edit) in the footer; F1 is too wide for it at 80 columns
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog) and app.screen.title_text == "Delete node cp-1?"
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is nodes and len(nodes.nodes) == 5
        await pilot.press("d", "y")
        await pilot.pause()
        assert [n["hostname"] for n in nodes.nodes][0] == "cp-2" and len(nodes.nodes) == 4
        await pilot.press("f1")
        await pilot.pause()
        assert app.screen.query(HelpPanel)
        await pilot.press("f1")
        await pilot.pause()
        assert not app.screen.query(HelpPanel)
    assert issubclass(ConfirmAbort, ConfirmDialog)
    assert DIALOG_CSS.format(name="ConfirmAbort") == ConfirmAbort.DEFAULT_CSS


@pytest.mark.asyncio
async def test_9_a_rescan_of_an_empty_range_reports_no_machine_not_the_count_of_the_scan_before(
    example_data, monkeypatch
):
    from skynet_tui import discovery
    from skynet_tui.screens.wizard.discover import DiscoveryScreen
    from tests.test_snapshots_wizard import canned_hardware

    monkeypatch.setattr(discovery, "scan", lambda cidr, **kw: [])
    app = SkynetApp()
    async with app.run_test(size=SIZE) as pilot:
        wizard = app.start_wizard(Answers(example_data, "homelab"), step="nodes")
        await pilot.pause()
        wizard.hardware.update(canned_hardware())
        screen = DiscoveryScreen(wizard)
        app.push_screen(screen)
        await pilot.pause()
        assert len(screen.found) == 3  # the scan before
        screen.query_one("#scan-cidr", Input).value = "192.168.20.0/29"
        screen.action_scan()
        await app.workers.wait_for_complete()
        await pilot.pause()
        status = str(screen.query_one("#scan-status", Static).render())
        assert screen.found == [] and "No machine answered" in status and "found" not in status


@pytest.mark.asyncio
async def test_10_long_titles_and_log_lines_wrap_instead_of_being_cut(tmp_path, example_data):
    from textual.app import App

    from skynet_tui.widgets.logview import LineBuffer, LogView, make_entry

    deep = tmp_path / ("a-rather-long-folder-name-" * 3) / "homelab"
    app = SkynetApp()
    async with app.run_test(size=(80, 24)) as pilot:
        app.start_wizard(Answers(example_data, str(deep)))
        await pilot.pause()
        title = app.screen.query_one(TitleBar)
        assert len(app.wizard.heading()) > 80 and title.region.height >= 2
        assert str(deep) in "".join(str(title.render()).split("\n"))

    class Log(App[None]):
        def compose(self):
            yield LogView(wrap=True)

    log_app = Log()
    async with log_app.run_test(size=(40, 8)) as pilot:
        view = log_app.query_one(LogView)
        buffer = LineBuffer(10)
        buffer.extend([make_entry("x" * 70 + "END", tag="cp-1")])
        view.show(buffer)
        await pilot.pause()
        rows = [view.render_line(y).text for y in range(3)]
        assert rows[0].startswith("cp-1  xxx") and "END" in "".join(rows)  # nothing cut
        view.wrap = False
        await pilot.pause()
        assert view.max_scroll_x > 0  # one row, scrolled sideways


def test_10_the_failure_panel_names_the_bundle_and_logs_in_the_workspace_with_its_folder_on_a_line_of_its_own(
    tmp_path,
):
    from skynet_tui.progress import Phase, RunProgress
    from skynet_tui.screens.bootstrap.texts import summary_text

    ws = Workspace.at(tmp_path / ("a-rather-long-folder-name-" * 3) / "homelab")
    bundle = ws.root / "support-bundle-20261203-091500.tar.gz"
    state = RunProgress(
        phase=Phase.FAILED,
        result=events.PlanFinished(ok=False, summary="apply-config failed", support_bundle=str(bundle)),
    )
    lines = summary_text(state, ws).splitlines()
    assert "Support bundle (redacted): support-bundle-20261203-091500.tar.gz" in lines
    assert str(ws.root) in lines  # the whole folder, alone on its line: it wraps, it is never split mid-text
    assert all(len(line) <= 76 for line in lines if line != str(ws.root))


@pytest.mark.slow
@pytest.mark.asyncio
async def test_10_a_file_chosen_in_the_review_tree_shows_its_whole_path(tmp_path, example_data, monkeypatch):
    from textual.widgets import Tree

    monkeypatch.chdir(tmp_path)
    Path("cluster.yaml").write_text(yaml.safe_dump(example_data, sort_keys=False))
    app = SkynetApp(config=Path("cluster.yaml"), workspace=Path("homelab"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        goto = next(c for c in app.get_system_commands(app.screen) if c.title == "Go to step: Review")
        goto.callback()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("f")
        await pilot.pause()
        tree = app.screen.query_one("#file-tree", Tree)
        deepest = max(app.screen.files, key=len)
        nodes, stack = [], [tree.root]
        while stack:
            node = stack.pop()
            nodes.append(node)
            stack.extend(node.children)
        target = next(node for node in nodes if node.data == deepest)
        for parent in (p for p in nodes if target in p.children):  # secrets/ starts folded
            parent.expand()
        await pilot.pause()
        tree.move_cursor(target)
        await pilot.pause()
        assert len(deepest) > tree.size.width  # the tree cuts it …
        assert app.screen.query_one("#file-view-scroll").border_title == deepest  # … the view names it whole


def test_11_the_install_title_says_how_it_ended_and_a_step_that_holds_before_it_runs_has_nothing_to_do(
    example_data, tmp_path
):
    from skynet_tui.screens.bootstrap import BootstrapScreen
    from tests.bootstrap_helpers import Host, ScriptedFactory, run, success_script

    screen = BootstrapScreen(spec.parse(example_data), Workspace.at(tmp_path / "ws"))
    assert screen.title_text() == "Skynet · installing cluster homelab"
    screen = BootstrapScreen(
        spec.parse(example_data),
        Workspace.at(tmp_path / "ws"),
        runner_factory=ScriptedFactory(success_script()),
    )

    async def scenario() -> None:
        async with Host(screen).run_test(size=(100, 32)) as pilot:
            await wait_until(pilot, lambda: screen.phase == "succeeded")
            await pilot.pause()
            assert str(screen.query_one("#title", Label).render()) == "Skynet · cluster homelab installed"
            assert "Preparing" not in screen.log_view.placeholder

    run(scenario())
    # generate writes the talosconfig before its step runs: on a first install that step has nothing to do.
    ws = Workspace.at(tmp_path / "fresh")
    plan = install_plan(spec.parse(example_data), ws)
    talosconfig = next(step for step in plan.steps if step.id == "talosconfig")
    assert talosconfig.postcondition_text == "talosconfig already lists the control planes"
    holds = Step("t", "t", lambda ctx: None, postcondition=lambda ctx: True, postcondition_text="it holds")
    assert Plan("t", [holds]).finished_in_journal(ws) == {}
    seen: list[events.Event] = []
    assert Runner(Plan("t", [holds]), ws, on_event=seen.append).run()
    assert [e.reason for e in seen if isinstance(e, events.StepSkipped)] == ["nothing to do: it holds"]


@pytest.mark.asyncio
async def test_11_a_streaming_log_draws_its_scrollbar_in_whole_cells_never_block_glyphs():
    from textual.app import App

    from skynet_tui.widgets.logview import LineBuffer, LogView, make_entry

    eighths = set("▁▂▃▄▅▆▇█▏▎▍▌▋▊▉")

    class Log(App[None]):
        def compose(self):
            yield LogView()

    app = Log()
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(LogView)
        buffer = LineBuffer(1000)
        screens = []
        for n in range(1, 60):  # lines arrive one by one, the view following the end
            buffer.extend([make_entry(f"line {n} " + "x" * 80, tag="cp-1")])
            view.show(buffer)
            await pilot.pause()
            screens.append(app.export_screenshot())
        assert view.vertical_scrollbar.display and view.horizontal_scrollbar.display
        assert not eighths & set("".join(screens))


def test_12_test_access_shows_the_cause_git_printed_above_its_last_line():
    last = [
        "fatal: Could not read from remote repository.",
        "",
        "Please make sure you have the correct access",
    ]
    host_key = explain_failure(["Host key verification failed.", *last])
    assert host_key.startswith("Host key verification failed.: ") and "known_hosts" in host_key
    auth = explain_failure(["git@github.com: Permission denied (publickey).", *last])
    assert "Permission denied (publickey)" in auth and "deploy key" in auth
    gone = explain_failure(["ERROR: Repository not found.", *last])
    assert gone.startswith("Repository not found.: ") and "check the URL" in gone
    assert explain_failure(["fatal: something new", *last]) == "fatal: something new"
