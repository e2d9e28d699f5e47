"""The layering contracts (import-linter, `[tool.importlinter]` in pyproject.toml): each one fails on a violation,
the core's list is complete, and the core and the lab load no UI at run time."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

from tests.conftest import REPO

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONTRACTS = {
    c["id"]: c
    for c in tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
}
CORE = CONTRACTS["core-no-ui"]["source_modules"]
# Not core: the Textual layer, the headless printer (rich), the CLI, and the demo's wiring (it imports the lab).
FRONT = {"app", "screens", "widgets", "headless", "commands", "__main__", "demo"}
UI = ("textual", "rich", "skynet_tui.app", "skynet_tui.screens", "skynet_tui.widgets", "skynet_tui.headless")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports on the tree under `root` (its pyproject.toml and packages, not the installed ones)."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root), "COLUMNS": "500"},  # one line per contract
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of both packages and pyproject.toml to break on purpose."""
    for package in ("skynet_tui", "skynet_lab"):
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    return tmp_path


# module to add a line to, the line, the contracts it breaks, the import the report names
VIOLATIONS = {
    "textual in spec": (
        "skynet_tui/spec/model.py",
        "import textual",
        {"core-no-ui"},
        "skynet_tui.spec.model -> textual",
    ),
    "a screen in a widget": (
        "skynet_tui/widgets/lines.py",
        "from skynet_tui.screens import dialogs",
        {"widgets-no-screens", "acyclic"},
        "skynet_tui.widgets.lines -> skynet_tui.screens.dialogs",
    ),
    "the plan in the lab": (
        "skynet_lab/state.py",
        "from skynet_tui.plan import Step",
        {"lab-public-api"},
        "skynet_lab.state -> skynet_tui.plan",
    ),
    "the lab in the runner": (
        "skynet_tui/runner/services.py",
        "def lab():\n    from skynet_lab import core",
        {"lab-only-in-demo", "core-no-ui"},
        "skynet_tui.runner.services -> skynet_lab.core",
    ),
    "a cycle through a function": (
        "skynet_lab/kubesim/charts.py",
        "def render():\n    from skynet_lab.kubesim import helm",
        {"acyclic"},
        "- .charts -> .helm (1 import)",
    ),
}


def broken_contracts(out: str) -> set[str]:
    return {cid for cid, contract in CONTRACTS.items() if f"{contract['name']} BROKEN" in out}


@pytest.mark.parametrize("case", VIOLATIONS)
def test_a_violation_fails_its_contract(tree: Path, case: str) -> None:
    module, line, contracts, reported = VIOLATIONS[case]
    with (tree / module).open("a") as f:
        f.write(f"\n\n{line}\n")
    result = lint_imports(tree)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert broken_contracts(out) == contracts, out
    assert reported in out, out


def test_the_untouched_copy_keeps_every_contract(tree: Path) -> None:
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in result.stdout


def test_the_core_is_every_module_but_the_front_ends() -> None:
    package = REPO / "skynet_tui"
    children = {p.stem for p in package.glob("*.py")} | {p.parent.name for p in package.glob("*/__init__.py")}
    children.discard("__init__")
    assert children >= FRONT, FRONT - children
    assert sorted(f"skynet_tui.{c}" for c in children - FRONT) == sorted(CORE)


def test_the_plan_imports_the_runner_only_for_types() -> None:
    """The acyclic contract lets plan.* -> runner pass because those imports sit under TYPE_CHECKING: keep it so."""
    graph = grimp.build_graph("skynet_tui", exclude_type_checking_imports=True, cache_dir=None)
    assert not graph.direct_import_exists(
        importer="skynet_tui.plan", imported="skynet_tui.runner", as_packages=True
    )


def _modules(package: str) -> list[str]:
    path = REPO / package.replace(".", "/")
    if not path.is_dir():
        return [package]
    return sorted(
        ".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for p in path.rglob("*.py")
    )


@pytest.mark.parametrize(
    ("packages", "unwanted"),
    [(CORE, (*UI, "skynet_tui.commands", "skynet_tui.demo", "skynet_lab")), (["skynet_lab"], UI)],
    ids=["core", "lab"],
)
def test_importing_every_module_loads_no_ui(packages: list[str], unwanted: tuple[str, ...]) -> None:
    modules = [m for package in packages for m in _modules(package)]
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules)
    code += f"print(sorted(m for m in sys.modules if m.startswith({unwanted!r})))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert len(modules) > 20
    assert result.stdout.strip() == "[]"
