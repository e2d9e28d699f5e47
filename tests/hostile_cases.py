"""Hostile answers files and workspaces, by the class of failure they probe (tests/test_hostile.py, the bench).

Each case writes its input under a fresh folder and names the command to run, the exit code it must end with
and what stderr must say; `run` runs it in a child with an address-space limit (a blow-up fails instead of
swapping) and a generous timeout (a hang fails instead of blocking), and reports wall time and peak RSS.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import json
import os
import resource
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "cluster.yaml"
ADDRESS_SPACE = 300 * 1024 * 1024  # bytes a child may map: the whole CLI needs ~40 MB resident
TIMEOUT = 120.0  # seconds before a child counts as hung (the bench holds the tight figures)
TOKEN = "ghp_" + "Q9x" * 12  # a GitHub token shape; never echoed
PASSWORD = "pa55-w0rd-never-shown"


def example() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Case:
    """One hostile input: `prepare(folder)` writes it and returns the --config path (the workspace is
    folder/ws unless `prepare` made it otherwise); the command must exit `code` with `says` on stderr and
    never print `hidden`."""

    name: str
    cls: int
    prepare: Callable[[Path], Path]
    command: str = "generate"
    code: int = 2
    says: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()
    workspace: str = "ws"
    notes: dict[str, Any] = field(default_factory=dict)

    def argv(self, folder: Path, config: Path) -> list[str]:
        ws = str(folder / self.workspace)
        extra = {"generate": ["--patches-only"], "install": ["--yes"], "plan": []}[self.command]
        return [self.command, "--config", str(config), "--workspace", ws, *extra]


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str
    seconds: float
    rss_mb: float
    cpu_s: float = 0.0  # user + system time: what the input cost, whatever else the machine is doing


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run(argv: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = TIMEOUT) -> Outcome:
    """`python -m skynet_tui ARGV` in a child limited to ADDRESS_SPACE; its wall time and peak RSS."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "skynet_tui", *argv],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_limits,
    )
    streams: dict[str, bytes] = {}
    readers = [
        threading.Thread(target=lambda n=name, s=stream: streams.__setitem__(n, s.read()), daemon=True)
        for name, stream in (("out", proc.stdout), ("err", proc.stderr))
    ]
    for reader in readers:
        reader.start()
    hung = threading.Timer(timeout, proc.kill)
    hung.start()
    _, status, usage = os.wait4(proc.pid, 0)  # the child's own rusage: its peak RSS, not the test's
    hung.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - started
    for reader in readers:
        reader.join()
    if seconds >= timeout:
        raise AssertionError(f"skynet {' '.join(argv)[:200]} hung for {timeout:.0f}s")
    decode = lambda key: streams.get(key, b"").decode("utf-8", "replace")  # noqa: E731
    cpu = usage.ru_utime + usage.ru_stime
    return Outcome(proc.returncode, decode("out"), decode("err"), seconds, usage.ru_maxrss / 1024, cpu)


