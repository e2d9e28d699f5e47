"""Hostile input, one test per class of issue 9: bad answers files and folders are refused fast, with exit 2, a
message naming the field or file, bounded memory and nothing written.

The inputs are in tests/hostile_cases.py (bench/hostile_input.py times the same ones). Every class runs in one
child limited to 300 MB of address space, through the CLI's own entry point.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from skynet_tui import lockfile, spec
from skynet_tui.app import BootstrapArgs, SkynetApp
from skynet_tui.plan import Plan, Step, platform
from skynet_tui.runner import Runner
from skynet_tui.workspace import Workspace
from tests.hostile_cases import BY_CLASS, TIMEOUT, Case, Outcome, example, run, run_batch
from tests.runner_helpers import Recorder, lock_held_by_child

pytestmark = pytest.mark.usefixtures("git")  # workspaces are git repositories

MAX_MESSAGE = 4000  # characters of stderr: a message shows a value cut at 60 characters, never the input


def tree(folder: Path) -> dict[str, tuple[int, int, int, str]]:
    """Every entry under `folder` (links not followed; FIFOs not opened): type, size, mtime, link target."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            info = path.lstat()
            target = os.readlink(path) if path.is_symlink() else ""
            found[path.relative_to(folder).as_posix()] = (
                stat.S_IFMT(info.st_mode), info.st_size, info.st_mtime_ns, target
            )  # fmt: skip
    return found


def run_class(cls: int, tmp_path: Path) -> list[tuple[Case, Path, Outcome, dict, dict]]:
    """Prepare every case of a class in its own folder, run them all, and return what each did."""
    prepared = []
    for case in BY_CLASS[cls]:
        folder = tmp_path / case.name
        folder.mkdir()
        config = case.prepare(folder)
        prepared.append((case, folder, case.argv(folder, config), tree(folder)))
    outcomes = run_batch([argv for _, _, argv, _ in prepared], tmp_path, timeout=TIMEOUT)
    return [
        (case, folder, outcome, before, tree(folder))
        for (case, folder, _, before), outcome in zip(prepared, outcomes, strict=True)
    ]


def assert_refused(case: Case, outcome: Outcome, before: dict, after: dict) -> None:
    where = f"{case.name}: exit {outcome.code}\n{outcome.stderr[:3000]}"
    assert outcome.code == case.code, where
    assert "Traceback" not in outcome.stderr, where
    assert len(outcome.stderr) < MAX_MESSAGE, where
    for text in case.says:
        assert text in outcome.stderr, f"{case.name}: {text!r} not in\n{outcome.stderr[:3000]}"
    for secret in case.hidden:
        assert secret not in outcome.stdout + outcome.stderr, f"{case.name} printed a credential"
    if case.code == 2:
        assert "nothing was written" in outcome.stderr, where
        assert after == before, (
            f"{case.name} changed the folder: {sorted(set(after.items()) ^ set(before.items()))}"
        )


def check(cls: int, tmp_path: Path) -> list[tuple[Case, Path, Outcome, dict, dict]]:
    results = run_class(cls, tmp_path)
    assert len(results) >= 3
    for case, _, outcome, before, after in results:
        assert_refused(case, outcome, before, after)
    return results


def test_1_resource_exhaustion_from_a_tiny_or_endless_file(tmp_path: Path) -> None:
    """Alias bombs, 200k-character values, /dev/zero, a FIFO, 50 MB, deep nesting, huge numbers."""
    check(1, tmp_path)


def test_2_values_with_a_trailing_newline_are_refused(tmp_path: Path) -> None:
    check(2, tmp_path)


def test_3_duplicate_keys_are_refused_with_both_places(tmp_path: Path) -> None:
    check(3, tmp_path)


def test_4_credentials_in_the_repo_url_are_refused_without_echoing_them(tmp_path: Path) -> None:
    check(4, tmp_path)


