"""The workspace: one git repository per cluster, its layout, atomic writes, secrets modes and the lock.

Every write resolves inside the workspace root and refuses a symbolic link anywhere on its way, so a
link planted in the workspace (gitops/apps → /etc) cannot carry a write outside it. A folder that holds
Skynet's names (talos/, secrets/, a .git) without being a Skynet workspace is refused before anything is
written, and a commit stages only the paths Skynet writes: the user's own files are never committed.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from skynet_tui import launcher
from skynet_tui.lockfile import Busy, Holder, LockFile
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
    """Another skynet holds the workspace; the message names it (PID, host, since when)."""

    def __init__(self, path: Path, holder: Holder | None):
        self.holder = holder
        self.pid = holder.pid if holder else 0
        who = str(holder) if holder else "PID not recorded yet"
        super().__init__(
            f"workspace {path.parent} is in use by another skynet ({who}); wait for it or stop it"
        )


class WorkspaceUnusable(WorkspaceError):
    """The folder cannot be a workspace as it is (a link on a write's way, someone else's files or repository)."""


SEALED = "secrets.age"  # secrets/ encrypted with age (spec.secrets.encryption), committed: skynet_tui/sharing
# What Skynet keeps at the top of a workspace; committed are cluster.yaml, .gitignore, talos/, secrets.age/ (when
# the secrets are shared) and gitops.path.
LAYOUT = (
    "cluster.yaml",
    ".gitignore",
    "talos",
    "secrets",
    SEALED,
    "logs",
    "journal.jsonl",
    ".skynet.lock",
    ".git",
)
COMMITTED = (".gitignore", "cluster.yaml", "talos", SEALED)
STAGING_PREFIX = ".render"  # generate's staging folder under secrets/ (a crash's copy goes on the next run)


TMP_SUFFIX = ".tmp"  # atomic_write's temp files: .<name>.<random>.tmp beside the target


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
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_SUFFIX)
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

    @property
    def staging_dir(self) -> Path:
        """Where generate renders and validates the configs (and a new bundle and talosconfig) before moving
        them into place: under secrets/, since they hold keys."""
        return self.secrets_dir / STAGING_PREFIX

    def node_config(self, hostname: str) -> Path:
        return self.node_configs_dir / f"{hostname}.yaml"

    def secrets_unshared(self) -> bool:
        """True when secrets/ holds the cluster's secrets bundle and no encrypted copy of it is shared
        (secrets.age/, spec.secrets.encryption): this folder is then the only copy of the cluster's keys."""
        return self.secrets_bundle.is_file() and not (self.root / SEALED / "manifest.json").is_file()

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
        """Create the layout: .gitignore (first: it marks the folder as Skynet's), secrets/ 0700, logs/; and
        remove what a crash left (generate's staging folders, temp files of interrupted writes)."""
        self.check_writable()
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write(self.root / ".gitignore", GITIGNORE)
        self.secrets_dir.mkdir(mode=0o700, exist_ok=True)
        os.chmod(self.secrets_dir, 0o700)
        self.logs_dir.mkdir(exist_ok=True)
        self.remove_leftovers()

    def path(self, relative: str | Path) -> Path:
        """`relative` under the root; WorkspaceUnusable when it leaves the root or passes through a link."""
        rel = Path(relative)
        if rel.is_absolute():
            try:
                rel = rel.relative_to(self.root)
            except ValueError:
                raise WorkspaceUnusable(f"{relative} is outside the workspace {self.root}") from None
        if not rel.parts or ".." in rel.parts:
            raise WorkspaceUnusable(f"{relative} is not a path inside the workspace {self.root}")
        path = self.root
        for part in rel.parts:
            path = path / part
            if path.is_symlink():
                raise WorkspaceUnusable(
                    f"{path} is a symbolic link; Skynet writes nothing through links in a workspace: remove it "
                    "and run again"
                )
        return path

    def check_links(self, relatives: Iterable[str | Path]) -> None:
        """Refuse (WorkspaceUnusable) when any of these paths, or a folder on the way to it, is a link."""
        for relative in relatives:
            self.path(relative)

    def write(self, relative: str | Path, data: str | bytes) -> bool:
        """Write a committed file (0644) atomically; True when it changed."""
        return atomic_write(self.path(relative), data, 0o644)

    def write_secret(self, relative: str | Path, data: str | bytes) -> bool:
        """Write a file under secrets/ (0600) atomically."""
        path = self.path(Path("secrets") / relative)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return atomic_write(path, data, 0o600)

    def is_skynet(self) -> bool:
        """True when the folder is a Skynet workspace (its .gitignore is the one Skynet writes)."""
        marker = self.root / ".gitignore"
        try:
            with open(marker, encoding="utf-8") as handle:
                return not marker.is_symlink() and handle.readline() == GITIGNORE.splitlines(keepends=True)[0]
        except (OSError, UnicodeDecodeError):
            return False

    def check_writable(self, committed: Sequence[str] = (), paths: Iterable[str] = ()) -> None:
        """Before anything is written: the root is a folder (or absent) that is a Skynet workspace or holds
        none of Skynet's names, and no link lies on the way of any path Skynet writes.

        `committed` adds the top-level names of this cluster (its gitops.path), `paths` every file about to be
        written (a link deeper down, gitops/apps → /etc, is refused too). WorkspaceUnusable says what to fix."""
        if not self.root.exists():
            return
        if not self.root.is_dir():
            raise WorkspaceUnusable(f"the workspace {self.root} exists and is not a folder")
        self.check_links([*LAYOUT, *committed, *paths])
        if self.is_skynet():
            return
        if (self.root / ".git").exists():
            raise WorkspaceUnusable(
                f"{self.root} is a git repository Skynet did not create; Skynet commits only to a workspace of "
                "its own: give --workspace an empty or new folder"
            )
        taken = [name for name in (*LAYOUT, *committed) if name not in ("cluster.yaml", ".skynet.lock")
                 and (self.root / name).exists()]  # fmt: skip
        if taken:
            raise WorkspaceUnusable(
                f"{self.root} already holds {', '.join(taken)}, not written by Skynet; give --workspace an "
                "empty or new folder"
            )

    def remove_leftovers(self, folders: Iterable[str] = ()) -> list[str]:
        """Remove what an interrupted run left: staging folders under secrets/ (they hold full machine
        configs) and temp files of atomic writes. Call it holding the lock; returns the paths removed."""
        removed: list[str] = []
        if self.secrets_dir.is_dir() and not self.secrets_dir.is_symlink():
            for staging in sorted(self.secrets_dir.glob(f"{STAGING_PREFIX}*")):
                if staging.is_dir() and not staging.is_symlink():
                    shutil.rmtree(staging, ignore_errors=True)
                    removed.append(staging.relative_to(self.root).as_posix())
        for name in ("", "secrets", "talos", *folders):
            folder = self.root / name
            if not folder.is_dir() or folder.is_symlink():
                continue
            candidates = folder.glob(f".*{TMP_SUFFIX}") if not name else folder.rglob(f".*{TMP_SUFFIX}")
            for leftover in sorted(candidates):
                if leftover.is_file() and not leftover.is_symlink():
                    leftover.unlink()
                    removed.append(leftover.relative_to(self.root).as_posix())
        return removed

    def secure_secrets(self) -> None:
        """Force secrets/ to 0700 and every file under it to 0600 (tools may write with other modes)."""
        if not self.secrets_dir.exists():
            return
        for path in [self.secrets_dir, *self.secrets_dir.rglob("*")]:
            if not path.is_symlink():  # chmod would follow a link out of the workspace
                os.chmod(path, 0o700 if path.is_dir() else 0o600)

    def redactor(self) -> Redactor:
        """A redactor that knows every secret stored under secrets/.

        Rendered machine configs are skipped, in place and while staged: their secrets are the bundle's, and
        learning them whole would mask ordinary words ("controlplane") in every line. Cached until a file under
        secrets/ changes."""
        staged = self.staging_dir
        skip = (self.generated_dir, self.node_configs_dir, staged / "generated", staged / "nodes")
        signature: list[tuple[str, int, int]] = []
        if self.secrets_dir.is_dir():
            for path in sorted(self.secrets_dir.rglob("*")):
                if path.is_file() and not path.is_symlink() and not any(path.is_relative_to(s) for s in skip):
                    stat = path.stat()
                    signature.append((str(path), stat.st_mtime_ns, stat.st_size))
        return _redactor_for(self.secrets_dir, skip, tuple(signature)).copy()

    # ------------------------------------------------------------ lock

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the workspace for this process (re-entrant: generate inside an install takes it again).

        A second skynet gets WorkspaceLocked naming the holder; a holder that died leaves a lock anyone takes
        over (flock, skynet_tui/lockfile.py), whatever PID its file names."""
        self.root.mkdir(parents=True, exist_ok=True)
        lock = LockFile(self.lock_file)
        try:
            lock.acquire()
        except Busy as exc:
            raise WorkspaceLocked(self.lock_file, exc.holder) from None
        except OSError as exc:
            raise WorkspaceUnusable(f"cannot take the lock {self.lock_file}: {exc.strerror}") from None
        try:
            yield
        finally:
            lock.release()

    # ------------------------------------------------------------ git

    def git(
        self,
        *args: str,
        check: bool = True,
        env: dict[str, str] | None = None,
        on_command: launcher.CommandCallback | None = None,
    ) -> launcher.Result:
        """Run git in the workspace through the launcher (`on_command` gets its `$ git …` line); git never looks
        above the workspace for a repository."""
        full_env = {
            **os.environ,
            **GIT_IDENTITY,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_CEILING_DIRECTORIES": str(self.root.parent),
            **(env or {}),
        }
        result = launcher.run(
            ["git", *args], cwd=self.root, env=full_env, redactor=self.redactor(), on_command=on_command
        )
        if check and not result.ok:
            raise WorkspaceError(f"git {' '.join(args)} failed: {result.tail(3)}")
        return result

    def init_git(self, branch: str = "main", on_command: launcher.CommandCallback | None = None) -> None:
        if not (self.root / ".git").exists():
            self.git(*git_init_args(branch), on_command=on_command)

    def commit(
        self,
        message: str,
        paths: Sequence[str],
        on_command: launcher.CommandCallback | None = None,
    ) -> bool:
        """Stage the paths Skynet writes (never anything else in the folder) and commit; False when nothing
        changed. A path is staged when it exists or git tracks it (so removals are committed too)."""
        tracked = set(self.tracked_files()) if (self.root / ".git").exists() else set()
        staged = [
            p for p in dict.fromkeys(paths)
            if (self.root / p).exists() or any(t == p or t.startswith(f"{p}/") for t in tracked)
        ]  # fmt: skip
        add, diff, commit = git_commit_args(message, staged)
        if staged:
            self.git(*add, on_command=on_command)
        if self.git(*diff, check=False, on_command=on_command).returncode == 0:
            return False
        self.git(*commit, on_command=on_command)
        return True

    def tracked_files(self) -> list[str]:
        return [name for name in self.git("ls-files", "-z").stdout.split("\0") if name]


def git_init_args(branch: str) -> list[str]:
    return ["init", "-q", "-b", branch]


def git_commit_args(message: str, paths: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    """git's arguments for a commit: stage the paths Skynet writes (removals too), see whether anything is
    staged, commit."""
    return ["add", "-A", "--", *paths], ["diff", "--cached", "--quiet"], ["commit", "-q", "-m", message]


@functools.lru_cache(maxsize=8)
def _redactor_for(
    folder: Path, skip: tuple[Path, ...], signature: tuple[tuple[str, int, int], ...]
) -> Redactor:
    redactor = Redactor()
    redactor.add_dir(folder, skip)
    return redactor
