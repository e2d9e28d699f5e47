"""Bootstrap screen: steps, logs, progress, retry/abort/log keys and the flood bound, against a scripted runner."""

from __future__ import annotations

import contextlib
import sys
import threading
from pathlib import Path

import pytest
from textual import events
from textual.app import App
from textual.widgets import Static

from skynet_tui import spec
from skynet_tui.events import PlanFinished, PlanStarted, StepFinished, StepInfo, StepLine, StepStarted
from skynet_tui.screens.bootstrap import BootstrapScreen, ConfirmAbort, EventInbox
from skynet_tui.screens.bootstrap.screen import FLUSH_INTERVAL
from skynet_tui.widgets.logview import LineBuffer, LogView, clean_line, make_entry
from skynet_tui.widgets.steps import format_duration
from skynet_tui.workspace import Workspace
from tests.bootstrap_helpers import (
    BUNDLE,
    NODES,
    FakeClock,
    Gate,
    Host,
    Lines,
    ScriptedFactory,
    failure_script,
    midway_script,
    opening,
    plan_steps,
    resume_script,
    run,
    success_script,
    wait_until,
)


@pytest.fixture
def cluster(example_data):
    return spec.parse(example_data)


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace.at(tmp_path / "ws")


def make_screen(cluster, ws, factory, **kwargs) -> BootstrapScreen:
    return BootstrapScreen(cluster, ws, runner_factory=factory, **kwargs)


def summary(screen: BootstrapScreen) -> str:
    return str(screen.query_one("#summary-text", Static).content)


def badge_shown(screen: BootstrapScreen) -> bool:
    return screen.query_one("#sim-badge").display


def test_success_marks_every_step_and_shows_the_summary(cluster, ws):
    factory = ScriptedFactory(success_script())
    screen = make_screen(cluster, ws, factory)
    app = Host(screen)
    seen: list = []

    async def scenario():
        async with app.run_test(size=(100, 32), message_hook=seen.append) as pilot:
            await wait_until(pilot, lambda: screen.phase == "succeeded", what="success")
            await pilot.pause()
            assert {row.state for row in screen.step_list.rows} == {"done"}
            assert [row.info.id for row in screen.step_list.rows] == [s.id for s in plan_steps()]
            assert screen.step_list.get("health").duration == 22.5
            assert "https://argocd.lab.example" in summary(screen)
            assert "admin password" in summary(screen)
            assert screen.has_class("-finished")
            assert badge_shown(screen)  # the plan said simulated, though the screen was not told
            assert "15/15 steps" in str(screen.query_one("#progress-label").content)
            finished = {
                id(m): m for m in seen if isinstance(m, BootstrapScreen.Finished)
            }  # seen as it bubbles
            assert len(finished) == 1 and next(iter(finished.values())).ok
            assert screen.check_action("continue", ()) and not screen.check_action("abort", ())
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.results == [True], what="dismissed with True")

    run(scenario())


def test_badge_follows_the_simulated_flag(cluster, ws):
    real = [PlanStarted(plan_steps(), simulated=False), PlanFinished(ok=True)]

    async def scenario(simulated: bool) -> bool:
        screen = make_screen(cluster, ws, ScriptedFactory(real), simulated=simulated)
        async with Host(screen).run_test(size=(100, 32)) as pilot:
            await wait_until(pilot, lambda: screen.phase == "succeeded")
            return badge_shown(screen)

    assert run(scenario(True)) is True
    assert run(scenario(False)) is False


def test_log_lines_are_tagged_by_node_and_noise_is_dimmed(cluster, ws):
    screen = make_screen(cluster, ws, ScriptedFactory(failure_script()))

    async def scenario():
        async with Host(screen).run_test(size=(100, 32)) as pilot:
            await wait_until(pilot, lambda: screen.phase == "failed")
            await pilot.pause()
            assert screen.shown == "apply-worker-2"  # the failed step is brought into view
            lines = list(screen.log_view.buffer.lines)
            assert lines[0].tag == "worker-2" and lines[0].kind == "info"
            kinds = [line.kind for line in lines]
            assert kinds.count("noise") == 4  # two transient errors and two retry notes
            assert kinds[-1] == "error" and "gave up after 3 attempt(s)" in lines[-1].text
            view = screen.log_view
            noise_row = kinds.index("noise")
            noise = view.render_line(noise_row)
            plain = view.render_line(0)
            tag_segment, text_segment = list(noise)[0], list(noise)[1]
            assert tag_segment.text.startswith("worker-2")
            assert text_segment.style.dim and text_segment.style.italic
            assert not list(plain)[1].style.dim
            assert screen.log_view.border_subtitle == "6 lines · logs/apply-worker-2.log"

    run(scenario())


