"""Step 5, GitOps: the repository Argo CD follows (remote, branch, path, credentials) and a "test access"."""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, Static

from skynet_tui import launcher
from skynet_tui.redact import Redactor
from skynet_tui.screens.wizard import state
from skynet_tui.screens.wizard.base import StepScreen

LS_REMOTE_TIMEOUT = 20.0


@dataclass(frozen=True)
class Access:
    """The outcome of `git ls-remote` against the GitOps remote."""

    ok: bool
    message: str


def check_access(
    url: str,
    branch: str,
    *,
    ssh_key_file: str | None = None,
    token_env: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = LS_REMOTE_TIMEOUT,
) -> Access:
    """Can this machine read the repository, and does the branch exist? Runs `git ls-remote` through the
    launcher with no prompt; a token is handed to git by a credential helper reading the environment, so
    it never appears in an argument or a message."""
    run_env = {**(env if env is not None else os.environ), "GIT_TERMINAL_PROMPT": "0"}
    options: list[str] = []
    redactor = Redactor()
    ssh = "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new"
    if token_env:
        token = run_env.get(token_env, "").strip()
        if not token:
            return Access(
                False, f"the environment variable {token_env} is not set; export the token and retry"
            )
        redactor.add(token)
        helper = (
            f'!f() {{ test "$1" = get || exit 0; echo username=git; echo "password=${{{token_env}}}"; }}; f'
        )
        options = ["-c", "credential.helper=", "-c", f"credential.helper={helper}"]
    if ssh_key_file:
        key = Path(ssh_key_file).expanduser()
        if not key.is_file():
            return Access(False, f"the deploy key {key} does not exist")
        ssh += f" -i {shlex.quote(str(key))} -o IdentitiesOnly=yes"
    run_env["GIT_SSH_COMMAND"] = ssh
    argv = ["git", *options, "ls-remote", "--heads", url, f"refs/heads/{branch}"]
    try:
        result = launcher.run(argv, env=run_env, redactor=redactor, timeout=timeout)
    except launcher.ToolNotFound as exc:
        return Access(False, str(exc))
    if result.timed_out:
        return Access(False, f"no answer from {url} within {timeout:.0f} s")
    if not result.ok:
        lines = [line.strip() for _, line in result.lines if line.strip()]
        first_error = next((line for line in lines if line.lower().startswith(("fatal:", "error:"))), None)
        return Access(False, first_error or (lines[-1] if lines else f"git exited {result.returncode}"))
    for line in result.stdout.splitlines():
        sha, _, ref = line.partition("\t")
        if ref.strip() == f"refs/heads/{branch}":
            return Access(True, f"reachable; branch {branch} is at {sha[:7]}")
    return Access(True, f"reachable; branch {branch} does not exist yet (the first push creates it)")


class GitOpsStep(StepScreen):
    """Shows the Git remote Argo CD follows, the branch and the folder inside it, and the optional
    credentials (a deploy key file or the name of a token variable); "Test access" runs git ls-remote."""

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
