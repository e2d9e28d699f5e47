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

# What git printed above its last "fatal:" line, and what to do about it.
_CAUSES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("host key verification failed", "remote host identification has changed"),
        "the server's SSH host key is unknown or differs from ~/.ssh/known_hosts: check the host "
        "(ssh-keyscan), then add or update its key in known_hosts",
    ),
    (
        ("permission denied", "authentication failed", "could not read username", "could not read password"),
        "the server refused the credentials: check that the deploy key (or the token) is the one the "
        "repository knows and has read access",
    ),
    (
        ("repository not found", "does not appear to be a git repository", "not found"),
        "no such repository, or these credentials cannot see it: check the URL",
    ),
    (
        ("could not resolve hostname", "could not resolve host", "name or service not known"),
        "the server's name does not resolve: check the URL and this machine's DNS",
    ),
    (
        ("connection refused", "connection timed out", "network is unreachable", "no route to host"),
        "the server cannot be reached: check the URL's host and port and the network path",
    ),
)


def explain_failure(lines: list[str]) -> str:
    """git's reason for a failed ls-remote: the cause it printed above its generic last line ("fatal: Could
    not read from remote repository."), with what to do when the cause is a known one."""
    lines = [line.strip() for line in lines if line.strip()]
    if not lines:
        return ""
    text = "\n".join(lines).lower()
    for markers, advice in _CAUSES:
        hit = next((line for line in lines if any(m in line.lower() for m in markers)), None)
        if hit is not None and any(m in text for m in markers):
            return f"{hit.removeprefix('fatal: ').removeprefix('ERROR: ')}: {advice}"
    errors = [line for line in lines if line.lower().startswith(("fatal:", "error:"))]
    return errors[0] if errors else lines[-1]


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
        reason = explain_failure([line for _, line in result.lines])
        return Access(False, reason or f"git exited {result.returncode}")
    for line in result.stdout.splitlines():
        sha, _, ref = line.partition("\t")
        if ref.strip() == f"refs/heads/{branch}":
            return Access(True, f"reachable; branch {branch} is at {sha[:7]}")
    return Access(True, f"reachable; branch {branch} does not exist yet (the first push creates it)")


def own_public_key(limit: int = 16 * 1024) -> str | None:
    """The first line of the operator's ~/.ssh/id_ed25519.pub (HOME honoured), when there is one."""
    path = Path("~/.ssh/id_ed25519.pub").expanduser()
    try:
        if not path.is_file() or path.stat().st_size > limit:
            return None
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return lines[0].strip() if lines and lines[0].startswith("ssh-ed25519 ") else None