def test_failure_then_retry_resumes_from_the_journal(cluster, ws):
    factory = ScriptedFactory(failure_script(), resume_script())
    screen = make_screen(cluster, ws, factory)

    async def scenario():
        async with Host(screen).run_test(size=(100, 32)) as pilot:
            await wait_until(pilot, lambda: screen.phase == "failed")
            text = summary(screen)
            assert Path(BUNDLE).name in text
            assert "Apply machine config (worker-2): gave up after 3 attempt(s)" in text
            assert screen.step_list.get("apply-worker-2").state == "failed"
            assert screen.step_list.get("apply-worker-2").attempt == 3
            assert "1 failed" in str(screen.query_one("#progress-label").content)
            assert screen.check_action("retry", ()) and not screen.check_action("abort", ())
            await pilot.press("r")
            await wait_until(pilot, lambda: screen.phase == "succeeded", what="the resumed run")
            assert len(factory.runners) == 2
            rows = {row.info.id: row for row in screen.step_list.rows}
            assert all(row.state == "done" for row in rows.values())
            assert rows["preflight"].duration == 0.4  # done in run 1; the resume's skip keeps it done
            texts = [line.text for line in screen.buffers["apply-worker-2"].lines]
            assert "── retry (run 2) ──" in texts
            assert texts.index("── retry (run 2) ──") < texts.index("config applied; node is installing")
            assert "https://argocd.lab.example" in summary(screen)

    run(scenario())


def test_abort_asks_first_then_cancels_the_runner(cluster, ws):
    gate = Gate()
    factory = ScriptedFactory(midway_script(gate), resume_script())
    screen = make_screen(cluster, ws, factory)
    app = Host(screen)

    async def scenario():
        async with app.run_test(size=(100, 32)) as pilot:
            await wait_until(
                pilot, lambda: gate.reached.is_set() and screen.step_list.get("bootstrap").state == "retrying"
            )
            runner = factory.runners[0]
            await pilot.press("a")
            assert isinstance(app.screen, ConfirmAbort)
            await pilot.press("n")
            assert app.screen is screen and not runner.cancelled.is_set()
            await pilot.press("a")
            await pilot.press("y")
            await wait_until(pilot, lambda: screen.phase == "cancelled", what="cancelled")
            assert runner.cancelled.is_set()
            states = {row.info.id: row.state for row in screen.step_list.rows}
            assert states["bootstrap"] == states["apply-cp-3"] == "cancelled"
            assert states["apply-cp-1"] == "done" and states["health"] == "pending"
            assert screen.query_one("#summary").border_title == "■ Install cancelled"
            assert screen.check_action("retry", ())
            await pilot.press("r")
            await wait_until(pilot, lambda: screen.phase == "succeeded")

    run(scenario())


def test_leaving_the_screen_cancels_the_runner(cluster, ws):
    gate = Gate()
    factory = ScriptedFactory(midway_script(gate))
    screen = make_screen(cluster, ws, factory)
    app = Host(screen)

    async def scenario():
        async with app.run_test(size=(100, 32)) as pilot:
            await wait_until(pilot, lambda: gate.reached.is_set())
            app.pop_screen()
            await pilot.pause()
            assert factory.runners[0].cancelled.wait(30)
            assert factory.runners[0].done.wait(30)

    run(scenario())


def test_quitting_mid_run_cancels_the_runner(cluster, ws):
    gate = Gate()
    factory = ScriptedFactory(midway_script(gate))
    app = Host(make_screen(cluster, ws, factory))

    async def scenario():
        async with app.run_test(size=(100, 32)) as pilot:
            await wait_until(pilot, lambda: gate.reached.is_set())
            app.exit()

    run(scenario())  # returns only once the worker thread has ended (bench/bootstrap_screen.py times it)
    assert factory.runners[0].cancelled.is_set() and factory.runners[0].done.is_set()


