"""UpgradeRunScreen: an upgrade plan run with the install screen's widgets, plus pause and the questions it asks."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from skynet_tui.events import Event
from skynet_tui.plan import Plan
from skynet_tui.plan.upgrade import stopped_text
from skynet_tui.plan.upgrade_steps import Confirm
from skynet_tui.progress import Phase, RunProgress, StepState
from skynet_tui.runner import Runner
from skynet_tui.screens.bootstrap import BootstrapScreen
from skynet_tui.screens.bootstrap.inbox import RunnerLike

PlanFactory = Callable[[Confirm], Plan]  # builds the plan with the screen's way of asking


class ReadDialog(ModalScreen[bool]):
    """A question with something long to read first (a dry run's output, a GitOps diff); No has the focus."""

    BINDINGS: ClassVar = [Binding("escape", "no", "No", id="read.no")]
    DEFAULT_CSS = """
    ReadDialog { align: center middle; }
    ReadDialog > Vertical { width: 110; max-width: 98%; height: 90%; border: round $primary; background: $surface;
        padding: 1 2; }
    ReadDialog .dialog-title { text-style: bold; margin-bottom: 1; }
    ReadDialog #read-body { height: 1fr; border: round $panel; }
    ReadDialog .dialog-buttons { height: 1; margin-top: 1; align-horizontal: right; }
    ReadDialog .dialog-buttons Button { margin-left: 2; }
    """

    def __init__(self, title: str, body: str, *, confirm: str = "Go ahead"):
        super().__init__()
        self.title_text = title
        self.body = body
        self.confirm = confirm

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, classes="dialog-title", markup=False)
            with VerticalScroll(id="read-body"):
                yield Static(self.body, markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.confirm, id="read-yes", variant="warning", compact=True)
                yield Button("No", id="read-no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#read-no", Button).focus()

    @on(Button.Pressed, "#read-yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#read-no")
    def action_no(self) -> None:
        self.dismiss(False)


class UpgradeRunScreen(BootstrapScreen):
    """An upgrade running: its steps, the selected step's log, progress, and the outcome (the node a stop left
    behind is named). `p` pauses once the node under way is done; `a` aborts at once. A Kubernetes dry run or a
    platform diff is shown in a dialog before anything changes."""

    BINDINGS: ClassVar = [
        *BootstrapScreen.BINDINGS,
        Binding("p", "pause", "Pause", id="upgrade.pause"),
    ]
    summary_titles: ClassVar[dict[Phase, str]] = {
        Phase.SUCCEEDED: "✔ Upgrade complete",
        Phase.FAILED: "✖ Upgrade stopped",
        Phase.CANCELLED: "■ Upgrade stopped",
    }
    done_notice: ClassVar[str] = "Upgrade complete"

    def __init__(
        self,
        cluster: Any,
        ws: Any,
        make_plan: PlanFactory,
        *,
        title: str,
        env: dict[str, str] | None = None,
        simulated: bool = False,
    ):
        self.make_plan = make_plan
        self.run_title = title
        super().__init__(cluster, ws, env=env, simulated=simulated, runner_factory=self._runner_for)

    def title_text(self) -> str:
        return f"Skynet · {self.run_title} · {self.cluster.name}"

    def _runner_for(self, on_event: Callable[[Event], None]) -> RunnerLike:
        return Runner(self.make_plan(self.ask), self.ws, on_event, env=self.env)

    def ask(self, question: str, detail: str) -> bool:
        """Called on a runner thread: show the dialog on the UI thread and wait for the answer (or a stop)."""
        answered = threading.Event()
        answer: list[bool] = [False]

        def show() -> None:
            def done(ok: bool | None) -> None:
                answer[0] = bool(ok)
                answered.set()

            self.app.push_screen(ReadDialog(question, detail), done)

        self.app.call_from_thread(show)
        while not answered.wait(0.2):
            if self._cancel_requested:
                return False
        return answer[0]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pause":
            return self.phase in (Phase.STARTING, Phase.RUNNING) and not getattr(
                self._runner, "paused", False
            )
        return super().check_action(action, parameters)

    def action_pause(self) -> None:
        pause = getattr(self._runner, "pause", None)
        if pause is None:
            return
        pause()
        self.notify("Pausing: the node under way finishes, then the upgrade stops.", markup=False)
        self.refresh_bindings()

    def summary(self, state: RunProgress) -> str:
        if state.phase is Phase.CANCELLED:
            lines = [stopped_text(state, self.cluster)]
            lines += [f"{s.info.title}: {s.note}" for s in state.having(StepState.FAILED)]
            return "\n".join(lines)
        return super().summary(state)
