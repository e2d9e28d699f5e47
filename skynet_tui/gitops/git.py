"""Write the GitOps tree into the workspace and push the workspace to the GitOps remote."""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path

from skynet_tui import launcher
from skynet_tui.gitops.checks import check_tree
from skynet_tui.gitops.errors import GitOpsError
from skynet_tui.gitops.render import render_tree
from skynet_tui.spec import Cluster
from skynet_tui.spec.platform import WORKSPACE_NAMES
from skynet_tui.workspace import GIT_IDENTITY, Workspace

REMOTE = "origin"

_NON_FAST_FORWARD = ("non-fast-forward", "fetch first", "[rejected]")
_AUTH = (
    "authentication failed",
    "permission denied",
    "could not read username",
    "could not read password",
    "terminal prompts disabled",
    "invalid username or password",
    "access denied",
    "http 401",
    "http 403",
    "returned error: 401",
    "returned error: 403",
)
_SSH_BATCH = "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new"


def gitops_folder(ws: Workspace, cluster: Cluster) -> Path:
    """<workspace>/<gitops.path>: a folder of its own inside the workspace, never the root or one of its parts
    (write_tree deletes what the tree no longer has there)."""
    relative = cluster.spec.gitops.path
    base = (ws.root / relative).resolve()
    # Workspace names the GitOps folder must never be (stale-file removal would empty them); spec refuses them
    # as answers already, this guards callers that built a cluster by hand.
    if (
        base == ws.root
        or not base.is_relative_to(ws.root)
        or relative.split("/")[0].lower() in WORKSPACE_NAMES
    ):
        raise GitOpsError(
            f"gitops.path {relative!r} collides with the workspace's own files; use e.g. gitops"
        )
    return base


def checked_tree(cluster: Cluster) -> dict[str, str]:
    """The rendered tree (path relative to the GitOps folder → text); GitOpsError when it fails its checks."""
    files = render_tree(cluster)
    problems = check_tree(files)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise GitOpsError(f"the rendered GitOps tree failed its checks: {problems[0]}{more}")
    return files