def test_choosing_a_step_stops_following_until_f(cluster, ws):
    first, second = Gate(), Gate()
    script = [
        *opening(),
        first,
        StepStarted("apply-cp-1"),
        StepLine("apply-cp-1", "applying", node="cp-1"),
        second,
    ]
    screen = make_screen(cluster, ws, ScriptedFactory(script))

    async def scenario():
        async with Host(screen).run_test(size=(100, 32)) as pilot:
            await wait_until(pilot, lambda: first.reached.is_set() and screen.shown == "gitops")
            await pilot.press("up", "up")
            assert screen.shown == "secrets" and not screen.follow
            assert screen.log_view.buffer.lines[0].text == "generated secrets/secrets.yaml"
            first.open()
            await wait_until(pilot, lambda: second.reached.is_set() and "apply-cp-1" in screen.buffers)
            await pilot.pause(FLUSH_INTERVAL * 2)
            assert screen.shown == "secrets"  # not dragged to the new step
            await pilot.press("f")
            assert screen.follow and screen.shown == "apply-cp-1"
            second.open()

    run(scenario())


def test_open_log_shows_the_path_when_no_pager_can_run(cluster, ws):
    script = [*opening(), PlanFinished(ok=True)]
    screen = make_screen(cluster, ws, ScriptedFactory(script))
    app = Host(screen)

    async def scenario():
        async with app.run_test(size=(100, 32)) as pilot:
            await wait_until(pilot, lambda: screen.phase == "succeeded")
            await pilot.press("l")
            assert "No log file yet" in list(app._notifications)[-1].message
            ws.logs_dir.mkdir(parents=True)
            (ws.logs_dir / "gitops.log").write_text("pushed\n")
            await pilot.press("l")  # headless: the app cannot be suspended for a pager
            note = list(app._notifications)[-1]
            assert note.title == "Log file" and note.message == str(ws.logs_dir / "gitops.log")

    run(scenario())


def test_open_log_runs_the_pager_with_the_app_suspended(cluster, ws, tmp_path, monkeypatch):
    copy = tmp_path / "paged.txt"
    # A "pager" that copies the file it is given, so the test can see what it was asked to show.
    monkeypatch.setenv(
        "PAGER", f"{sys.executable} -c 'import shutil, sys; shutil.copy(sys.argv[1], \"{copy}\")'"
    )
    screen = make_screen(cluster, ws, ScriptedFactory([*opening(), PlanFinished(ok=True)]))
    app = Host(screen)
    suspended: list[bool] = []

    @contextlib.contextmanager
    def suspend():
        suspended.append(True)
        yield

    async def scenario():
        async with app.run_test(size=(100, 32)) as pilot:
            monkeypatch.setattr(app, "suspend", suspend)  # the headless driver cannot suspend
            await wait_until(pilot, lambda: screen.phase == "succeeded")
            ws.logs_dir.mkdir(parents=True)
            (ws.logs_dir / "gitops.log").write_text("pushed main\n")
            await pilot.press("l")
            assert suspended == [True]
            assert copy.read_text() == "pushed main\n"
            assert all(note.title != "Log file" for note in app._notifications)  # paged, so no path toast

    run(scenario())


def test_a_runner_that_raises_becomes_a_failure_not_a_crash(cluster, ws):
    def broken(on_event):
        raise RuntimeError("plan could not be built")

    screen = make_screen(cluster, ws, broken)
    app = Host(screen)

    async def scenario():
        async with app.run_test(size=(100, 32)) as pilot:
            await wait_until(pilot, lambda: screen.phase == "failed")
            assert "RuntimeError: plan could not be built" in summary(screen)
            assert app.is_running and app.screen is screen

    run(scenario())


