"""Shared test fixtures: the vendored upstream data, example answers, a clean environment."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from tests.tools import GIT_WHY, require

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"  # upstream schemas and fixtures, each folder with a SOURCE.txt
EXAMPLE = REPO / "examples" / "cluster.yaml"


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