def test_5_no_write_escapes_the_workspace_and_no_foreign_file_is_committed(tmp_path: Path) -> None:
    results = {case.name: (folder, outcome) for case, folder, outcome, _, _ in check(5, tmp_path)}
    for name in ("symlinked-gitops-apps", "symlinked-talos-nodes", "symlinked-secrets"):
        folder, _ = results[name]
        assert sorted(p.name for p in (folder / "outside").iterdir()) == ["precious.txt"]

    # A workspace inside the user's repository becomes a repository of its own, with Skynet's files only;
    # the user's repository is left as it was (no commit, nothing staged).
    folder, outcome = results["inside-a-repository"]
    outer, ws = folder / "repo", folder / "repo" / "cluster"

    def git(cwd: Path, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout

    assert git(outer, "rev-list", "--count", "HEAD").strip() == "1"
    assert git(outer, "diff", "--cached", "--name-only") == ""
    assert git(ws, "rev-parse", "--show-toplevel").strip() == str(ws)
    committed = git(ws, "ls-files").split()
    assert committed and all(
        p in (".gitignore", "cluster.yaml") or p.startswith(("talos/", "gitops/")) for p in committed
    ), committed


def test_6_what_used_to_fail_late_is_a_field_error_for_every_command(tmp_path: Path) -> None:
    results = check(6, tmp_path)
    assert {case.command for case, *_ in results} == {"generate", "plan", "install"}
    for case, folder, *_ in results:
        assert not (folder / "ws").exists(), case.name


def test_7_nonsense_values_are_refused(tmp_path: Path) -> None:
    check(7, tmp_path)


# ---------------------------------------------------------------- 8. outcomes that tell the truth


def write_example(folder: Path, change=None) -> Path:
    data = example()
    if change is not None:
        change(data)
    path = folder / "cluster.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_8_locks_name_their_holder_and_a_recorded_pid_alone_holds_nothing(tmp_path: Path) -> None:
    config = write_example(tmp_path)
    # A second skynet while another holds the workspace: exit 2, the holder named, nothing written.
    held = tmp_path / "held"
    held.mkdir()
    with lock_held_by_child(held / ".skynet.lock") as holder:
        outcome = run(["install", "--config", str(config), "--workspace", str(held), "--yes"], tmp_path)
        assert sorted(p.name for p in held.iterdir()) == [".skynet.lock"]
    assert outcome.code == 2 and f"in use by another skynet (PID {holder.pid}" in outcome.stderr

    # Racers started at the same instant: each either runs or is refused naming the holder; never exit 1.
    raced = tmp_path / "raced"
    argv = [sys.executable, "-m", "skynet_tui", "generate", "--config", str(config), "--workspace", str(raced),
            "--patches-only"]  # fmt: skip
    racers = [subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for _ in range(3)]  # fmt: skip
    results = [(proc.wait(timeout=TIMEOUT), proc.communicate()[1]) for proc in racers]
    assert {code for code, _ in results} <= {0, 2} and 0 in {code for code, _ in results}, results
    for code, stderr in results:
        assert code == 0 or "in use by another skynet (PID " in stderr, stderr

    # A lock file naming a live process that holds no lock (PID 1, as a stale file would): taken over.
    stale = tmp_path / "stale"
    stale.mkdir()
    record = {"pid": 1, "start": lockfile.start_time(1), "host": socket.gethostname(), "since": 1.0}
    (stale / ".skynet.lock").write_text(json.dumps(record))
    outcome = run(
        ["generate", "--config", str(config), "--workspace", str(stale), "--patches-only"], tmp_path
    )
    assert outcome.code == 0, outcome.stderr
    assert (stale / "cluster.yaml").exists() and not (stale / ".skynet.lock").exists()

    # The demo's lab lock too: exit 2 naming the process that runs the lab.
    demo = tmp_path / "demo"
    with lock_held_by_child(demo / "simulated-lab" / "owner.lock") as holder:
        outcome = run(["demo", "--headless", "--workspace", str(demo)], tmp_path)
    assert outcome.code == 2 and f"in use by another skynet (PID {holder.pid}" in outcome.stderr
    assert not (demo / "lab").exists()


@pytest.mark.parametrize("argv", [["schema"], ["plan", "--config", "cluster.yaml"], ["--help"]])
def test_8_a_reader_that_went_away_ends_the_command_quietly(tmp_path: Path, argv: list[str]) -> None:
    """`skynet schema | head -c 10`, `skynet plan | head -1`: stdout's reader is gone; exit 0, nothing said."""
    write_example(tmp_path)
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader left before the first byte: every write to stdout fails with EPIPE
    try:
        proc = subprocess.run([sys.executable, "-m", "skynet_tui", *argv, *(["--workspace", "ws"] if "plan" in argv else [])],
                              cwd=tmp_path, stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=TIMEOUT)  # fmt: skip
    finally:
        os.close(write_end)
    assert proc.returncode == 0, proc.stderr
    assert (
        "Broken pipe" not in proc.stderr and "Traceback" not in proc.stderr and "Exception" not in proc.stderr
    )


class RunningInstall(Screen[bool]):
    """An install screen in the middle of its run (the app asks before quitting it)."""

    phase = "running"

    def __init__(self, cluster: spec.Cluster, ws: Any, env: dict[str, str] | None):
        super().__init__()

    def compose(self) -> ComposeResult:
        yield Static("running")


@pytest.mark.asyncio
async def test_8_stop_and_quit_during_an_install_is_a_cancel_not_a_success(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = spec.load(write_example(tmp_path))
    app = SkynetApp(
        bootstrap=BootstrapArgs(cluster, Workspace.at(tmp_path / "ws")), bootstrap_factory=RunningInstall
    )
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmDialog"
        await pilot.click("#confirm-yes")  # "Stop and quit"
        await pilot.pause()
    assert app.return_value == 1 and app.install_cancelled
    app.print_outcome(app.return_value)
    out, err = capsys.readouterr()
    assert "Install cancelled; run again to resume." in err and "is up" not in out + err


def test_8_a_journal_alone_never_says_the_cluster_is_up(tmp_path: Path) -> None:
    """Reopening a finished workspace skips every step on the journal's word: the summary says when the last
    install finished and that nothing was checked now; a run that ran or probed the last step says "is up"."""
    cluster = spec.load(write_example(tmp_path))
    ws = Workspace.at(tmp_path / "ws")
    ws.ensure()
    seen: list[float | None] = []

    def summary(finished_at: float | None) -> str:
        seen.append(finished_at)
        return platform.summary(cluster, ws, finished_at)

    steps = [Step("a", "a", lambda ctx: None), Step("check", "check", lambda ctx: None, deps=("a",))]
    first = Recorder()
    assert Runner(Plan("p", steps, summary=summary), ws, first).run()
    assert "Cluster homelab is up" in first.finished.summary and seen == [None]

    again = Recorder()
    assert Runner(Plan("p", steps, summary=summary), ws, again).run()
    assert seen[-1] is not None and seen[-1] > 0
    text = again.finished.summary
    assert "the last install finished at" in text and "not checked now" in text and "is up" not in text

    probed = [steps[0], Step("live", "live", lambda ctx: None, deps=("a",), postcondition=lambda ctx: True)]
    live = Recorder()
    assert Runner(Plan("p", probed, summary=summary), ws, live).run()
    assert "is up" in live.finished.summary  # the last step's probe looked at the cluster now


@pytest.mark.asyncio
async def test_8_ctrl_s_of_invalid_answers_keeps_the_valid_cluster_yaml(tmp_path: Path) -> None:
    folder = tmp_path / "homelab"
    folder.mkdir()
    valid = write_example(folder).read_text()
    app = SkynetApp()
    async with app.run_test(size=(100, 32)) as pilot:
        app.open_workspace(folder, resume=False)
        await pilot.pause()
        assert app.wizard is not None
        app.wizard.answers.data["spec"]["network"]["gateway"] = "not-an-ip"
        await pilot.press("ctrl+s")
        await pilot.pause()
        messages = [note.message for note in app._notifications]
    assert (folder / "cluster.yaml").read_text() == valid
    draft = folder / "cluster.draft.yaml"
    assert "not-an-ip" in draft.read_text()
    assert any("saved as a draft" in m and str(draft) in m and "is unchanged" in m for m in messages), (
        messages
    )

    # Opening the workspace again offers the draft; saving valid answers removes it.
    app = SkynetApp()
    async with app.run_test(size=(100, 32)) as pilot:
        app.open_workspace(folder, resume=False)
        await pilot.pause()
        assert app.wizard is not None and app.wizard.answers.data["spec"]["network"]["gateway"] == "not-an-ip"
        app.wizard.answers.data["spec"]["network"]["gateway"] = "192.168.10.1"
        assert app.wizard.save()
    assert not draft.exists() and (folder / "cluster.yaml").read_text() == spec.dump(spec.parse(example()))


# ---------------------------------------------------------------- 10. leftovers


def test_10_what_a_crash_left_is_removed_by_the_next_run(tmp_path: Path) -> None:
    config = write_example(tmp_path)
    ws = Workspace.at(tmp_path / "ws")
    first = run(
        ["generate", "--config", str(config), "--workspace", str(ws.root), "--patches-only"], tmp_path
    )
    assert first.code == 0, first.stderr
    # What a SIGKILL during generate leaves: a staging folder of full machine configs, temp files of writes.
    staging = ws.secrets_dir / ".render.k1ll3d"
    (staging / "nodes").mkdir(parents=True)
    (staging / "nodes" / "cp-1.yaml").write_text("machine: {token: s3cret}\n")
    torn = [ws.root / ".cluster.yaml.x1y2.tmp", ws.talos_dir / "nodes" / ".cp-1.yaml.a1b2.tmp",
            ws.gitops_dir / "apps" / ".argocd.yaml.c3d4.tmp"]  # fmt: skip
    for path in torn:
        path.write_text("half")
    again = run(
        ["generate", "--config", str(config), "--workspace", str(ws.root), "--patches-only"], tmp_path
    )
    assert again.code == 0, again.stderr
    assert not staging.exists() and not any(path.exists() for path in torn)
    assert not list(ws.root.rglob("*.tmp")) and not list(ws.secrets_dir.glob(".render.*"))


def test_10_a_demo_without_workspace_uses_one_stable_folder_and_creates_no_temporary_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo's own steps are the lab tests'; here only where it keeps its state: one folder in the user's
    data directory, printed at start and kept after a failed or a finished install (the same command resumes),
    never a temporary folder; --fresh removes it first."""
    from skynet_tui import headless
    from skynet_tui.__main__ import main
    from skynet_tui.commands import demo

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    stable = tmp_path / "data" / "skynet" / "demo"
    cluster = spec.parse(example())
    roots: list[Path] = []

    class Lab:
        subnet, control_planes, workers = "127.0.99.0/24", 3, 2

        def env(self) -> dict[str, str]:
            return dict(os.environ)

        def stop(self) -> None:
            pass

    def prepare(root: Path, nodes: str, **_: object) -> tuple[Lab, spec.Cluster, Workspace]:
        roots.append(Path(root))
        (Path(root) / "simulated-lab").mkdir(parents=True, exist_ok=True)
        ws = Workspace.at(Path(root) / "homelab")
        ws.ensure()
        return Lab(), cluster, ws

    monkeypatch.setattr(demo, "prepare_demo", prepare)
    for code in (1, 0):
        monkeypatch.setattr(headless, "run_install", lambda *args, code=code, **kwargs: code)
        assert main(["demo", "--headless"]) == code
    out = capsys.readouterr().out
    assert roots == [stable, stable] and list(temp.iterdir()) == []
    assert f"Demo folder {stable} (new)" in out
    assert f"Demo folder {stable} (resuming the demo stopped there; --fresh starts over)" in out
    assert "the same command resumes it" in out
    marker = stable / "homelab" / "marker"
    marker.write_text("from the run before")
    assert main(["demo", "--headless", "--fresh"]) == 0
    assert not marker.exists() and f"Demo folder {stable} (new)" in capsys.readouterr().out

    def broken(root: Path, nodes: str, **_: object) -> None:
        raise LabError("no free 127.0.X.0/24 subnet")

    from skynet_lab.core import LabError

    monkeypatch.setattr(demo, "prepare_demo", broken)
    assert main(["demo", "--headless"]) == 1
    assert list(temp.iterdir()) == []