@pytest.mark.slow
def test_200k_lines_keep_the_screen_responsive_and_bounded(cluster, ws):
    stop = threading.Event()
    flood = [
        PlanStarted((StepInfo("flood", "Print a lot"), StepInfo("after", "Next step"))),
        StepStarted("flood"),
        Lines("flood", 100_000, nodes=NODES, text="\x1b[32mline\x1b[0m {n}\tof the flood"),
        Lines("flood", 100_000, nodes=NODES, text="line {n}\r\rrewritten {n}", until=stop),
        StepFinished("flood", 9.0),
        StepStarted("after"),
        StepFinished("after", 0.1),
        PlanFinished(ok=True),
    ]
    factory = ScriptedFactory(flood)
    screen = make_screen(cluster, ws, factory)
    app = Host(screen)
    wakes: set[int] = set()

    def hook(message) -> None:
        if isinstance(message, BootstrapScreen._Wake):
            wakes.add(id(message))

    async def scenario():
        async with app.run_test(size=(100, 32), message_hook=hook) as pilot:
            await wait_until(pilot, lambda: screen.log_view.line_count > 0, what="the first lines")
            # The flood goes on until `stop`, so this key press is handled while lines pour in. The key goes
            # in as the terminal driver sends it (Pilot.press would also wait for the CPU to go idle).
            # How fast it is handled is measured by bench/bootstrap_screen.py.
            app.post_message(events.Key("down", None))
            await wait_until(pilot, lambda: screen.shown == "after", timeout=60, what="the key press")
            assert not screen.follow and not factory.runners[0].done.is_set()
            stop.set()
            await wait_until(pilot, lambda: screen.phase == "succeeded", timeout=60)
            runner = factory.runners[0]
            assert runner.lines >= 200_000
            buffer = screen.buffers["flood"]
            assert buffer.total == runner.lines + 1  # every line counted, plus the "done" note
            assert len(buffer.lines) == 5_000
            last = buffer.lines[-2]
            assert buffer.lines[-1].text.startswith("✔ done")
            assert last.text == f"rewritten {runner.lines - 100_000}" and last.tag in NODES
            await pilot.press("up")
            assert screen.log_view.line_count == 5_000
            assert screen.log_view.scroll_y == screen.log_view.max_scroll_y > 0  # shown from its end
            assert screen.log_view.border_subtitle == f"last 5,000 of {buffer.total:,} lines · logs/flood.log"
            # Batching: the UI was woken about once per flush, not once per line.
            assert len(wakes) <= screen.flushes + 2

    run(scenario())


def test_events_are_flushed_at_most_once_per_interval_of_the_screen_clock(cluster, ws):
    gate = Gate()
    factory = ScriptedFactory([*opening(), gate, PlanFinished(ok=True)])
    screen = make_screen(cluster, ws, factory)
    clock = FakeClock()
    screen.clock = clock

    def arrive(*texts: str) -> None:
        # What a runner thread does, minus the wake message: the test calls the flush itself.
        for text in texts:
            screen._inbox.put(StepLine("gitops", text))
            screen._schedule_flush()

    async def scenario():
        async with Host(screen).run_test(size=(100, 32)) as pilot:
            await wait_until(pilot, lambda: gate.reached.is_set() and screen._flush_timer is None)
            flushes = screen.flushes
            clock.now += FLUSH_INTERVAL  # a whole interval since the last flush: shown at once
            arrive("one")
            assert screen.flushes == flushes + 1 and screen._flush_timer is None
            clock.now += FLUSH_INTERVAL / 2  # within the interval: held back, however many come
            arrive("two", "three", "four")
            assert screen.flushes == flushes + 1 and screen._flush_timer is not None
            assert screen.log_view.buffer.lines[-1].text == "one"
            await wait_until(pilot, lambda: screen.flushes == flushes + 2, what="the deferred flush")
            assert screen._flush_timer is None
            assert [line.text for line in screen.log_view.buffer.lines][-4:] == [
                "one",
                "two",
                "three",
                "four",
            ]
            gate.open()

    run(scenario())


def test_inbox_keeps_the_last_lines_per_step_and_wakes_once():
    inbox = EventInbox(limit=100)
    wakes = [inbox.put(StepLine("a", f"{n}")) for n in range(250)]
    assert wakes[0] and not any(wakes[1:])
    inbox.put(StepFinished("a", 2.0))
    inbox.put(StepLine("b", "only", node="cp-1"))
    events, lines = inbox.drain()
    assert events == [StepFinished("a", 2.0)]
    texts, seen = lines["a"]
    assert seen == 251 and len(texts) == 100
    assert texts[0][0] == "151" and texts[-1] == ("✔ done in 2.0s", "mark", None)
    assert lines["b"] == ([("only", "out", "cp-1")], 1)
    assert inbox.drain() == ([], {})
    assert inbox.put(StepLine("a", "again"))


def test_line_buffer_and_cleaning():
    buffer = LineBuffer(limit=3)
    assert buffer.extend([make_entry(f"l{n}") for n in range(5)], seen=7) == (3, 0)
    assert [e.text for e in buffer.lines] == ["l2", "l3", "l4"] and buffer.total == 7 and buffer.dropped == 4
    assert buffer.extend([make_entry("x", tag="worker-1")]) == (1, 1)
    assert buffer.tag_width == len("worker-1")
    assert clean_line("\x1b[1;31mred\x1b[0m\tok") == "red     ok"
    assert clean_line("10%\r50%\r100%\r") == "100%"
    assert clean_line("bell\x07") == "bell�"
    assert clean_line("x" * 5000).endswith(" …") and len(clean_line("x" * 5000)) < 1100


