"""The platform upgrade: a workspace rendered by an older Skynet (older charts pinned) against today's table; per
app pinned → new with majors flagged, the GitOps diff, then written, committed and pushed; the CLI's exit codes."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from skynet_tui import spec
from skynet_tui.__main__ import main
from skynet_tui.commands.upgrade_platform import run_platform
from skynet_tui.generate import generate
from skynet_tui.gitops.charts import BY_NAME
from skynet_tui.upgrade.charts import ChartChange, chart_changes, tree_diff
from skynet_tui.workspace import COMMITTED, Workspace
from tests.test_gitops_git import bare_remote, git, with_remote

pytestmark = pytest.mark.usefixtures("git")


def pin(ws: Workspace, app: str, version: str) -> None:
    """Make the workspace pin another chart version for an app (as an older Skynet rendered it)."""
    path = ws.gitops_dir / "apps" / f"{app}.yaml"
    text = path.read_text()
    line = f'targetRevision: "{BY_NAME[app].version}"'
    assert line in text
    path.write_text(text.replace(line, f'targetRevision: "{version}"', 1))


@pytest.fixture
def older(example_data: dict, tmp_path: Path) -> tuple[spec.Cluster, Workspace, Path]:
    remote = bare_remote(tmp_path)
    cluster = with_remote(example_data, remote)
    ws = Workspace.at(tmp_path / "ws")
    generate(cluster, ws, patches_only=True, push=True)
    pin(ws, "metallb", "0.15.2")
    pin(ws, "kube-prometheus-stack", "77.0.0")
    pin(ws, "traefik", BY_NAME["traefik"].version.split(".")[0] + ".0.0")  # same major, older minor
    ws.commit("an older Skynet's charts", [*COMMITTED, cluster.spec.gitops.path])
    return cluster, ws, remote


def test_majors_are_flagged_and_semver_zero_minors_count(older) -> None:
    cluster, ws, _ = older
    found = {c.app: c for c in chart_changes(ws, cluster)}
    assert set(found) == {"metallb", "kube-prometheus-stack", "traefik"}
    metallb, kps, traefik = found["metallb"], found["kube-prometheus-stack"], found["traefik"]
    assert (metallb.pinned, metallb.new) == ("0.15.2", BY_NAME["metallb"].version)
    assert metallb.major and kps.major and not traefik.major
    assert kps.describe() == (
        f"kube-prometheus-stack: kube-prometheus-stack 77.0.0 -> {BY_NAME['kube-prometheus-stack'].version} — a "
        "major version: read the chart's upgrade notes before you push"
    )
    assert ChartChange("x", "x", "", "1.0.0").describe() == "x: a new app (x 1.0.0)"
    changed, diff = tree_diff(ws, cluster)
    assert changed == ["apps/kube-prometheus-stack.yaml", "apps/metallb.yaml", "apps/traefik.yaml"]
    assert '-      targetRevision: "0.15.2"' in diff and "+++ b/gitops/apps/metallb.yaml" in diff


def test_upgrade_platform_commits_and_pushes_and_then_has_nothing_to_do(older, tmp_path: Path) -> None:
    cluster, ws, remote = older
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None)
    assert run_platform(ws, dry_run=True, console=console) == 0
    assert "--dry-run: nothing written" in out.getvalue() and "+      targetRevision:" in out.getvalue()
    assert chart_changes(ws, cluster)  # the dry run changed nothing

    code = run_platform(ws, assume_yes=True, console=console)
    assert code == 0, out.getvalue()
    assert not chart_changes(ws, cluster) and tree_diff(ws, cluster) == ([], "")
    assert "skynet upgrade platform: " in git("log", "-1", "--format=%s", cwd=ws.root)
    assert git("rev-parse", "HEAD", cwd=ws.root) == git("rev-parse", "main", cwd=remote)
    pushed = yaml.safe_load(git("show", "main:gitops/apps/metallb.yaml", cwd=remote))
    assert pushed["spec"]["sources"][0]["targetRevision"] == BY_NAME["metallb"].version
    assert "Argo CD syncs the changed" in out.getvalue()

    again = io.StringIO()
    assert run_platform(ws, assume_yes=True, console=Console(file=again, width=200, color_system=None)) == 0
    assert "nothing to upgrade" in again.getvalue()


def test_the_cli_refuses_bad_input_with_exit_2(older, tmp_path: Path, capsys) -> None:
    _, ws, _ = older
    assert main(["upgrade", "platform", "--workspace", str(tmp_path / "nowhere")]) == 2
    assert "holds no cluster.yaml" in capsys.readouterr().err
    assert main(["upgrade", "platform", "--workspace", str(ws.root)]) == 2  # generated, never installed
    assert "secrets/kubeconfig does not exist" in capsys.readouterr().err
    (ws.secrets_dir / "kubeconfig").write_text("apiVersion: v1\n")
    (ws.secrets_dir / "talosconfig").write_text("context: x\n")
    assert main(["upgrade", "talos", "--workspace", str(ws.root)]) == 2
    assert "--to VERSION is required" in capsys.readouterr().err
    result = subprocess.run(
        [sys.executable, "-m", "skynet_tui", "upgrade", "platform", "--workspace", str(ws.root)],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 2 and "pass --yes" in result.stderr