def run_batch(argvs: list[list[str]], cwd: Path, timeout: float = TIMEOUT) -> list[Outcome]:
    """Each argv through the CLI's entry point (`main`, what `python -m skynet_tui` runs), all in one child
    limited to ADDRESS_SPACE: a blow-up or a hang in any of them fails the child, and the batch names the
    argv it was on. Cheaper than a child per input (the imports are paid once)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "from tests.hostile_cases import drive; drive()"],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_limits,
    )
    try:
        stdout, stderr = proc.communicate(json.dumps({"cwd": str(cwd), "argvs": argvs}), timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
    results = [Outcome(**json.loads(line)) for line in stdout.splitlines() if line.startswith("{")]
    if len(results) < len(argvs):
        raise AssertionError(
            f"the child stopped (exit {proc.returncode}) at skynet {' '.join(argvs[len(results)])[:300]}: "
            f"{stderr[-2000:]}"
        )
    return results


def drive() -> None:
    """The child of run_batch: runs each argv through main() with stdout and stderr captured, and prints one
    JSON line per argv (its Outcome)."""
    from skynet_tui.__main__ import main

    job = json.load(sys.stdin)
    os.chdir(job["cwd"])
    for argv in job["argvs"]:
        out, err = io.StringIO(), io.StringIO()
        started = time.monotonic()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:  # noqa: BLE001 - reported as the case's outcome, then the test fails on it
                traceback.print_exc()
                code = -1
        seconds = time.monotonic() - started
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        outcome = Outcome(code, out.getvalue(), err.getvalue(), seconds, rss)
        print(json.dumps(dataclasses.asdict(outcome)), flush=True)


# ---------------------------------------------------------------- writers


def answers(change: Callable[[dict[str, Any]], object]) -> Callable[[Path], Path]:
    """Write the example answers after `change(data)` (which edits them in place)."""

    def prepare(folder: Path) -> Path:
        data = example()
        change(data)
        path = folder / "cluster.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False, width=1 << 30), encoding="utf-8")
        return path

    return prepare


def text(make: Callable[[str], str]) -> Callable[[Path], Path]:
    """Write `make(example text)` as the answers file."""

    def prepare(folder: Path) -> Path:
        path = folder / "cluster.yaml"
        path.write_text(make(EXAMPLE.read_text(encoding="utf-8")), encoding="utf-8")
        return path

    return prepare


def _set(*path: str | int, value: object) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _alias_bomb(_: str) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
    return "\n".join([*lines, "apiVersion: skynet.dev/v1alpha1", "kind: *l9", ""])


def _device(path: str) -> Callable[[Path], Path]:
    return lambda folder: Path(path)


def _fifo(folder: Path) -> Path:
    path = folder / "cluster.yaml"
    os.mkfifo(path)
    return path


def _sparse(size: int) -> Callable[[Path], Path]:
    def prepare(folder: Path) -> Path:
        path = folder / "cluster.yaml"
        with open(path, "wb") as handle:
            handle.truncate(size)  # sparse: no disk is used, the size is what stat says
        return path

    return prepare


def _folder(folder: Path) -> Path:
    path = folder / "answers.d"
    path.mkdir()
    return path


def _nodes(change: Callable[[list[dict[str, Any]]], None]) -> Callable[[dict[str, Any]], None]:
    return lambda data: change(data["spec"]["nodes"])


def _same_mac(nodes: list[dict[str, Any]]) -> None:
    nodes[0]["mac"] = nodes[3]["mac"]
    nodes[0].pop("interface")


def _same_serial(nodes: list[dict[str, Any]]) -> None:
    nodes[4]["installDisk"] = {"serial": nodes[3]["installDisk"]["serial"]}


def _same_wwid(nodes: list[dict[str, Any]]) -> None:
    nodes[1]["installDisk"] = {"wwid": "naa.5000c500a1b2c3d4"}
    nodes[2]["installDisk"] = {"wwid": "naa.5000c500a1b2c3d4"}


def _in_symlinked(relative: str) -> Callable[[Path], Path]:
    """A workspace whose `relative` folder is a link to a folder outside it (folder/outside)."""

    def prepare(folder: Path) -> Path:
        outside = folder / "outside"
        outside.mkdir()
        (outside / "precious.txt").write_text("the user's own file\n")
        link = folder / "ws" / relative
        link.parent.mkdir(parents=True)
        link.symlink_to(outside, target_is_directory=True)
        return answers(lambda data: None)(folder)

    return prepare


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "u", "GIT_AUTHOR_EMAIL": "u@x", "GIT_COMMITTER_NAME": "u",
           "GIT_COMMITTER_EMAIL": "u@x"}  # fmt: skip
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def _foreign_repository(folder: Path) -> Path:
    """The workspace folder is the user's own git repository, with their files."""
    ws = folder / "ws"
    ws.mkdir()
    _git(ws, "init", "-q")
    (ws / "notes.txt").write_text("mine\n")
    _git(ws, "add", "notes.txt")
    _git(ws, "commit", "-q", "-m", "mine")
    return answers(lambda data: None)(folder)


def _inside_repository(folder: Path) -> Path:
    """The workspace is a new folder inside the user's own repository, which holds uncommitted files."""
    outer = folder / "repo"
    outer.mkdir()
    _git(outer, "init", "-q")
    (outer / "README").write_text("mine\n")
    _git(outer, "add", "README")
    _git(outer, "commit", "-q", "-m", "mine")
    (outer / "draft.txt").write_text("uncommitted, mine\n")
    return answers(lambda data: None)(folder)


# ---------------------------------------------------------------- the cases, by class (issue 9)

NL = "\n"
LONG_HOST = "h" * 200_000
LONG_URL = "https://git.example.com/" + "a" * 1_000_000 + ".git"

