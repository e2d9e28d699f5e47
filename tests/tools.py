"""External tools some tests run: the path of each, or a skip that names what is missing and why."""

from __future__ import annotations

import shutil

import pytest

GIT_WHY = "workspaces and the lab's GitOps remote are git repositories"


def require(tool: str, why: str) -> str:
    """The tool's path on PATH; without it the calling test is skipped with the reason (.ci/run installs it)."""
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} not on PATH: {why}")
    return path
