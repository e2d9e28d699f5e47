"""The wizard session: the answers, which steps were seen, and moving between the step screens."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from skynet_tui.screens.wizard import checks
from skynet_tui.screens.wizard.catalog import STEP_IDS, StepId
from skynet_tui.screens.wizard.state import Answers

if TYPE_CHECKING:
    from textual.screen import Screen

    from skynet_tui.discovery import Hardware


class Wizard:
    """One editing session of a cluster's answers; step screens read and write `answers` through it."""

    def __init__(
        self,
        app: Any,  # SkynetApp (open_install, wizard_closed)
        answers: Answers,
        *,
        env: dict[str, str] | None = None,
        simulated: bool = False,
        title: str = "New cluster",
    ):
        self.app = app
        self.answers = answers
        self.env = env
        self.simulated = simulated
        self.title = title
        self.visited: set[StepId] = set()
        self.hardware: dict[str, Hardware] = {}  # discovered nodes by IP
        self.current: StepId = "cluster"
        self._marks: dict[StepId, str] = {}

    # ------------------------------------------------------------ progress

    def marks(self, *, refresh: bool = False) -> dict[StepId, str]:
        """✓ / ✗ for every step seen so far (the review checks everything, so it marks by all issues);
        cached between calls unless `refresh`, since typing only changes the current step's mark."""
        for step in self.visited:
            if refresh or step not in self._marks:
                if step == "review":
                    self._marks[step] = "✓" if not checks.review_issues(self.answers.data) else "✗"
                else:
                    self._marks[step] = "✓" if self.step_ok(step) else "✗"
        return dict(self._marks)

    def set_mark(self, step: StepId, ok: bool) -> None:
        if step in self.visited:
            self._marks[step] = "✓" if ok else "✗"

    def step_ok(self, step: StepId) -> bool:
        ok = checks.check_step(self.answers.data, step).ok
        if step == "cluster":
            ok = ok and not checks.check_workspace(self.answers)[0]
        return ok

    def heading(self) -> str:
        name = self.answers.name or "(unnamed)"
        where = self.answers.workspace
        lab = "SIMULATED LAB · " if self.simulated else ""
        return f"{lab}Skynet · {self.title}: {name} → {where or '?'}"

    # ------------------------------------------------------------ navigation

    def screen_for(self, step: StepId, focus: str | None = None) -> Screen[Any]:
        from skynet_tui.screens.wizard import step_screens

        self.current = step
        self.visited.add(step)
        return step_screens()[step](self, focus=focus)

    def start(self, step: StepId = "cluster", focus: str | None = None) -> None:
        """Push the wizard on top of the current screen."""
        self.app.push_screen(self.screen_for(step, focus))

    def open(self, step: StepId, focus: str | None = None) -> None:
        """Replace the current step screen with another step (focus: a field path or node location)."""
        self.app.switch_screen(self.screen_for(step, focus))

    def next(self, step: StepId) -> None:
        index = STEP_IDS.index(step)
        if index + 1 < len(STEP_IDS):
            self.open(STEP_IDS[index + 1])

    def back(self, step: StepId) -> None:
        index = STEP_IDS.index(step)
        if index > 0:
            self.open(STEP_IDS[index - 1])
        else:
            self.leave()

    def leave(self) -> None:
        """Back from the first step: to the welcome screen, asking first when answers are unsaved."""
        from skynet_tui.screens.dialogs import UnsavedDialog

        def done(choice: str | None) -> None:
            if choice == "save" and not self.save():
                return
            if choice in ("save", "discard"):
                self.app.pop_screen()
                self.app.wizard_closed(self)

        if self.answers.dirty:
            self.app.push_screen(UnsavedDialog("Leave the wizard?", can_save=self.can_save()), done)
        else:
            done("discard")

    def install(self) -> None:
        """Open the install screen for the written workspace (on top of the review)."""
        from skynet_tui.workspace import Workspace

        cluster = self.answers.cluster()
        folder = self.answers.workspace
        assert folder is not None
        ws = Workspace.at(folder)
        self.app.open_install(cluster, ws, self.env, self.simulated)

    def can_save(self) -> bool:
        return self.answers.workspace is not None and not checks.check_workspace(self.answers)[0]

    def save(self) -> bool:
        """Write the answers (a draft when incomplete) to cluster.yaml in the workspace."""
        try:
            path = self.answers.save()
        except (OSError, ValueError) as exc:
            self.app.notify(f"Not saved: {exc}", severity="error", markup=False)
            return False
        self.app.notify(f"Answers saved to {path}", markup=False)
        return True