CASES: list[Case] = [
    # 1. Resource exhaustion from a tiny (or endless) file.
    Case("alias-bomb", 1, text(_alias_bomb), says=("cluster.yaml, line 1, column", "anchors")),
    Case("hostname-200k", 1, answers(_set("spec", "nodes", 0, "hostname", value=LONG_HOST)),
         says=("spec.nodes[0].hostname", "200,000 characters")),
    Case("repourl-1mb", 1, answers(_set("spec", "gitops", "repoURL", value=LONG_URL)),
         says=("spec.gitops.repoURL", "characters long")),
    Case("dev-zero", 1, _device("/dev/zero"), says=("/dev/zero", "character device")),
    Case("fifo", 1, _fifo, says=("cluster.yaml", "FIFO")),
    Case("50mb-file", 1, _sparse(50 << 20), says=("cluster.yaml", "at most 1,048,576")),
    Case("folder", 1, _folder, says=("answers.d", "a folder")),
    Case("deep-flow-nesting", 1, text(lambda t: "spec: " + "[" * 100_000 + "]" * 100_000 + "\n"),
         says=("cluster.yaml, line 1, column", "nesting depth")),
    Case("deep-block-nesting", 1, text(lambda t: "".join(f"{'  ' * i}k{i}:\n" for i in range(40)) + "  " * 40 + "x\n"),
         says=("cluster.yaml, line 32, column 63", "nested more than 32")),
    Case("many-values", 1, text(lambda t: t + "extra: [" + "1, " * 60_000 + "1]\n"),
         says=("more than 20,000 values",)),
    Case("huge-integer", 1, text(lambda t: t.replace("name: homelab", "name: " + "9" * 100_000)),
         says=("cluster.yaml, line 4, column 9", "a number of 100,000 characters")),
    # 2. Values that pass $-anchored checks with a trailing newline.
    Case("hostname-newline", 2, answers(_set("spec", "nodes", 0, "hostname", value="cp-1\n")),
         says=("spec.nodes[0].hostname", "line break")),
    Case("interface-newline", 2, answers(_set("spec", "nodes", 0, "interface", value="eth0\n")),
         says=("spec.nodes[0].interface", "line break")),
    Case("mac-newline", 2, answers(_set("spec", "nodes", 3, "mac", value="aa:bb:cc:dd:ee:01\n")),
         says=("spec.nodes[3].mac", "line break")),
    Case("email-newline", 2, answers(_set("spec", "ingress", "acme", "email", value="ops@example.com\n")),
         says=("spec.ingress.acme.email", "line break")),
    Case("repourl-newline", 2,
         answers(_set("spec", "gitops", "repoURL", value="git@github.com:example/homelab.git\n")),
         says=("spec.gitops.repoURL", "line break")),
    Case("name-newline", 2, answers(_set("metadata", "name", value="homelab\n")),
         says=("metadata.name", "line break")),
    Case("domain-newline", 2, answers(_set("spec", "ingress", "domain", value="example.com\n")),
         says=("spec.ingress.domain", "line break")),
    Case("ntp-newline", 2, answers(_set("spec", "network", "ntp", value=["pool.ntp.org\n"])),
         says=("spec.network.ntp", "line break")),
    Case("tokenenv-newline", 2,
         answers(_set("spec", "gitops", "credentials", value={"tokenEnv": "GIT_TOKEN\n"})),
         says=("spec.gitops.credentials.tokenEnv", "line break")),
    # 3. Duplicate YAML keys.
    Case("second-gitops-block", 3,
         text(lambda t: t + "  gitops:\n    repoURL: https://evil.example/x.git\n"),
         says=("cluster.yaml, line 35, column 3", "duplicate key 'gitops'")),
    Case("duplicate-in-flow-node", 3, text(lambda t: t.replace("{hostname: cp-2,", "{hostname: cp-2, hostname: x,")),
         says=("line 19", "duplicate key 'hostname'")),
    Case("duplicate-metadata", 3, text(lambda t: t + "metadata:\n  name: other\n"),
         says=("duplicate key 'metadata'", "first at line 3")),
    Case("duplicate-quoted", 3, text(lambda t: t.replace("  name: homelab", '  name: homelab\n  "name": evil')),
         says=("duplicate key 'name'",)),
    # 4. A token (or password) as the URL's user part.
    Case("https-token-user", 4,
         answers(_set("spec", "gitops", "repoURL", value=f"https://{TOKEN}@github.com/example/homelab.git")),
         says=("spec.gitops.repoURL", "user name, password or token"), hidden=(TOKEN,)),
    Case("https-user-password", 4,
         answers(_set("spec", "gitops", "repoURL", value=f"https://ops:{PASSWORD}@git.example.com/x.git")),
         command="plan", says=("spec.gitops.repoURL", "user name, password or token"), hidden=(PASSWORD,)),
    Case("ssh-token-user", 4,
         answers(_set("spec", "gitops", "repoURL", value=f"ssh://{TOKEN}@github.com/example/homelab.git")),
         command="install", says=("spec.gitops.repoURL", "user name, password or token"), hidden=(TOKEN,)),
    Case("scp-token-user", 4,
         answers(_set("spec", "gitops", "repoURL", value=f"{TOKEN}@github.com:example/homelab.git")),
         says=("spec.gitops.repoURL", "user name, password or token"), hidden=(TOKEN,)),
    Case("oauth2-user", 4,
         answers(_set("spec", "gitops", "repoURL", value=f"https://oauth2:{PASSWORD}@gitlab.com/x/y.git")),
         says=("spec.gitops.repoURL",), hidden=(PASSWORD,)),
    # 5. Workspace escape.
    Case("symlinked-gitops-apps", 5, _in_symlinked("gitops/apps"), says=("gitops/apps", "symbolic link")),
    Case("symlinked-talos-nodes", 5, _in_symlinked("talos/nodes"), command="install",
         says=("talos/nodes", "symbolic link")),
    Case("symlinked-secrets", 5, _in_symlinked("secrets"), command="plan", says=("secrets", "symbolic link")),
    Case("foreign-repository", 5, _foreign_repository, says=("git repository Skynet did not create",)),
    Case("inside-a-repository", 5, _inside_repository, code=0, workspace="repo/cluster"),
    # 6. Late failures after writing: all refused as field errors before anything is written.
    Case("branch-lock", 6, answers(_set("spec", "gitops", "branch", value="main.lock")),
         says=("spec.gitops.branch", "ends with '.lock'")),
    Case("branch-dotdot", 6, answers(_set("spec", "gitops", "branch", value="a..b")), command="plan",
         says=("spec.gitops.branch", "'..'")),
    Case("branch-trailing-slash", 6, answers(_set("spec", "gitops", "branch", value="feature/")),
         command="install", says=("spec.gitops.branch", "end with '/'")),
    Case("repourl-dash", 6, answers(_set("spec", "gitops", "repoURL", value="-oProxyCommand=touch /tmp/x")),
         says=("spec.gitops.repoURL",)),
    Case("path-talos", 6, answers(_set("spec", "gitops", "path", value="talos")), command="plan",
         says=("spec.gitops.path", "collides")),
    Case("path-secrets", 6, answers(_set("spec", "gitops", "path", value="secrets/apps")), command="install",
         says=("spec.gitops.path", "collides")),
    Case("path-cluster-yaml", 6, answers(_set("spec", "gitops", "path", value="cluster.yaml")),
         says=("spec.gitops.path", "collides")),
    # 7. Accepted nonsense.
    Case("same-mac", 7, answers(_nodes(_same_mac)), says=("spec.nodes[3].mac", "already used by spec.nodes[0]")),
    Case("same-serial", 7, answers(_nodes(_same_serial)),
         says=("spec.nodes[4].installDisk.serial", "already used by spec.nodes[3]")),
    Case("same-wwid", 7, answers(_nodes(_same_wwid)), command="plan",
         says=("spec.nodes[2].installDisk.wwid", "already used by spec.nodes[1]")),
    Case("megabyte-serial", 7, answers(_set("spec", "nodes", 3, "installDisk", value={"serial": "S" * 1_000_000})),
         says=("spec.nodes[3].installDisk.serial", "characters long")),
    Case("bidi-hostname", 7, answers(_set("spec", "nodes", 0, "hostname", value="cp-\u202e1")),
         says=("spec.nodes[0].hostname", "U+202E")),
    Case("zero-width-domain", 7, answers(_set("spec", "ingress", "domain", value="exa\u200bmple.com")),
         command="install", says=("spec.ingress.domain", "U+200B")),
]  # fmt: skip

BY_CLASS: dict[int, list[Case]] = {}
for _case in CASES:
    BY_CLASS.setdefault(_case.cls, []).append(_case)
