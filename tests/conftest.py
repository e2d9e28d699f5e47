"""Shared test fixtures: paths to ../shared, example answers, a clean environment."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
EXAMPLE = REPO / "examples" / "cluster.yaml"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # NO_COLOR changes every snapshot; tests that need it set it themselves.
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("PYTHONUNBUFFERED", "")
    monkeypatch.delenv("PYTHONUNBUFFERED")


@pytest.fixture(scope="session")
def shared() -> Path:
    assert SHARED.is_dir(), f"{SHARED} is missing: tests read ../shared beside the repository"
    return SHARED


@pytest.fixture
def example_data() -> dict:
    """The example answers as a fresh dict each time (tests mutate it)."""
    return copy.deepcopy(yaml.safe_load(EXAMPLE.read_text()))


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("SKYNET_TEST", "1")
