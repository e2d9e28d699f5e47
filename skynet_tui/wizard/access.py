"""Whether this machine can read the GitOps remote: `git ls-remote` through the launcher, never prompting."""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from skynet_tui import launcher
from skynet_tui.redact import Redactor

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
