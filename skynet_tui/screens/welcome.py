"""The welcome screen (new cluster, open a workspace, lab demo; day-two entries) and the open dialog."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from skynet_tui import journal, spec

TAGLINE = "From bare-metal machines in Talos maintenance mode to a GitOps-managed Kubernetes platform."


@dataclass(frozen=True)
class WorkspaceInfo:
    """A folder holding a cluster.yaml, and how far it got."""

    path: Path
    name: str
    status: str
    valid: bool
    install_started: bool


def inspect_workspace(folder: Path) -> WorkspaceInfo | None:
    """What a workspace folder holds: draft or valid answers, written files, an install under way."""
    answers = folder / "cluster.yaml"
    if not answers.is_file():
        return None
    try:
        name = spec.load(answers).name
        valid = True
    except spec.SpecError:
        name, valid = folder.name, False
    journal_path = folder / "journal.jsonl"
    started = journal_path.is_file()
    if not valid:
        status = "draft answers (incomplete)"
    elif started:
        status = f"install started ({len(journal.finished(journal_path))} steps done)"
    elif (folder / ".git").is_dir():
        status = "written, not installed"
    else:
        status = "answers saved"
    return WorkspaceInfo(folder, name, status, valid, started)


def find_workspaces(base: Path) -> list[WorkspaceInfo]:
    """Workspaces in `base` itself and its direct subfolders."""
    found = []
    for folder in [base, *sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))]:
        info = inspect_workspace(folder)
        if info is not None:
            found.append(info)
    return found


def _short(path: Path) -> str:
    """A folder as typed: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class WelcomeScreen(Screen[None]):
    """Shows what Skynet does and where to start: a new cluster, an existing workspace (its console when its
    cluster is up, else its install resumed; or its answers to edit) or the simulated lab demo, plus the day-two
    entries: the console of a workspace's cluster, guided upgrades of it, and its restore from a backup."""

    BINDINGS: ClassVar = [
        Binding("n", "app.new_cluster", "New cluster", id="welcome.new"),
        Binding("o", "app.open_workspace", "Open workspace", id="welcome.open"),
        Binding("l", "app.lab_demo", "Lab demo", id="welcome.lab"),
        Binding("c", "app.console", "Console", id="welcome.console"),
        Binding("u", "app.upgrade", "Upgrades", id="welcome.upgrade"),
        Binding("r", "app.restore", "Restore", id="welcome.restore"),
    ]

    DEFAULT_CSS = """
    WelcomeScreen { align: center middle; }
    WelcomeScreen #welcome { width: 76; max-width: 100%; height: auto; padding: 0 1; }
    WelcomeScreen #welcome-title { text-style: bold; color: $accent; }
    WelcomeScreen #welcome-title:nocolor { text-style: bold reverse; }
    WelcomeScreen #welcome-tagline { color: $text-muted; margin-bottom: 1; }
    WelcomeScreen #welcome-menu { height: auto; max-height: 16; }
    WelcomeScreen #welcome-found { color: $text-muted; margin-top: 1; height: auto; }
    """

    MENU: ClassVar = (
        ("new", "New cluster", "answer the wizard; Skynet writes Talos configs and an Argo CD repo"),
        ("open", "Open a workspace", "its console once installed, else its install resumed; or edit it"),
        ("lab", "Lab demo", "the whole arc on SIMULATED machines; nothing leaves this computer"),
        None,
        ("console", "Console", "day two: every layer of a running cluster: nodes, apps, pods, logs"),
        ("upgrade", "Upgrades", "day two: Talos, Kubernetes and platform charts, node by node"),
        (
            "restore",
            "Restore",
            "disaster recovery: etcd back from a backup when the cluster is lost",
        ),
    )

    def compose(self) -> ComposeResult:
        with Vertical(id="welcome"):
            yield Static("SKYNET", id="welcome-title")
            yield Static(TAGLINE, id="welcome-tagline")
            yield OptionList(*self._options(), id="welcome-menu")
            yield Static("", id="welcome-found", markup=False)
        yield Footer()

    def _options(self) -> list[Option | None]:
        options: list[Option | None] = []
        for entry in self.MENU:
            if entry is None:
                options.append(None)
                continue
            key, title, text = entry
            options.append(Option(f"{title}\n  {text}", id=key))
        return options

    def on_mount(self) -> None:
        self.query_one("#welcome-menu", OptionList).focus()
        self.refresh_found()

    def on_screen_resume(self) -> None:
        self.refresh_found()

    def refresh_found(self) -> None:
        try:
            found = find_workspaces(Path.cwd())
        except OSError:
            found = []
        text = ""
        if found:
            shown = ", ".join(f"{w.path.name}/ ({w.status})" for w in found[:4])
            text = f"Workspaces here: {shown}" + (" …" if len(found) > 4 else "")
        self.query_one("#welcome-found", Static).update(text)

    @on(OptionList.OptionSelected, "#welcome-menu")
    async def _chosen(self, event: OptionList.OptionSelected) -> None:
        action = {
            "new": "new_cluster",
            "open": "open_workspace",
            "lab": "lab_demo",
            "console": "console",
            "upgrade": "upgrade",
            "restore": "restore",
        }.get(event.option.id or "")
        if action:
            await self.app.run_action(action)


