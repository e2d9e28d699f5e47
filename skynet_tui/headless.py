"""Headless install: the runner's events printed with rich (steps, live lines, a progress bar, elapsed)."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from skynet_tui import events
from skynet_tui.plan.install import install_plan
from skynet_tui.progress import RunProgress, StepProgress, StepState, reduce
from skynet_tui.runner import Runner
from skynet_tui.stdio import stdout_gone
from skynet_tui.workspace import WorkspaceLocked, WorkspaceUnusable

if TYPE_CHECKING:
    from skynet_tui.plan import Plan
    from skynet_tui.plan.timing import Timing
    from skynet_tui.spec import Cluster
    from skynet_tui.workspace import Workspace

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
MARK = {
    StepState.RUNNING: ("▶", "bold"),
    StepState.DONE: ("✓", "green"),
    StepState.SKIPPED: ("↷", "cyan"),
    StepState.FAILED: ("✗", "red"),
    StepState.CANCELLED: ("■", "yellow"),
}


class QuietConsole(Console):
    """A rich Console that goes quiet when the reader of stdout goes away (`skynet plan | head -1`).

    rich's own answer is SystemExit(1), raised from whatever thread printed: an install's worker included."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        stdout_gone()


class Printer:
    """Turns runner events into terminal lines; called from worker threads, one event at a time.

    `bare` picks the output lines printed as they are, without the step column (an upgrade's milestones)."""

    def __init__(
        self,
        console: Console,
        progress: Progress | None = None,
        *,
        bare: Callable[[events.StepLine], bool] | None = None,
    ):
        self.console = console
        self.progress = progress
        self.bare = bare
        self.task: Any = None
        self.state = RunProgress()
        self.width = 12
        self._noise_seen: dict[str, set[str]] = {}
        self.started = time.monotonic()

    @property
    def finished(self) -> events.PlanFinished | None:
        return self.state.result

    @property
    def failures(self) -> list[StepProgress]:
        return self.state.having(StepState.FAILED)

    def _print(self, text: Text) -> None:
        (self.progress.console if self.progress else self.console).print(
            text, highlight=False, soft_wrap=True
        )

    def _title(self, step_id: str) -> str:
        step = self.state.get(step_id)
        return step.info.title if step else ""

    def _step(self, step_id: str, detail: str, style: str = "") -> None:
        """A step changed state: its mark, its id and `detail`; the progress bar counts the finished steps."""
        step = self.state.get(step_id)
        state = step.state if step else StepState.PENDING
        symbol, colour = MARK.get(state, ("•", ""))
        text = Text(f"{symbol} ", style=colour)
        text.append(f"{step_id:<{self.width}} ", style="bold" if state is StepState.RUNNING else "")
        text.append(detail, style=style)
        self._print(text)
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, completed=self.state.finished)

    def __call__(self, event: events.Event) -> None:
        self.state = reduce(self.state, event, time.monotonic())
        match event:
            case events.PlanStarted():
                self.width = max((len(s.info.id) for s in self.state.steps), default=12)
                if self.state.simulated:
                    self._print(
                        Text("SIMULATED LAB: no real machine is touched", style="bold black on yellow")
                    )
                if self.progress is not None:
                    self.task = self.progress.add_task("install", total=len(self.state.steps))
            case events.StepLine():
                self._line(event)
            case events.StepRetrying(attempt=attempt, max_attempts=most, delay=delay, reason=reason):
                tries = f"{attempt}/{most}" if most else f"{attempt}"
                text = Text(f"  {'':<{self.width}} ↻ try {tries} in {delay:.3g}s: ", style="yellow")
                text.append(reason, style="yellow dim")
                self._print(text)
            case events.StepStarted(step_id=step_id):
                self._step(step_id, self._title(step_id))
            case events.StepFinished(step_id=step_id, duration=duration):
                self._step(step_id, f"{self._title(step_id)}  {duration:.1f}s", "dim")
            case events.StepSkipped(step_id=step_id, reason=reason):
                self._step(step_id, f"skipped: {reason}", "dim")
            case events.StepFailed(step_id=step_id, error=error):
                self._step(step_id, error, "red")
            case events.StepCancelled(step_id=step_id):
                self._step(step_id, "cancelled", "yellow")

    def _line(self, event: events.StepLine) -> None:
        if self.bare is not None and self.bare(event):
            self._print(Text(event.text, style="bold"))
            return
        seen = self._noise_seen.setdefault(event.step_id, set())
        if event.noise:
            if event.text in seen:
                return  # the same expected error on every poll: once is enough (the log has them all)
            seen.add(event.text)
        else:
            seen.clear()
        text = Text(f"  {event.step_id:<{self.width}} │ ", style="dim")
        style = "dim italic" if event.noise else "yellow" if event.stream == "err" else ""
        text.append(event.text, style=style)
        if event.noise:
            text.append("  (expected while it comes up; retrying)", style="dim")
        self._print(text)


def _machine_steps_left(plan: Plan, ws: Workspace) -> list[str]:
    done = plan.finished_in_journal(ws)
    return [s.id for s in plan.steps if s.writes_machines and s.id not in done]