def write_tree(ws: Workspace, cluster: Cluster, files: dict[str, str] | None = None) -> list[str]:
    """Write the tree (rendered and checked here unless given) into <workspace>/<gitops.path>; drop files it
    no longer has.

    Returns the changed paths (relative to the GitOps folder), sorted. Raises GitOpsError, writing nothing,
    when the rendered tree fails its checks, and WorkspaceUnusable when a link lies on the way of a file.
    """
    base = gitops_folder(ws, cluster)
    files = checked_tree(cluster) if files is None else files
    prefix = cluster.spec.gitops.path
    ws.check_links(f"{prefix}/{rel}" for rel in files)
    changed = [rel for rel, text in files.items() if ws.write(f"{prefix}/{rel}", text)]
    if base.is_dir():
        for path in sorted(base.rglob("*")):
            if (path.is_file() or path.is_symlink()) and path.relative_to(base).as_posix() not in files:
                path.unlink()
                changed.append(path.relative_to(base).as_posix())
        folders = sorted((p for p in base.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True)
        for folder in folders:
            if not any(folder.iterdir()):
                folder.rmdir()
    return sorted(changed)


def _credentials(cluster: Cluster, env: dict[str, str]) -> tuple[list[str], list[str]]:
    """git -c options and extra values to redact, for the remote's credentials; env is updated in place."""
    creds = cluster.spec.gitops.credentials
    if creds is None:
        # Never let ssh ask for a passphrase or a host key confirmation: there is no terminal to answer it.
        env.setdefault("GIT_SSH_COMMAND", _SSH_BATCH)
        return [], []
    if creds.token_env:
        variable = creds.token_env
        token = env.get(variable, "")
        if not token.strip():
            raise GitOpsError(
                f"the environment variable {variable} (spec.gitops.credentials.tokenEnv) is not set; "
                "export the repository token in it and push again"
            )
        return _token_helper(variable), [token.strip()]
    key = Path(str(creds.ssh_key_file)).expanduser()
    if not key.is_file():
        raise GitOpsError(f"the deploy key {key} (spec.gitops.credentials.sshKeyFile) does not exist")
    env["GIT_SSH_COMMAND"] = f"{_SSH_BATCH} -i {shlex.quote(str(key))} -o IdentitiesOnly=yes"
    return [], []


def _token_helper(variable: str) -> list[str]:
    """git -c options whose helper prints the token from the environment at the moment git asks: it never
    appears in a URL, an argument, a config file or the remote's settings."""
    helper = f'!f() {{ test "$1" = get || exit 0; echo username=git; echo "password=${{{variable}}}"; }}; f'
    return ["-c", "credential.helper=", "-c", f"credential.helper={helper}"]


def _push_argv(cluster: Cluster, options: list[str]) -> list[str]:
    branch = cluster.spec.gitops.branch
    return ["git", *options, "push", "--porcelain", REMOTE, f"HEAD:refs/heads/{branch}"]


def push_commands(ws: Workspace, cluster: Cluster) -> list[list[str] | str]:
    """The git commands `push` runs, for `skynet plan --commands` (nothing is run)."""
    gitops, creds = cluster.spec.gitops, cluster.spec.gitops.credentials
    options = _token_helper(creds.token_env) if creds and creds.token_env else []
    ssh = "with GIT_SSH_COMMAND set to ssh in batch mode" + (
        f" with the deploy key {creds.ssh_key_file}" if creds and creds.ssh_key_file else ""
    )
    return [
        ["git", "rev-parse", "--verify", "-q", "HEAD"],
        ["git", "remote", "get-url", REMOTE],
        f"# when {REMOTE} is missing or points elsewhere (one of):",
        ["git", "remote", "add", REMOTE, gitops.repo_url],
        ["git", "remote", "set-url", REMOTE, gitops.repo_url],
        *([] if options else [f"# {ssh}:"]),
        _push_argv(cluster, options),
    ]


def _classify(url: str, branch: str, result: launcher.Result) -> GitOpsError:
    text = result.text().lower()
    if "[remote rejected]" in text:
        reason = next((line for _, line in result.lines if "remote rejected" in line), "").strip()
        return GitOpsError(
            f"{url} refused the push to {branch}: {reason}; check the branch's protection rules"
        )
    if any(marker in text for marker in _NON_FAST_FORWARD):
        return GitOpsError(
            f"push to {url} rejected: {branch} there has commits this workspace lacks (non-fast-forward); "
            "your local commit is kept: merge or reset the remote branch, then push again"
        )
    if "host key verification failed" in text:
        return GitOpsError(
            f"push to {url} failed: the SSH host key differs from the one in ~/.ssh/known_hosts; "
            "check the host, then update known_hosts"
        )
    if any(marker in text for marker in _AUTH):
        return GitOpsError(
            f"push to {url} failed: authentication was refused; check gitops.credentials "
            "(deploy key with write access, or a token with push rights)"
        )
    if result.timed_out:
        return GitOpsError(f"push to {url} timed out; check the network path to the repository")
    # git says what went wrong on its first fatal/error line; the lines after it are generic advice.
    lines = [line.strip() for _, line in result.lines if line.strip()]
    first_error = next((line for line in lines if line.startswith(("fatal:", "error:"))), None)
    reason = first_error or (lines[-1] if lines else f"exit code {result.returncode}")
    return GitOpsError(f"push to {url} failed: {reason}")


def push(
    ws: Workspace,
    cluster: Cluster,
    on_line: launcher.LineCallback | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300.0,
    on_command: launcher.CommandCallback | None = None,
) -> None:
    """Push the workspace's committed HEAD to gitops.repoURL, branch gitops.branch (remote "origin").

    `env` (default: this process's environment) holds the token of gitops.credentials.tokenEnv. Nothing local
    changes on failure: a rejected push raises GitOpsError with a one-line reason.
    """
    gitops = cluster.spec.gitops
    env = {**(env if env is not None else os.environ), **GIT_IDENTITY, "GIT_TERMINAL_PROMPT": "0"}
    options, hidden = _credentials(cluster, env)
    if ws.git("rev-parse", "--verify", "-q", "HEAD", check=False, on_command=on_command).returncode != 0:
        raise GitOpsError("the workspace has no commit yet; run skynet generate first")
    current = ws.git("remote", "get-url", REMOTE, check=False, on_command=on_command)
    if not current.ok:
        ws.git("remote", "add", REMOTE, gitops.repo_url, on_command=on_command)
    elif current.stdout.strip() != gitops.repo_url:
        ws.git("remote", "set-url", REMOTE, gitops.repo_url, on_command=on_command)
    redactor = ws.redactor()
    redactor.add(*hidden)
    argv = _push_argv(cluster, options)
    result = launcher.run(
        argv, cwd=ws.root, env=env, on_line=on_line, redactor=redactor, timeout=timeout, on_command=on_command
    )
    if not result.ok:
        raise _classify(gitops.repo_url, gitops.branch, result)