def test_log_view_follows_the_end_or_keeps_the_lines_in_view():
    class LogApp(App):
        def compose(self):
            yield LogView()

    buffer = LineBuffer(limit=100)

    async def scenario():
        app = LogApp()
        async with app.run_test(size=(60, 12)) as pilot:
            view = app.query_one(LogView)
            view.show(buffer)
            view.appended(*buffer.extend([make_entry(f"line {n}") for n in range(100)]))
            await pilot.pause()
            assert view.scroll_y == view.max_scroll_y > 0  # at the end: follows
            view.appended(*buffer.extend([make_entry("one more")]))
            await pilot.pause()
            assert view.scroll_y == view.max_scroll_y
            view.scroll_to(y=50, animate=False, immediate=True)
            assert not view.following
            top = buffer.lines[50].text
            view.appended(*buffer.extend([make_entry(f"new {n}") for n in range(10)]))
            await pilot.pause()
            assert view.scroll_y == 40 and buffer.lines[40].text == top  # the same line stays on top
            view.scroll_end(animate=False, immediate=True)
            assert view.following

    run(scenario())


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.04, "0.0s"), (4.25, "4.2s"), (42.9, "42s"), (185, "3m05s"), (3720, "1h02m"), (-1, "0.0s")],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


OPTIONAL_COMPONENTS = ("monitoring", "logging", "tracing", "storage", "vpa", "policies")
# The simulated platform (pods, MetalLB, certificates, Argo CD) moves at test speed too.
PLATFORM_FAST = dict.fromkeys(
    (
        "pod_start",
        "lb_assign",
        "cert_issue",
        "argo_reconcile",
        "argo_sync",
        "argo_wave",
        "argo_retry",
        "argo_refresh",
    ),
    0.01,
)


@pytest.mark.slow
@pytest.mark.lab
def test_lab_install_3_control_planes_2_workers_in_the_tui(tmp_path):
    """The real plan and runner against the simulated lab, driven through the screen."""
    pytest.importorskip("skynet_lab.core")
    from tests.lab_helpers import make_lab

    with make_lab(tmp_path, 3, 2, latency=PLATFORM_FAST) as lab:
        data = lab.cluster_data()
        # The core platform only: the optional components add Argo CD waves, not screen behaviour.
        data["spec"]["components"] = dict.fromkeys(OPTIONAL_COMPONENTS, False)
        cluster = spec.parse(data)
        ws = Workspace.at(tmp_path / "ws")
        env = {**lab.env(), "SKYNET_TIMING_SCALE": "0.01"}
        screen = BootstrapScreen(cluster, ws, env=env, simulated=True)
        app = Host(screen)
        seen: list = []

        async def scenario():
            async with app.run_test(size=(100, 32), message_hook=seen.append) as pilot:
                await wait_until(pilot, lambda: screen.phase in ("succeeded", "failed"), timeout=180)
                assert screen.phase == "succeeded", (
                    summary(screen)
                    + "\n"
                    + str([(r.info.id, r.state, r.note) for r in screen.step_list.rows])
                )
                rows = screen.step_list.rows
                assert {row.state for row in rows} <= {"done", "skipped"}
                assert all(row.state == "done" for row in rows if row.info.id.startswith("apply-"))
                targets = {row.info.target for row in rows}
                assert {node.hostname for node in cluster.control_planes + cluster.workers} <= targets
                assert f"https://argocd.{cluster.spec.ingress.domain}" in summary(screen)
                assert badge_shown(screen)
                apply = next(row.info.id for row in rows if row.info.id.startswith("apply-"))
                tags = {line.tag for line in screen.buffers[apply].lines}
                assert tags & {node.hostname for node in cluster.control_planes + cluster.workers}
                assert (ws.logs_dir / f"{apply}.log").is_file()
                # Finished is posted when the phase changes and delivered on a later turn of the loop.
                await wait_until(pilot, lambda: any(isinstance(m, BootstrapScreen.Finished) for m in seen))
                assert any(isinstance(m, BootstrapScreen.Finished) and m.ok for m in seen)
                await pilot.press("enter")
                await wait_until(pilot, lambda: app.results == [True])

        run(scenario())
