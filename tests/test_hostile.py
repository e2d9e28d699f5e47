"""Hostile input, one test per class of issue 9: bad answers files and folders are refused fast, with exit 2, a
message naming the field or file, bounded memory and nothing written.

The inputs are in tests/hostile_cases.py (bench/hostile_input.py times the same ones). Every class runs in one
child limited to 300 MB of address space, through the CLI's own entry point.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.hostile_cases import BY_CLASS, TIMEOUT, Case, Outcome, run_batch

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
