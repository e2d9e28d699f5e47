"""The wizard session: the answers, which steps were seen, and moving between steps through its host."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Protocol

from skynet_tui.discovery import Hardware
from skynet_tui.spec import Cluster
from skynet_tui.wizard import checks
from skynet_tui.wizard.catalog import STEP_IDS, StepId
from skynet_tui.wizard.state import DRAFT_FILE, Answers, is_draft
from skynet_tui.workspace import Workspace, WorkspaceError

Severity = Literal["information", "warning", "error"]


class WizardHost(Protocol):
    """The UI a wizard session runs in (the app): the session, and through it every step screen, calls back
    into it to show a step, ask about unsaved answers, close, install and notify."""

    def show_step(self, wizard: Wizard, step: StepId, focus: str | None, *, replace: bool) -> None:
        """Show the screen of `step`: on top of the current screen, or (`replace`) instead of it."""

    def ask_unsaved(self, question: str, can_save: bool, done: Callable[[str | None], None]) -> None:
        """Ask save / discard / stay; `done` gets "save", "discard" or None."""

    def close_wizard(self, wizard: Wizard) -> None:
        """Close the current step screen and forget the session."""

    def open_install(
        self, cluster: Cluster, ws: Workspace, env: dict[str, str] | None, simulated: bool
    ) -> None: ...

    def notify(self, message: str, *, severity: Severity = "information", markup: bool = True) -> None: ...


class Wizard:
    """One editing session of a cluster's answers; step screens read and write `answers` through it."""

    def __init__(
        self,
        host: WizardHost,
        answers: Answers,
        *,
        env: dict[str, str] | None = None,
        simulated: bool = False,
        title: str = "New cluster",
    ):
        self.host = host
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

    def _show(self, step: StepId, focus: str | None, *, replace: bool) -> None:
        self.current = step
        self.visited.add(step)
        self.host.show_step(self, step, focus, replace=replace)

    def start(self, step: StepId = "cluster", focus: str | None = None) -> None:
        """Show the wizard on top of the current screen."""
        self._show(step, focus, replace=False)

    def open(self, step: StepId, focus: str | None = None) -> None:
        """Replace the current step screen with another step (focus: a field path or node location)."""
        self._show(step, focus, replace=True)

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

        def done(choice: str | None) -> None:
            if choice == "save" and not self.save():
                return
            if choice in ("save", "discard"):
                self.host.close_wizard(self)

        if self.answers.dirty:
            self.host.ask_unsaved("Leave the wizard?", self.can_save(), done)
        else:
            done("discard")

    def install(self) -> None:
        """Open the install screen for the written workspace (on top of the review)."""
        cluster = self.answers.cluster()
        folder = self.answers.workspace
        assert folder is not None
        self.host.open_install(cluster, Workspace.at(folder), self.env, self.simulated)

    def can_save(self) -> bool:
        return self.answers.workspace is not None and not checks.check_workspace(self.answers)[0]

    def save(self) -> bool:
        """Write the answers (a draft when incomplete) to cluster.yaml in the workspace."""
        try:
            path = self.answers.save()
        except (OSError, ValueError, WorkspaceError) as exc:
            self.host.notify(f"Not saved: {exc}", severity="error", markup=False)
            return False
        if path.name == DRAFT_FILE:
            self.host.notify(
                f"The answers have problems: saved as a draft to {path}; the valid {path.with_name('cluster.yaml')} "
                "is unchanged",
                severity="warning",
                markup=False,
            )
        elif is_draft(path):
            self.host.notify(f"Draft saved to {path} (the answers are not complete yet)", markup=False)
        else:
            self.host.notify(f"Answers saved to {path}", markup=False)
        return True