@dataclass(frozen=True)
class OpenChoice:
    path: Path
    resume: (
        bool  # True: open it (its console if the cluster is up, else resume the install); False: edit answers
    )


@dataclass(frozen=True)
class DayTwo:
    """What a day-two entry asks of the workspace it opens: its heading, button, and the file it needs."""

    heading: str
    button: str
    needs: str  # relative to the workspace
    lacks: str  # said when the file is missing


CONSOLE = DayTwo(
    "Open a console", "Open console", "secrets/kubeconfig", "no kubeconfig yet (secrets/kubeconfig)"
)
UPGRADE = DayTwo("Upgrade a cluster", "Open upgrades", "secrets/kubeconfig", CONSOLE.lacks)
RESTORE = DayTwo(
    "Restore a cluster from an etcd backup",
    "Open restore",
    "secrets/talosconfig",
    "no talosconfig (secrets/talosconfig): a restore talks to the control planes through Talos",
)


class OpenWorkspaceDialog(ModalScreen[OpenChoice | None]):
    """Asks for a workspace folder (the ones found here are listed) and whether to edit its answers or to
    resume its install."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel", id="open.cancel")]

    DEFAULT_CSS = """
    OpenWorkspaceDialog { align: center middle; }
    OpenWorkspaceDialog > Vertical { width: 76; max-width: 96%; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 1 2; }
    OpenWorkspaceDialog #open-title { text-style: bold; margin-bottom: 1; }
    OpenWorkspaceDialog #open-list { height: auto; max-height: 8; margin-top: 1; }
    OpenWorkspaceDialog #open-info { height: auto; margin-top: 1; }
    OpenWorkspaceDialog .dialog-buttons { height: 1; margin-top: 1; align-horizontal: right; }
    OpenWorkspaceDialog .dialog-buttons Button { margin-left: 2; }
    """

    def __init__(self, base: Path | None = None, *, day_two: DayTwo | None = None):
        super().__init__()
        self.day_two = day_two
        self.base = base or Path.cwd()
        try:
            self.found = find_workspaces(self.base)
        except OSError:
            self.found = []
        self.info: WorkspaceInfo | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.day_two.heading if self.day_two else "Open a workspace", id="open-title")
            yield Input(
                placeholder="folder with a cluster.yaml, e.g. ./homelab", id="open-path", compact=True
            )
            options = [
                Option(f"{_short(w.path)}  ({w.name}: {w.status})", id=str(i))
                for i, w in enumerate(self.found)
            ]
            yield OptionList(*options, id="open-list")
            yield Static("", id="open-info", markup=False)
            with Horizontal(classes="dialog-buttons"):
                if self.day_two:
                    yield Button(
                        self.day_two.button,
                        id="open-console",
                        variant="primary",
                        compact=True,
                        disabled=True,
                    )
                else:
                    yield Button(
                        "Edit answers", id="open-edit", variant="primary", compact=True, disabled=True
                    )
                    yield Button("Open", id="open-resume", compact=True, disabled=True)
                yield Button("Cancel", id="open-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#open-list", OptionList).display = bool(self.found)
        if self.found:
            self.query_one("#open-path", Input).value = _short(self.found[0].path)
        self.query_one("#open-path", Input).focus()

    @on(Input.Changed, "#open-path")
    def _typed(self, event: Input.Changed) -> None:
        text = event.value.strip()
        folder = Path(text).expanduser() if text else None
        self.info = inspect_workspace(folder) if folder is not None and folder.is_dir() else None
        info_line = self.query_one("#open-info", Static)
        if self.info is None:
            info_line.update("No cluster.yaml there." if text else "")
        elif self.day_two and not self._ready():
            info_line.update(f"{self.info.name}: {self.info.status}; {self.day_two.lacks}")
        else:
            info_line.update(f"{self.info.name}: {self.info.status}")
        if self.day_two:
            self.query_one("#open-console", Button).disabled = not self._ready()
            return
        self.query_one("#open-edit", Button).disabled = self.info is None
        self.query_one("#open-resume", Button).disabled = not (self.info and self.info.valid)

    def _ready(self) -> bool:
        """A day-two entry's workspace holds the file that entry needs."""
        return (
            self.info is not None
            and self.day_two is not None
            and (self.info.path / self.day_two.needs).is_file()
        )

    @on(OptionList.OptionSelected, "#open-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.query_one("#open-path", Input).value = _short(self.found[int(event.option.id or 0)].path)
        self.query_one("#open-path", Input).focus()

    @on(Input.Submitted, "#open-path")
    def _submitted(self) -> None:
        if self.day_two:
            if self._ready() and self.info is not None:
                self.dismiss(OpenChoice(self.info.path, resume=True))
        elif self.info is not None:
            self.dismiss(OpenChoice(self.info.path, resume=False))

    @on(Button.Pressed, "#open-console")
    def _open_console(self) -> None:
        if self.info is not None and self._ready():
            self.dismiss(OpenChoice(self.info.path, resume=True))

    @on(Button.Pressed, "#open-edit")
    def _edit(self) -> None:
        if self.info is not None:
            self.dismiss(OpenChoice(self.info.path, resume=False))

    @on(Button.Pressed, "#open-resume")
    def _resume(self) -> None:
        if self.info is not None and self.info.valid:
            self.dismiss(OpenChoice(self.info.path, resume=True))

    @on(Button.Pressed, "#open-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
