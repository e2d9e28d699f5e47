"""Step 5, GitOps: the repository Argo CD follows (remote, branch, path, credentials) and a "test access"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, Static

from skynet_tui.screens.wizard.base import StepScreen
from skynet_tui.screens.wizard.fields import FieldRow
from skynet_tui.wizard import state
from skynet_tui.wizard.access import Access, check_access, own_public_key
from skynet_tui.wizard.catalog import FIELD_BY_PATH, RECIPIENTS


class GitOpsStep(StepScreen):
    """Shows the Git remote Argo CD follows, the branch and the folder inside it, the optional credentials (a
    deploy key file or the name of a token variable), and who the workspace's secrets are shared with (public
    keys; the operator's own ~/.ssh/id_ed25519.pub as the hint); "Test access" runs git ls-remote."""

    STEP = "gitops"
    HEADING = "The repository Argo CD follows. Skynet commits the workspace and pushes it there."

    BINDINGS: ClassVar = [
        *StepScreen.BINDINGS,
        Binding("ctrl+t", "test_access", "Test access", id="wizard.test_access"),
    ]

    DEFAULT_CSS = """
    GitOpsStep #access-row { height: auto; margin-bottom: 1; }
    GitOpsStep #access-row Button { margin-right: 2; }
    GitOpsStep #access-result { width: 1fr; height: auto; }
    """

    @dataclass
    class Tested(Message):
        access: Access

    def compose_body(self) -> ComposeResult:
        yield from super().compose_body()
        with Horizontal(id="access-row"):
            yield Button("Test access", id="test-access", compact=True)
            yield Static("", id="access-result", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        own = own_public_key()  # the operator's own key, suggested as a hint: never filled in unasked
        if own:
            row = self.query_one(f"#row-{FIELD_BY_PATH[RECIPIENTS].widget_id}", FieldRow)
            row.set_placeholder(f"e.g. {own[:40]}… (your ~/.ssh/id_ed25519.pub)")

    def action_test_access(self) -> None:
        data = self.wizard.answers.data
        url = state.get_value(data, "spec.gitops.repoURL")
        if not url or "spec.gitops.repoURL" in self.result.errors:
            self.query_one("#access-result", Static).update("✗ type a valid repository URL first")
            return
        branch = str(state.get_value(data, "spec.gitops.branch") or "main")
        self.query_one("#access-result", Static).update(f"git ls-remote {url} …")
        self.run_test_access(
            str(url),
            branch,
            state.get_value(data, "spec.gitops.credentials.sshKeyFile"),
            state.get_value(data, "spec.gitops.credentials.tokenEnv"),
        )

    @work(thread=True, exclusive=True, group="git-access", exit_on_error=False, description="git ls-remote")
    def run_test_access(self, url: str, branch: str, key: str | None, token_env: str | None) -> None:
        access = check_access(url, branch, ssh_key_file=key, token_env=token_env, env=self.wizard.env)
        self.post_message(self.Tested(access))

    @on(Tested)
    def _tested(self, message: Tested) -> None:
        mark = "✓" if message.access.ok else "✗"
        result = self.query_one("#access-result", Static)
        result.update(f"{mark} {message.access.message}")
        result.scroll_visible()  # on a short terminal the row sits below the fold

    @on(Button.Pressed, "#test-access")
    def _test_pressed(self) -> None:
        self.action_test_access()
