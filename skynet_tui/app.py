"""SkynetApp: the terminal UI shell (welcome → wizard → install), its palette commands, and `run_app`."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from skynet_tui import spec
from skynet_tui.progress import Phase
from skynet_tui.redact import Redactor
from skynet_tui.screens.dialogs import ConfirmDialog, ErrorDialog, UnsavedDialog
from skynet_tui.screens.welcome import (
    CONSOLE,
    RESTORE,
    UPGRADE,
    OpenChoice,
    OpenWorkspaceDialog,
    WelcomeScreen,
)
from skynet_tui.screens.wizard.discover import DiscoveryScreen
from skynet_tui.screens.wizard.steps import STEP_SCREENS
from skynet_tui.status.source import Source, SourceError, of_workspace
from skynet_tui.wizard.catalog import STEPS, StepId
from skynet_tui.wizard.flow import Wizard
from skynet_tui.wizard.state import DRAFT_FILE, Answers, is_draft
from skynet_tui.workspace import Workspace

if TYPE_CHECKING:
    from skynet_tui.spec import Cluster

# (cluster, ws, env) -> the install screen; tests pass one that records what it was given.
BootstrapFactory = Callable[["Cluster", "Workspace", "dict[str, str] | None"], Screen[Any]]
# (source, env) -> the console screen; tests pass one that watches the lab's mock API or records its source.
ConsoleFactory = Callable[[Source, "dict[str, str] | None"], Screen[Any]]


@dataclass(frozen=True)
class BootstrapArgs:
    """An install to open at start (`skynet demo`): its console after a success, else the app ends with it."""

    cluster: Cluster
    ws: Workspace
    env: dict[str, str] | None = None
    simulated: bool = False  # the machines are the lab's


@dataclass(frozen=True)
class DemoArgs:
    """A lab demo to walk at start (`skynet demo`): the wizard from its first step on the lab's answers, then
    the install and the lab cluster's console."""

    cluster: Cluster
    ws: Workspace
    env: dict[str, str]


