"""BootstrapScreen: runs the install plan and shows its steps, the selected step's live log, progress and summary."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

from textual import getters, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Label, ProgressBar, Static
from textual.worker import Worker, WorkerState

from skynet_tui import progress
from skynet_tui.events import Event, PlanFinished, PlanStarted, StepFailed, StepStarted
from skynet_tui.progress import ACTIVE, ENDED, Phase, RunProgress, StepState
from skynet_tui.runner import Runner
from skynet_tui.screens.bootstrap.dialogs import ConfirmAbort, page_file
from skynet_tui.screens.bootstrap.inbox import EventInbox, RunnerFactory, RunnerLike
from skynet_tui.screens.bootstrap.texts import SUMMARY_TITLES, log_subtitle, progress_text, summary_text
from skynet_tui.widgets.logview import LineBuffer, LogView, make_entry
from skynet_tui.widgets.steps import StepList

FLUSH_INTERVAL = 0.1  # the UI takes runner events at most ~10 times a second, however fast they come


class BootstrapScreen(Screen[bool]):
    """The install: step checklist, overall progress, the highlighted step's log, and the outcome.

    Dismisses with True (Enter after success) or False (Escape after a failure or an abort).
    """

    BINDINGS = [
        Binding("a", "abort", "Abort", id="bootstrap.abort"),
        Binding("r", "retry", "Retry", id="bootstrap.retry"),
        Binding("l", "open_log", "Log file", id="bootstrap.log"),
        Binding("f", "follow", "Follow", id="bootstrap.follow"),
        Binding("w", "wrap", "Wrap", id="bootstrap.wrap"),
        Binding("enter", "continue", "Continue", id="bootstrap.continue"),
        Binding("escape", "close", "Close", id="bootstrap.close"),
    ]

    # Below 100 columns the checklist goes above the log, so both keep readable widths.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    DEFAULT_CSS = """
    BootstrapScreen {
        layout: vertical;
        #topbar { height: 1; background: $panel; padding: 0 1; }
        #title { width: 1fr; text-style: bold; }
        #sim-badge { display: none; background: $warning; color: $text; text-style: bold; padding: 0 1; }
        &.-simulated #sim-badge { display: block; }
        #progress-row { height: 1; padding: 0 1; margin: 1 0 0 0; }
        #progress { width: auto; }
        #progress-label { width: 1fr; margin-left: 2; color: $text-muted; }
        #body { height: 1fr; }
        #steps { width: 50%; max-width: 64; }
        #right { width: 1fr; }
        &.-narrow #body { layout: vertical; }
        &.-narrow #steps { width: 1fr; max-width: 100%; height: 45%; min-height: 5; }
        &.-narrow #progress-row { margin: 0; }
        &.-narrow.-finished #steps { height: 30%; }
        #summary { display: none; height: auto; max-height: 60%; padding: 0 1; border: round $success; }
        #summary.-failed { border: round $error; }
        #summary.-cancelled { border: round $warning; }
        &.-finished #summary { display: block; }
        #log { height: 1fr; min-height: 4; }
    }
    """

    # Elapsed times and the flush rate read this clock; tests replace it to freeze or step time.
    clock: Callable[[], float] = staticmethod(time.monotonic)
    # What the outcome is called (the upgrade screen runs its plans here too).
    summary_titles: ClassVar[dict[Phase, str]] = SUMMARY_TITLES
    done_notice: ClassVar[str] = "Install complete"

    step_list = getters.query_one("#steps", StepList)
    log_view = getters.query_one("#log", LogView)

    class Finished(Message):
        """The plan ended (succeeded, failed or was cancelled); the app may move on to the console."""

        def __init__(self, ok: bool, cancelled: bool, summary: str, support_bundle: str | None) -> None:
            super().__init__()
            self.ok = ok
            self.cancelled = cancelled
            self.summary = summary
            self.support_bundle = support_bundle

    class _Wake(Message):
        """Runner events are waiting; posted once per drain of the inbox, never once per line."""

        bubble = False

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, BootstrapScreen._Wake)

    def __init__(
        self,
        cluster: Any,
        ws: Any,
        *,
        env: dict[str, str] | None = None,
        simulated: bool = False,
        runner_factory: RunnerFactory | None = None,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self.cluster = cluster
        self.ws = ws
        self.env = env
        self.simulated = simulated
        self.runner_factory = runner_factory
        self.run_state = RunProgress(simulated=simulated)  # what the runner's events said so far
        self.runs = 0
        self.flushes = 0
        self.buffers: dict[str, LineBuffer] = {}
        self.shown: str | None = None
        self.follow = True
        self._inbox = EventInbox()
        self._runner: RunnerLike | None = None
        self._runner_lock = threading.Lock()
        self._cancel_requested = False
        self._runner_active = False  # from _start until the worker thread returns
        self._flush_timer: Any = None
        self._last_flush = float("-inf")  # the first events are shown at once
        self._elapsed_before = 0.0
        self._run_started: float | None = None

    @property
    def phase(self) -> Phase:
        return self.run_state.phase

    @property
    def result(self) -> PlanFinished | None:
        return self.run_state.result

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar"):
            yield Label(self.title_text(), id="title")
            yield Label("SIMULATED LAB", id="sim-badge")
        with Horizontal(id="progress-row"):
            yield ProgressBar(total=None, show_eta=False, id="progress")
            yield Label("preparing the plan…", id="progress-label")
        with Horizontal(id="body"):
            yield StepList(clock=lambda: self.clock(), id="steps")
            with Vertical(id="right"):
                with VerticalScroll(id="summary"):
                    yield Static(id="summary-text", markup=False)
                yield LogView(placeholder="Preparing the install plan…", wrap=True, id="log")
        yield Footer()

    def title_text(self) -> str:
        """What the screen is doing now: installing, then what the install ended with."""
        name = getattr(self.cluster, "name", "")
        ended = {
            Phase.SUCCEEDED: f"cluster {name} installed",
            Phase.FAILED: f"the install of cluster {name} stopped on a failure",
            Phase.CANCELLED: f"the install of cluster {name} was cancelled",
        }
        return f"Skynet · {ended.get(self.phase, f'installing cluster {name}')}"

    def action_wrap(self) -> None:
        """Long log lines wrap (the default), or stay on one row and scroll sideways (Tab to the log, ←/→)."""
        self.log_view.wrap = not self.log_view.wrap
        self.notify("Log lines wrap" if self.log_view.wrap else "Log lines scroll sideways (←/→ in the log)")

    def on_mount(self) -> None:
        self.set_class(self.run_state.simulated, "-simulated")
        self.step_list.border_title = "Steps"
        self.log_view.border_title = "Log"
        self.set_interval(1.0, self._tick)
        self.step_list.focus()
        self._start()

    def on_unmount(self) -> None:
        # Dismissed or the app is quitting: stop the children; the worker thread ends with them.
        if self._runner_active:
            self._cancel_run()

    # ------------------------------------------------------------------ running

    def _start(self) -> None:
        self.runs += 1
        with self._runner_lock:
            self._cancel_requested = False
        self._set_state(progress.restart(self.run_state))
        self._run_started = self.clock()
        self.set_class(False, "-finished")
        self._runner_active = True
        self._run_plan()
        self._update_progress()
        self.refresh_bindings()

    def _make_runner(self, on_event: Callable[[Event], None]) -> RunnerLike:
        if self.runner_factory is not None:
            return self.runner_factory(on_event)
        # The install plan loads the renderers (Jinja2, ~0.1 s): on first use, as the wizard's preview does.
        from skynet_tui.plan.install import install_plan

        install = install_plan(self.cluster, self.ws, env=self.env, simulated=self.simulated)
        return Runner(install, self.ws, on_event, env=self.env)

    @work(
        thread=True,
        group="bootstrap",
        exclusive=True,
        exit_on_error=False,
        description="Installing the cluster",
    )
    def _run_plan(self) -> bool:
        try:
            runner = self._make_runner(self._on_event)
            with self._runner_lock:
                self._runner = runner
                cancelled = self._cancel_requested
            if cancelled:
                self._on_event(PlanFinished(ok=False, summary="cancelled before it started", cancelled=True))
                return False
            return bool(runner.run())
        finally:
            self._runner_active = False

    def _on_event(self, event: Event) -> None:
        """Called on runner threads: queue the event, wake the UI only when the inbox was empty."""
        if isinstance(event, PlanStarted) and self._cancel_requested and self._runner is not None:
            self._runner.cancel()  # an abort that came between building the runner and its run()
        if self._inbox.put(event):
            with contextlib.suppress(RuntimeError):  # the app is closing
                self.post_message(self._Wake())

    def _cancel_run(self) -> None:
        with self._runner_lock:
            self._cancel_requested = True
            runner = self._runner
        self.run_state = progress.cancelling(self.run_state)
        if runner is not None:
            # Runner.cancel waits for process groups to end: never on the UI thread.
            threading.Thread(target=runner.cancel, name="bootstrap-cancel").start()

    @on(_Wake)
    def _schedule_flush(self) -> None:
        if self._flush_timer is not None:
            return
        delay = self._last_flush + FLUSH_INTERVAL - self.clock()
        if delay <= 0:
            self._flush()
        else:
            self._flush_timer = self.set_timer(delay, self._flush)

    def _flush(self) -> None:
        """Apply everything the runner sent since the last flush, in one go."""
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        self._last_flush = self.clock()
        events, lines = self._inbox.drain()
        if not events and not lines:
            return
        self.flushes += 1
        for event in events:
            self._apply(event)
        for step_id, (raw, seen) in lines.items():
            entries = [make_entry(text, kind, tag) for text, kind, tag in raw]
            added, evicted = self._buffer(step_id).extend(entries, seen)
            if step_id == self.shown:
                self.log_view.appended(added, evicted)
        self._update_log_title()
        self._update_progress()
        self.refresh_bindings()

    def _buffer(self, step_id: str) -> LineBuffer:
        buffer = self.buffers.get(step_id)
        if buffer is None:
            buffer = self.buffers[step_id] = LineBuffer(self._inbox.limit)
        return buffer

    def _set_state(self, state: RunProgress) -> None:
        self.run_state = state
        self.step_list.show(state.steps)

    def _apply(self, event: Event) -> None:
        self._set_state(progress.reduce(self.run_state, event, self.clock()))
        if isinstance(event, PlanStarted):
            self.set_class(self.run_state.simulated, "-simulated")
            self.log_view.placeholder = "No output from this step yet."
            self.query_one("#title", Label).update(self.title_text())
            if self.shown is None and event.steps:
                self._show(event.steps[0].id)
        elif isinstance(event, StepStarted):
            self._follow_to(event.step_id)
        elif isinstance(event, StepFailed):
            step = self.run_state.get(event.step_id)
            if step is not None:
                self.notify(f"{step.info.title} ({step.info.target}) failed", severity="error", markup=False)
            self._follow_to(event.step_id)
        elif isinstance(event, PlanFinished):
            self._finish(event)

    def _finish(self, event: PlanFinished) -> None:
        if self._run_started is not None:
            self._elapsed_before += self.clock() - self._run_started
            self._run_started = None
        failed = self.run_state.having(StepState.FAILED)
        if failed:
            self._follow_to(failed[0].info.id)
        panel = self.query_one("#summary", VerticalScroll)
        panel.set_class(self.phase is Phase.FAILED, "-failed")
        panel.set_class(self.phase is Phase.CANCELLED, "-cancelled")
        panel.border_title = self.summary_titles[self.phase]
        self.query_one("#title", Label).update(self.title_text())
        self.query_one("#summary-text", Static).update(self.summary(self.run_state))
        self.set_class(True, "-finished")
        self.post_message(self.Finished(event.ok, event.cancelled, event.summary, event.support_bundle))
        if event.ok:
            self.notify(self.done_notice, severity="information")

    def summary(self, state: RunProgress) -> str:
        """The summary panel's text once the plan ended."""
        return summary_text(state, self.ws)

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "bootstrap" or event.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            return
        if event.state == WorkerState.CANCELLED:  # the screen is going away; the thread is still running
            self._cancel_run()
            return
        self._flush()
        if self.phase in ENDED:
            return
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            text = f"the installer stopped: {type(error).__name__}: {error}"
            with contextlib.suppress(Exception):
                text = self.ws.redactor()(text)
            self._apply(PlanFinished(ok=False, summary=text))
        else:
            ok = bool(event.worker.result)
            self._apply(PlanFinished(ok=ok, cancelled=self._cancel_requested and not ok))
        self._update_progress()
        self.refresh_bindings()

    # ------------------------------------------------------------------ view

    def _show(self, step_id: str) -> None:
        self.shown = step_id
        self.log_view.show(self._buffer(step_id))
        self._update_log_title()

    def _follow_to(self, step_id: str) -> None:
        if self.follow:
            self.step_list.select(step_id)

    @on(StepList.Highlighted)
    def _highlighted(self, event: StepList.Highlighted) -> None:
        if event.by_user:
            self.follow = False
            self.refresh_bindings()
        if event.step_id != self.shown:
            self._show(event.step_id)

    def _update_log_title(self) -> None:
        if self.shown is None:
            return
        row = self.step_list.get(self.shown)
        self.log_view.border_title = f"{row.info.title} · {row.info.target}" if row else self.shown
        self.log_view.border_subtitle = log_subtitle(self.shown, self._buffer(self.shown))

    def _elapsed(self) -> float:
        running = self.clock() - self._run_started if self._run_started is not None else 0.0
        return self._elapsed_before + running

    def _update_progress(self) -> None:
        state = self.run_state
        if state.steps:
            self.query_one("#progress", ProgressBar).update(total=len(state.steps), progress=state.finished)
        self.query_one("#progress-label", Label).update(progress_text(state, self._elapsed()))

    def _tick(self) -> None:
        if self.phase not in ENDED:
            self.step_list.refresh()
            self._update_progress()

    # ------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        running = self.phase in (Phase.STARTING, Phase.RUNNING)
        stopped = self.phase in (Phase.FAILED, Phase.CANCELLED)
        allowed = {
            "abort": running,
            "retry": stopped,
            "continue": self.phase is Phase.SUCCEEDED,
            "close": stopped,
            "follow": not self.follow,
        }
        return allowed.get(action, True)

    def action_abort(self) -> None:
        def answered(abort: bool | None) -> None:
            if abort and self.phase in (Phase.STARTING, Phase.RUNNING):
                self._cancel_run()
                self._update_progress()
                self.refresh_bindings()

        self.app.push_screen(ConfirmAbort(), answered)

    def action_retry(self) -> None:
        for step in self.run_state.having(StepState.FAILED, StepState.CANCELLED):
            self._buffer(step.info.id).extend([make_entry(f"── retry (run {self.runs + 1}) ──", "mark")])
        if self.shown is not None:
            self.log_view.show(self._buffer(self.shown))
        self.follow = True
        self._start()

    def action_follow(self) -> None:
        self.follow = True
        active = self.run_state.having(*ACTIVE) or self.run_state.having(StepState.FAILED)
        if active:
            self.step_list.select(active[-1].info.id)
        self.refresh_bindings()

    def action_continue(self) -> None:
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)

    def action_open_log(self) -> None:
        """Open the highlighted step's full log in $PAGER (the app is suspended meanwhile), else show its path."""
        if self.shown is None:
            self.notify("No step selected", severity="warning")
            return
        path = self.ws.logs_dir / f"{self.shown}.log"
        if not path.is_file():
            self.notify(f"No log file yet: {path}", title="Log file", markup=False)
        elif not page_file(self.app, path):
            self.notify(str(path), title="Log file", markup=False, timeout=10)
