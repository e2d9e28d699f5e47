"""The workspace: one git repository per cluster, its layout, atomic writes, secrets modes and the lock."""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from skynet_tui import launcher
from skynet_tui.redact import Redactor

GITIGNORE = """\
# Written by Skynet. Secrets, rendered machine configs, logs and run state never enter git.
/secrets/
/logs/
/journal.jsonl
/.skynet.lock
/backups/
/support-bundle-*
"""

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Skynet",
    "GIT_AUTHOR_EMAIL": "skynet@localhost",
    "GIT_COMMITTER_NAME": "Skynet",
    "GIT_COMMITTER_EMAIL": "skynet@localhost",
}


class WorkspaceError(RuntimeError):
    """A workspace operation failed; the message says what and how to fix it."""


class WorkspaceLocked(WorkspaceError):
    def __init__(self, path: Path, pid: int):
        self.pid = pid
        super().__init__(
            f"workspace {path.parent} is in use by another skynet (PID {pid}); wait for it or stop it"
        )


def atomic_write(path: Path, data: str | bytes, mode: int = 0o644) -> bool:
    """Write via temp file + fsync + rename. Returns False (and touches nothing) when the content is unchanged."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    path = Path(path)
    try:
        if path.read_bytes() == raw:
            if (path.stat().st_mode & 0o777) != mode:
                os.chmod(path, mode)
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return True


@dataclass(frozen=True)
class Workspace:
    """Paths of one cluster's workspace (DESIGN decision 2)."""

    root: Path

    @classmethod
    def at(cls, root: str | Path) -> Workspace:
        return cls(Path(root).expanduser().resolve())

    # committed
    @property
    def cluster_yaml(self) -> Path:
        return self.root / "cluster.yaml"

    @property
    def talos_dir(self) -> Path:
        return self.root / "talos"

    @property
    def gitops_dir(self) -> Path:
        return self.root / "gitops"

    # git-ignored
    @property
    def secrets_dir(self) -> Path:
        return self.root / "secrets"

    @property
    def secrets_bundle(self) -> Path:
        return self.secrets_dir / "secrets.yaml"

    @property
    def talosconfig(self) -> Path:
        return self.secrets_dir / "talosconfig"

    @property
    def kubeconfig(self) -> Path:
        return self.secrets_dir / "kubeconfig"

    @property
    def generated_dir(self) -> Path:
        """talosctl gen config output (controlplane.yaml, worker.yaml): they embed keys, so under secrets/."""
        return self.secrets_dir / "generated"

    @property
    def node_configs_dir(self) -> Path:
        return self.secrets_dir / "nodes"

    def node_config(self, hostname: str) -> Path:
        return self.node_configs_dir / f"{hostname}.yaml"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def journal(self) -> Path:
        return self.root / "journal.jsonl"

    @property
    def lock_file(self) -> Path:
        return self.root / ".skynet.lock"

    # ------------------------------------------------------------ writing

    def ensure(self) -> None:
        """Create the layout: folders, secrets/ 0700, .gitignore."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.secrets_dir.mkdir(mode=0o700, exist_ok=True)
        os.chmod(self.secrets_dir, 0o700)
        self.logs_dir.mkdir(exist_ok=True)
        atomic_write(self.root / ".gitignore", GITIGNORE)

    def write(self, relative: str | Path, data: str | bytes) -> bool:
        """Write a committed file (0644) atomically; True when it changed."""
        return atomic_write(self.root / relative, data, 0o644)

    def write_secret(self, relative: str | Path, data: str | bytes) -> bool:
        """Write a file under secrets/ (0600) atomically."""
        path = self.secrets_dir / relative
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return atomic_write(path, data, 0o600)

    def secure_secrets(self) -> None:
        """Force secrets/ to 0700 and every file under it to 0600 (tools may write with other modes)."""
        if not self.secrets_dir.exists():
            return
        for path in [self.secrets_dir, *self.secrets_dir.rglob("*")]:
            os.chmod(path, 0o700 if path.is_dir() else 0o600)

    def redactor(self) -> Redactor:
        """A redactor that knows every secret stored under secrets/.

        Rendered machine configs are skipped: their secrets are the bundle's, and learning them whole would
        mask ordinary words ("controlplane") in every line. Cached until a file under secrets/ changes."""
        skip = (self.generated_dir, self.node_configs_dir)
        signature: list[tuple[str, int, int]] = []
        if self.secrets_dir.is_dir():
            for path in sorted(self.secrets_dir.rglob("*")):
                if path.is_file() and not any(path.is_relative_to(s) for s in skip):
                    stat = path.stat()
                    signature.append((str(path), stat.st_mtime_ns, stat.st_size))
        return _redactor_for(self.secrets_dir, skip, tuple(signature)).copy()

    # ------------------------------------------------------------ lock

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the workspace for this process; a second skynet gets WorkspaceLocked naming our PID."""
        self.root.mkdir(parents=True, exist_ok=True)
        if _lock_holder(self.lock_file) == os.getpid():
            # Re-entered by this process (generate inside an install): the outer holder releases it.
            yield
            return
        for _ in range(2):
            try:
                fd = os.open(self.lock_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = _lock_holder(self.lock_file)
                if holder is not None and _alive(holder) and holder != os.getpid():
                    raise WorkspaceLocked(self.lock_file, holder) from None
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.lock_file)  # stale: its holder is gone
                continue
            with os.fdopen(fd, "w") as handle:
                handle.write(f"{os.getpid()}\n")
            break
        else:
            raise WorkspaceError(f"cannot take the lock {self.lock_file}")
        try:
            yield
        finally:
            with contextlib.suppress(FileNotFoundError):
                if _lock_holder(self.lock_file) == os.getpid():
                    os.unlink(self.lock_file)

    # ------------------------------------------------------------ git

    def git(self, *args: str, check: bool = True, env: dict[str, str] | None = None) -> launcher.Result:
        """Run git in the workspace through the launcher."""
        full_env = {**os.environ, **GIT_IDENTITY, "GIT_TERMINAL_PROMPT": "0", **(env or {})}
        result = launcher.run(["git", *args], cwd=self.root, env=full_env, redactor=self.redactor())
        if check and not result.ok:
            raise WorkspaceError(f"git {' '.join(args)} failed: {result.tail(3)}")
        return result

    def init_git(self, branch: str = "main") -> None:
        if not (self.root / ".git").exists():
            self.git("init", "-q", "-b", branch)

    def commit(self, message: str) -> bool:
        """Stage everything git may see and commit; False when nothing changed."""
        self.git("add", "-A")
        if self.git("diff", "--cached", "--quiet", check=False).returncode == 0:
            return False
        self.git("commit", "-q", "-m", message)
        return True

    def tracked_files(self) -> list[str]:
        return self.git("ls-files").stdout.split()


@functools.lru_cache(maxsize=8)
def _redactor_for(
    folder: Path, skip: tuple[Path, ...], signature: tuple[tuple[str, int, int], ...]
) -> Redactor:
    redactor = Redactor()
    redactor.add_dir(folder, skip)
    return redactor


def _lock_holder(path: Path) -> int | None:
    try:
        return int(path.read_text().strip() or "0") or None
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    return True
