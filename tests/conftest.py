"""Shared test fixtures: the vendored upstream data, example answers, a clean environment, no reads outside."""

from __future__ import annotations

import copy
import os
import sys
from pathlib import Path

import pytest
import yaml

from tests.tools import GIT_WHY, require

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"  # upstream schemas and fixtures, each folder with a SOURCE.txt
EXAMPLE = REPO / "examples" / "cluster.yaml"
BESIDE = REPO.parent / "shared"  # the project's notes beside a checkout: a clone elsewhere has none


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # NO_COLOR changes every snapshot; tests that need it set it themselves.
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("PYTHONUNBUFFERED", "")
    monkeypatch.delenv("PYTHONUNBUFFERED")


@pytest.fixture
def git() -> str:
    """The git executable; a test that needs it (`usefixtures("git")`) is skipped without it."""
    return require("git", GIT_WHY)


@pytest.fixture
def example_data() -> dict:
    """The example answers as a fresh dict each time (tests mutate it)."""
    return copy.deepcopy(yaml.safe_load(EXAMPLE.read_text()))


def _reads_only_the_repository(event: str, args: tuple[object, ...]) -> None:
    """Audit hook: opening a file under ../shared fails at once, so any run shows what a fresh clone would."""
    if event != "open" or not isinstance(args[0], str | os.PathLike):
        return
    path = os.fspath(args[0])
    if isinstance(path, str) and "shared" in path:
        path = os.path.abspath(path)
        if path.startswith(f"{BESIDE}{os.sep}"):
            raise PermissionError(f"tests read tests/data, never {path}")


def pytest_configure(config: pytest.Config) -> None:
    sys.addaudithook(_reads_only_the_repository)