def _confirm(cluster: Cluster, console: Console) -> bool:
    nodes = ", ".join(f"{n.hostname} {n.ip}" for n in cluster.spec.nodes)
    console.print(
        f"This writes Talos to {len(cluster.spec.nodes)} machine(s) ({nodes}), [bold]erasing their install "
        f"disks[/bold], and bootstraps cluster [bold]{cluster.name}[/bold].",
        highlight=False,
    )
    try:
        answer = console.input("Continue? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


@contextlib.contextmanager
def _cancel_on_signals(
    runner: Runner, received: list[int], on_pause: Callable[[], None] | None = None
) -> Iterator[None]:
    """SIGINT/SIGTERM cancel the run (children's process groups included) instead of killing the printer;
    the signals received are appended to `received`.

    With `on_pause`, a first SIGINT pauses instead (the unit under way finishes) and calls it; a second cancels."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, frame: Any) -> None:
        received.append(signum)
        if on_pause is not None and signum == signal.SIGINT and not runner.paused:
            runner.pause()
            on_pause()
            return
        threading.Thread(target=runner.cancel, daemon=True).start()

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_install(
    cluster: Cluster,
    ws: Workspace,
    *,
    env: dict[str, str] | None = None,
    assume_yes: bool = False,
    console: Console | None = None,
    simulated: bool = False,
    timing: Timing | None = None,
    max_parallel: int = 8,
) -> int:
    """Install headless: 0 done, 1 failed or cancelled (message and support bundle printed), 2 refused (nothing
    written; the workspace held by another skynet included), 130 cancelled by SIGINT (ctrl+c)."""
    console = console or QuietConsole(highlight=False)
    plan = install_plan(cluster, ws, env=env, timing=timing, simulated=simulated)
    if _machine_steps_left(plan, ws) and not assume_yes:
        if not sys.stdin.isatty():
            print(
                "skynet install writes to machines: pass --yes to confirm (no terminal to ask on)",
                file=sys.stderr,
            )
            return EXIT_USAGE
        if not _confirm(cluster, console):
            console.print("Nothing written. Run again and answer y, or pass --yes.")
            return EXIT_USAGE
    # The lock is held from here to the end, so a second skynet started at the same instant is refused (exit 2)
    # whichever of the two gets here first; the runner takes it again inside.
    held = contextlib.ExitStack()
    try:
        held.enter_context(ws.lock())
    except (WorkspaceLocked, WorkspaceUnusable) as exc:
        print(f"skynet: {exc}; nothing was written", file=sys.stderr)
        return EXIT_USAGE

    signals: list[int] = []
    with held:
        ok, printer = run_plan(
            plan,
            ws,
            console,
            title=f"install {cluster.name}",
            env=env,
            max_parallel=max_parallel,
            signals=signals,
        )
    code = _report(console, printer, ws, ok)
    return EXIT_INTERRUPTED if code == EXIT_FAILED and signal.SIGINT in signals else code


def run_plan(
    plan: Plan,
    ws: Workspace,
    console: Console,
    *,
    title: str,
    env: dict[str, str] | None = None,
    max_parallel: int = 8,
    bare: Callable[[events.StepLine], bool] | None = None,
    on_pause: Callable[[], None] | None = None,
    ready: Callable[[Printer], None] | None = None,
    signals: list[int] | None = None,
) -> tuple[bool, Printer]:
    """Run a plan with its events printed live; (succeeded, the printer with the run's progress).

    With `on_pause`, the first ctrl+c pauses the run (see `_cancel_on_signals`); `ready` gets the printer before
    the run starts (a prompt during the run stops its progress bar); `signals` collects the signals received."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn(f"[bold]{title}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("steps"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    printer = Printer(console, progress, bare=bare)
    if ready is not None:
        ready(printer)
    runner = Runner(plan, ws, printer, env=env, max_parallel=max_parallel)
    outcome: list[bool] = []
    with progress, _cancel_on_signals(runner, signals if signals is not None else [], on_pause):
        worker = threading.Thread(target=lambda: outcome.append(runner.run()), name="run-plan")
        worker.start()
        while worker.is_alive():
            worker.join(0.2)
    return bool(outcome and outcome[0]), printer


def _report(console: Console, printer: Printer, ws: Workspace, ok: bool) -> int:
    elapsed = time.monotonic() - printer.started
    finished = printer.finished

    def say(text: str, style: str = "") -> None:
        console.print(Text(text, style=style), soft_wrap=True)

    console.print()
    if ok:
        say(f"✓ Installed in {elapsed:.0f}s", "bold green")
        if finished and finished.summary:
            say(finished.summary)
        say(f"Logs: {ws.logs_dir}", "dim")
        return EXIT_OK
    if finished and finished.cancelled:
        say("Cancelled; run the same command again to resume.", "bold yellow")
        return EXIT_FAILED
    say(f"✗ Install stopped after {elapsed:.0f}s", "bold red")
    for failure in printer.failures:
        say(f"  {failure.info.id}: {failure.note}", "red")
    if finished and finished.summary:
        say(finished.summary)
    if finished and finished.support_bundle:
        say(f"Support bundle (redacted, safe to share): {finished.support_bundle}", "bold")
    return EXIT_FAILED