class SkynetApp(App[int]):
    """The welcome screen first; a wizard per cluster being edited; the install screen after writing; the console
    of a running cluster (after an install, from a finished workspace, or `skynet status`)."""

    CSS_PATH = "app.tcss"
    TITLE = "Skynet"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS: ClassVar = [
        Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit"),
        Binding("f1", "toggle_help", "Keys", id="app.help", show=False),  # too wide for 80 columns
        Binding("ctrl+u", "upgrade_console", "Upgrade", id="app.upgrade"),  # on a workspace's console only
    ]

    @dataclass
    class DemoReady(Message):
        lab: Any
        cluster: Any
        ws: Any

    @dataclass
    class DemoFailed(Message):
        error: str

    @dataclass
    class LiveChecked(Message):
        """Whether a workspace's cluster is up (API reachable, nodes listed): its console, else its install."""

        folder: Path
        up: bool
        why: str

    def __init__(
        self,
        *,
        config: Path | None = None,
        workspace: Path | None = None,
        start: str = "welcome",
        bootstrap: BootstrapArgs | None = None,
        env: dict[str, str] | None = None,
        bootstrap_factory: BootstrapFactory | None = None,
        console: Source | None = None,
        console_factory: ConsoleFactory | None = None,
        upgrade: Path | None = None,
        restore: Path | None = None,
        demo: DemoArgs | None = None,
    ):
        super().__init__()
        self.demo = demo
        self.upgrade_folder = Path(upgrade) if upgrade else None
        self.restore_folder = Path(restore) if restore else None
        self.console_workspaces: dict[Screen[Any], Path] = {}  # the console screens opened on a workspace
        self.config = Path(config) if config else None
        self.workspace = Path(workspace) if workspace else None
        self.start = start
        self.bootstrap = bootstrap
        self.env = env
        self.bootstrap_factory = bootstrap_factory
        self.console_source = console
        self.console_factory = console_factory
        self.wizard: Wizard | None = None
        self.lab: Any = None  # the lab of a demo started from the welcome screen; stopped on exit
        self.install_ok: bool | None = None
        self.install_cancelled = False  # the operator stopped a running install (quit): exit 1, never "up"
        self.install_summary = ""  # the runner's text of the last install that succeeded
        self.demo_running = False  # a lab demo is being walked: no second lab, no other cluster

    # ------------------------------------------------------------ start

    def on_mount(self) -> None:
        self.push_screen(WelcomeScreen())
        if self.console_source is not None:
            self.open_console(self.console_source)
        elif self.bootstrap is not None:
            install = self.bootstrap
            self.open_install(install.cluster, install.ws, install.env, install.simulated, exit_after=True)
        elif self.demo is not None:
            self.start_demo(self.demo.cluster, self.demo.ws, self.demo.env)
        elif self.upgrade_folder is not None:
            self.open_upgrade(self.upgrade_folder)
        elif self.restore_folder is not None:
            self.open_restore(self.restore_folder)
        elif self.config is not None:
            self.open_config(self.config, self.workspace)
        elif self.start == "wizard":
            self.action_new_cluster()

    def open_config(self, path: Path, workspace: Path | None = None) -> None:
        """The wizard prefilled from an answers file (validated already by the CLI) or a saved draft."""
        try:
            if is_draft(path):
                answers = Answers.from_file(path, workspace)
            else:
                answers = Answers.from_cluster(spec.load(path), workspace)
        except spec.SpecError as exc:
            self.notify(f"{path} is invalid:\n{exc}", severity="error", timeout=15, markup=False)
            return
        self.start_wizard(answers, title="Editing")

    def start_wizard(
        self,
        answers: Answers,
        *,
        title: str = "New cluster",
        step: StepId = "cluster",
        env: dict[str, str] | None = None,
        simulated: bool = False,
    ) -> Wizard:
        self.wizard = Wizard(
            self,
            answers,
            env=env if env is not None else self.env,
            simulated=simulated,
            title=title,
        )
        self.wizard.start(step)
        return self.wizard

    # ------------------------------------------------------------ the wizard's host (WizardHost)

    def show_step(self, wizard: Wizard, step: StepId, focus: str | None, *, replace: bool) -> None:
        screen = STEP_SCREENS[step](wizard, focus=focus)
        if replace:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def ask_unsaved(self, question: str, can_save: bool, done: Callable[[str | None], None]) -> None:
        self.push_screen(UnsavedDialog(question, can_save=can_save), done)

    def close_wizard(self, wizard: Wizard) -> None:
        self.pop_screen()
        if self.wizard is wizard:
            self.wizard = None

    def open_install(
        self,
        cluster: Cluster,
        ws: Workspace,
        env: dict[str, str] | None,
        simulated: bool,
        *,
        exit_after: bool = False,
    ) -> None:
        """Push the install screen. When it closes after a success ("Install complete"), the console of the new
        cluster replaces everything above the welcome screen; otherwise, with `exit_after` the app ends with the
        outcome, else it is back where it was."""
        if self.bootstrap_factory is not None:
            screen = self.bootstrap_factory(cluster, ws, env)
        else:
            # The install screen and the runner (~60 ms) load when an install opens, not with the app.
            from skynet_tui.screens.bootstrap import BootstrapScreen

            screen = BootstrapScreen(cluster, ws, env=env, simulated=simulated)

        def closed(ok: Any) -> None:
            if ok is not None:
                self.install_ok = bool(ok)
            if ok:  # "Install complete" continues into the console of the new cluster
                while len(self.screen_stack) > 2:  # the welcome screen sits above Textual's default screen
                    self.pop_screen()
                self.wizard = None
                self.notify(f"{cluster.name} is installed; its workspace is {ws.root}.", markup=False)
                try:
                    self.open_console(of_workspace(ws.root), env)
                except SourceError as exc:
                    self.notify(f"No console: {exc}", severity="warning", markup=False)
                    if exit_after:
                        self.exit(self.exit_code())
            elif exit_after:
                self.exit(self.exit_code())

        self.push_screen(screen, closed)

    def open_console(self, source: Source, env: dict[str, str] | None = None) -> None:
        """Push the console of a cluster; it watches the cluster until it is closed."""
        if self.console_factory is not None:
            self.push_screen(self.console_factory(source, env))
            return
        # The console and the status core load when a console opens (the kubernetes client on its first read).
        from skynet_tui.screens.console import ConsoleScreen
        from skynet_tui.status.monitor import Monitor

        talos_env = env if env is not None else self.env
        screen = ConsoleScreen(
            lambda publish: Monitor(source, publish, env=talos_env),
            title=source.name or source.describe(),
        )
        if source.workspace is not None:
            self.console_workspaces[screen] = source.workspace
        self.push_screen(screen)

    def open_upgrade(self, folder: Path, env: dict[str, str] | None = None) -> None:
        """Push the upgrade screen of a workspace's cluster; it follows the cluster until it is closed."""
        try:
            cluster = spec.load(Path(folder) / "cluster.yaml")
            source = of_workspace(Path(folder))
        except (spec.SpecError, SourceError) as exc:
            self.notify(f"No upgrades for {folder}: {exc}", severity="error", markup=False, timeout=10)
            return
        # The upgrade screen, its plans and the status core load when it opens.
        from skynet_tui.screens.upgrade import UpgradeScreen
        from skynet_tui.status.monitor import Monitor

        talos_env = env if env is not None else self.env
        self.push_screen(
            UpgradeScreen(
                Workspace.at(folder),
                cluster,
                env=talos_env,
                monitor_factory=lambda publish: Monitor(source, publish, env=talos_env),
            )
        )

    def open_restore(self, folder: Path, env: dict[str, str] | None = None) -> None:
        """Push the restore screen of a workspace's cluster (its backups, etcd's quorum, the typed name)."""
        try:
            cluster = spec.load(Path(folder) / "cluster.yaml")
        except spec.SpecError as exc:
            self.notify(f"No restore for {folder}: {exc}", severity="error", markup=False, timeout=10)
            return
        from skynet_tui.screens.restore import RestoreScreen  # loads when it opens

        self.push_screen(
            RestoreScreen(Workspace.at(folder), cluster, env=env if env is not None else self.env)
        )

    def action_upgrade(self) -> None:
        """The Upgrades entry: pick a workspace whose cluster is installed and open its upgrade screen."""
        if self.console_source is not None and self.console_source.workspace is not None:
            self.open_upgrade(self.console_source.workspace)
            return

        def done(choice: OpenChoice | None) -> None:
            if choice is not None:
                self.open_upgrade(choice.path)

        self.push_screen(OpenWorkspaceDialog(day_two=UPGRADE), done)

    def action_restore(self) -> None:
        """The Restore entry: pick a workspace with Talos credentials and open its restore screen."""
        if self.console_source is not None and self.console_source.workspace is not None:
            self.open_restore(self.console_source.workspace)
            return

        def done(choice: OpenChoice | None) -> None:
            if choice is not None:
                self.open_restore(choice.path)

        self.push_screen(OpenWorkspaceDialog(day_two=RESTORE), done)

    def action_toggle_help(self) -> None:
        """F1: the keys of the current screen, and what each does (again: hide them)."""
        from textual.widgets import HelpPanel

        if self.screen.query(HelpPanel):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_upgrade_console(self) -> None:
        """ctrl+u on a workspace's console: its upgrade screen."""
        folder = self.console_workspaces.get(self.screen)
        if folder is not None:
            self.open_upgrade(folder)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "upgrade_console":
            return self.screen in self.console_workspaces
        return True

    def action_console(self) -> None:
        """The Console entry: pick a workspace (or the cluster `skynet status` named) and open its console."""
        if self.console_source is not None:
            self.open_console(self.console_source)
            return

        def done(choice: OpenChoice | None) -> None:
            if choice is None:
                return
            try:
                self.open_console(of_workspace(choice.path))
            except SourceError as exc:
                self.notify(str(exc), severity="error", markup=False, timeout=10)

        self.push_screen(OpenWorkspaceDialog(day_two=CONSOLE), done)

    def on_bootstrap_screen_finished(self, message: Any) -> None:
        self.install_ok = bool(getattr(message, "ok", False))
        self.install_cancelled = bool(getattr(message, "cancelled", False))
        self.install_summary = str(getattr(message, "summary", "") or "") if self.install_ok else ""

    # ------------------------------------------------------------ welcome actions

    def action_new_cluster(self) -> None:
        self.start_wizard(Answers(workspace=str(self.workspace) if self.workspace else None))

    def action_open_workspace(self) -> None:
        def done(choice: OpenChoice | None) -> None:
            if choice is not None:
                self.open_workspace(choice.path, resume=choice.resume)

        self.push_screen(OpenWorkspaceDialog(), done)

    def open_workspace(self, folder: Path, *, resume: bool) -> None:
        """Edit a workspace's answers (drafts too), or open it: its console when its cluster is up (a live check:
        the API answers and lists nodes), else its install, resumed."""
        path = folder / "cluster.yaml"
        if resume:
            try:
                spec.load(path)
            except spec.SpecError as exc:
                self.notify(f"Cannot resume: {exc}", severity="error", markup=False)
                return
            if Workspace.at(folder).kubeconfig.is_file():
                self.notify(f"Checking whether {folder.name}'s cluster is up…", markup=False)
                self.check_live(folder)
            else:
                self.resume_install(folder)
            return
        draft = folder / DRAFT_FILE
        if draft.is_file():  # the draft saved beside valid answers is the latest edit
            path = draft
            self.notify(f"Opened the draft {draft}; cluster.yaml keeps the last valid answers.", markup=False)
        try:
            answers = Answers.from_file(path, folder)
        except spec.SpecError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        valid = not spec.check(answers.data)
        self.start_wizard(answers, title="Editing", step="review" if valid else "cluster")

    def resume_install(self, folder: Path) -> None:
        try:
            cluster = spec.load(folder / "cluster.yaml")
        except spec.SpecError as exc:
            self.notify(f"Cannot resume: {exc}", severity="error", markup=False)
            return
        self.open_install(cluster, Workspace.at(folder), self.env, False)

    @work(
        thread=True,
        exclusive=True,
        group="live-check",
        exit_on_error=False,
        description="Checking the cluster",
    )
    def check_live(self, folder: Path) -> None:
        # The status core (the kubernetes client, ~0.3 s) loads for the check, on this worker thread.
        from skynet_tui.status.reads import live_check

        up, why = live_check(Workspace.at(folder).kubeconfig)
        self.post_message(self.LiveChecked(folder, up, why))

    @on(LiveChecked)
    def _live_checked(self, message: LiveChecked) -> None:
        if message.up:
            try:
                self.open_console(of_workspace(message.folder))
                return
            except SourceError as exc:
                message = self.LiveChecked(message.folder, False, str(exc))
        self.notify(f"The cluster is not up ({message.why}): resuming its install.", markup=False, timeout=8)
        self.resume_install(message.folder)

    def action_lab_demo(self) -> None:
        if self.lab is not None or self.demo_running:
            self.notify("The lab demo is already running.", markup=False)
            return
        self.notify("Starting the SIMULATED lab …", markup=False)
        self.prepare_demo()

    @work(thread=True, exclusive=True, group="lab", exit_on_error=False, description="Starting the lab")
    def prepare_demo(self) -> None:
        # the lab (with aiohttp, ~0.5 s) loads only for the demo
        from skynet_tui.demo import default_root, prepare_demo

        # `skynet demo`'s folder: a demo stopped here resumes there (and the other way round), nothing piles up.
        root = default_root()
        try:
            lab, cluster, ws = prepare_demo(root)
        except Exception as exc:  # the lab is optional: say why it did not start
            self.post_message(self.DemoFailed(str(exc)))
            return
        self.post_message(self.DemoReady(lab, cluster, ws))

    @on(DemoReady)
    def _demo_ready(self, message: DemoReady) -> None:
        from skynet_tui.demo import demo_env

        self.lab = message.lab
        self.start_demo(message.cluster, message.ws, demo_env(message.lab))
        self.notify(
            f"Demo folder {message.ws.root.parent}: a demo stopped here resumes with l or `skynet demo`; "
            "`skynet demo --fresh` starts over.",
            timeout=10,
            markup=False,
        )

    def start_demo(self, cluster: Cluster, ws: Workspace, env: dict[str, str]) -> None:
        """The wizard from its first step on the lab's answers: every field filled in and valid."""
        self.demo_running = True
        answers = Answers.from_cluster(cluster, ws.root)
        self.start_wizard(answers, title="Lab demo", env=env, simulated=True)
        self.notify(
            "Every answer for the SIMULATED lab is filled in: ctrl+n walks through the steps to the review, "
            "which writes the workspace and installs. F1 lists the keys.",
            timeout=10,
            markup=False,
        )

    @on(DemoFailed)
    def _demo_failed(self, message: DemoFailed) -> None:
        self.notify(f"The lab did not start: {message.error}", severity="error", timeout=10, markup=False)

    # ------------------------------------------------------------ quitting

    async def action_quit(self) -> None:
        """Quit; ask first when answers are unsaved or an install is running."""
        if self.install_running():

            def stop(confirmed: bool | None) -> None:
                if confirmed:
                    # The install screen cancels its run as it unmounts; the outcome is "cancelled", not a success.
                    self.install_ok, self.install_cancelled, self.install_summary = False, True, ""
                    self.exit(self.exit_code())

            again = (
                "Run skynet demo again to resume."
                if self.demo is not None
                else "Run skynet again and open the workspace to resume."
            )
            self.push_screen(
                ConfirmDialog(
                    "Stop the install and quit?",
                    f"The running steps are stopped. {again}",
                    confirm="Stop and quit",
                ),
                stop,
            )
            return
        wizard = self.wizard
        if wizard is None or not wizard.answers.dirty:
            self.exit(self.exit_code())
            return

        def done(choice: str | None) -> None:
            if choice == "save" and not wizard.save():
                return
            if choice in ("save", "discard"):
                self.exit(self.exit_code())

        self.push_screen(UnsavedDialog("Quit Skynet?", can_save=wizard.can_save()), done)

    def install_running(self) -> bool:
        running = (Phase.STARTING, Phase.RUNNING)
        return any(getattr(screen, "phase", None) in running for screen in self.screen_stack)

    def exit_code(self) -> int:
        return 1 if self.install_ok is False else 0

    def print_outcome(self, code: int) -> None:
        """Once the screen is gone, keep what the install ended with on the terminal: the runner's summary of a
        run that succeeded (it says "is up" only when the run checked it), or that it was cancelled."""
        if code == 0 and self.install_summary:
            print(self.install_summary, flush=True)
        elif self.install_cancelled:
            print("Install cancelled; run again to resume.", file=sys.stderr, flush=True)

    def on_unmount(self) -> None:
        if self.lab is not None:
            self.lab.stop()
            self.lab = None

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """A worker that raised is a bug: show it instead of ending the app."""
        if event.state != WorkerState.ERROR:
            return
        worker = event.worker
        text = Redactor()(f"{type(worker.error).__name__}: {worker.error}")
        self.push_screen(ErrorDialog(f"{worker.description or worker.name} failed", text))

    # ------------------------------------------------------------ command palette

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        # What starts another cluster (or a second lab) is offered on the welcome screen only, and never
        # during a lab demo: the demo's workspace is the one quitting names to resume.
        if isinstance(screen, WelcomeScreen) and not self.demo_running:
            yield SystemCommand("New cluster", "Start the wizard with empty answers", self.action_new_cluster)
            yield SystemCommand(
                "Open a workspace",
                "Edit a workspace's answers or resume its install",
                self.action_open_workspace,
            )
            yield SystemCommand("Lab demo", "Everything against SIMULATED machines", self.action_lab_demo)
            yield SystemCommand(
                "Console", "Day two: the live status of a workspace's cluster", self.action_console
            )
            yield SystemCommand(
                "Upgrades", "Day two: Talos, Kubernetes or the platform's charts, gated", self.action_upgrade
            )
            yield SystemCommand(
                "Restore",
                "Disaster recovery: etcd from a backup, when the cluster is lost",
                self.action_restore,
            )
        commands = getattr(screen, "palette_commands", None)
        if commands is not None:
            for title, text, callback in commands():
                yield SystemCommand(title, text, callback)
        wizard = self.wizard
        on_its_screen = getattr(screen, "wizard", None) is wizard
        if wizard is not None and wizard.current and on_its_screen:
            yield SystemCommand("Save answers", "Write cluster.yaml into the workspace", wizard.save)
            for step in STEPS:
                yield SystemCommand(
                    f"Go to step: {step.title}",
                    f"Open the {step.title} step",
                    lambda s=step.id: wizard.open(s),
                )
            yield SystemCommand("Scan for nodes", "Find machines in maintenance mode", self._scan_nodes)
        yield from super().get_system_commands(screen)

    def _scan_nodes(self) -> None:
        if self.wizard is not None:
            self.wizard.open("nodes")
            self.push_screen(DiscoveryScreen(self.wizard))


def run_app(
    *,
    config: Path | None = None,
    workspace: Path | None = None,
    start: str = "welcome",
    bootstrap: BootstrapArgs | None = None,
    console: Source | None = None,
    upgrade: Path | None = None,
    restore: Path | None = None,
    demo: DemoArgs | None = None,
) -> int:
    """Run the terminal UI until it quits; the exit code is 1 when an install failed or was stopped, else 0.

    With `bootstrap`, what the install ended with stays on the terminal: the runner's summary after a success
    (it says "is up" only when the run checked it), "cancelled" after the operator stopped it."""
    app = SkynetApp(
        config=config,
        workspace=workspace,
        start=start,
        bootstrap=bootstrap,
        console=console,
        upgrade=upgrade,
        restore=restore,
        demo=demo,
    )
    result = app.run()
    code = int(result) if isinstance(result, int) else app.exit_code()
    if bootstrap is not None or demo is not None:
        app.print_outcome(code)
    return code
