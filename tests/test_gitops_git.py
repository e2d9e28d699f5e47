"""Writing the GitOps tree into the workspace and pushing it to a real git remote (bare repo, local HTTP)."""

from __future__ import annotations

import base64
import http.server
import os
import subprocess
import threading
from pathlib import Path

import pytest
import yaml

from skynet_tui import gitops, spec
from skynet_tui.__main__ import main
from skynet_tui.gitops.render import render_tree
from skynet_tui.workspace import COMMITTED, GIT_IDENTITY, Workspace
from tests.gitops_helpers import BACKUP, BACKUP_ENV, cluster_dns01, cluster_minimal

PATHS = [*COMMITTED, "gitops"]  # what generate commits for gitops.path: gitops

pytestmark = pytest.mark.usefixtures("git")  # every test here writes or reads a git repository

GIT_ENV = {**os.environ, **GIT_IDENTITY}


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, env=GIT_ENV, capture_output=True, text=True, check=True
    ).stdout


def git_objects(repo: Path) -> str:
    """Every object of a repository, reachable or not, decompressed (trees hold binary ids)."""
    out = subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch"],
        cwd=repo,
        env=GIT_ENV,
        capture_output=True,
        check=True,
    ).stdout
    return out.decode("utf-8", errors="replace")


def bare_remote(tmp_path: Path) -> Path:
    remote = tmp_path / "remote.git"
    git("init", "--bare", "-q", "-b", "main", str(remote))
    return remote


def with_remote(data: dict, remote: Path, **components: bool) -> spec.Cluster:
    data = spec.to_data(spec.parse(data))
    data["spec"]["gitops"]["repoURL"] = f"file://{remote}"
    data["spec"]["components"].update(components)
    return spec.parse(data)


def new_workspace(tmp_path: Path, branch: str = "main") -> Workspace:
    ws = Workspace.at(tmp_path / "ws")
    ws.ensure()
    ws.init_git(branch)
    return ws


def tree_of(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_write_commit_push_and_clone_back(example_data, tmp_path):
    remote = bare_remote(tmp_path)
    cluster = with_remote(example_data, remote)
    ws = new_workspace(tmp_path)
    changed = gitops.write_tree(ws, cluster)
    assert changed == sorted(render_tree(cluster))
    assert ws.commit("generate", PATHS)
    lines: list[str] = []
    gitops.push(ws, cluster, on_line=lambda stream, line: lines.append(line))
    assert any("refs/heads/main" in line for line in lines)
    assert git("remote", "get-url", "origin", cwd=ws.root).strip() == f"file://{remote}"

    clone = tmp_path / "clone"
    git("clone", "-q", "-b", "main", f"file://{remote}", str(clone))
    assert tree_of(clone / "gitops") == render_tree(cluster)

    # Same answers again: nothing changes, no new commit, the push is a no-op.
    head = git("rev-parse", "HEAD", cwd=ws.root)
    assert gitops.write_tree(ws, cluster) == []
    assert ws.commit("generate", PATHS) is False
    gitops.push(ws, cluster)
    assert git("rev-parse", "HEAD", cwd=ws.root) == head


def test_switching_a_component_off_removes_its_files(example_data, tmp_path):
    remote = bare_remote(tmp_path)
    ws = new_workspace(tmp_path)
    gitops.write_tree(ws, with_remote(example_data, remote))
    ws.commit("first", PATHS)
    (ws.gitops_dir / "values" / ".jaeger.yaml.x.tmp").write_text("left by a crash\n")
    changed = gitops.write_tree(ws, with_remote(example_data, remote, tracing=False))
    assert changed == [
        "README.md",
        "apps/jaeger.yaml",
        "values/.jaeger.yaml.x.tmp",
        "values/jaeger.yaml",
        "values/kube-prometheus-stack.yaml",
    ]
    assert not (ws.gitops_dir / "apps" / "jaeger.yaml").exists()
    assert ws.commit("tracing off", PATHS)
    assert "gitops/apps/jaeger.yaml" not in ws.tracked_files()


def test_a_tree_failing_its_checks_writes_nothing(example_data, tmp_path, monkeypatch):
    cluster = with_remote(example_data, bare_remote(tmp_path))
    ws = new_workspace(tmp_path)
    files = render_tree(cluster)
    broken = {**files, "config/traefik/copy.yaml": files["config/traefik/tls-options.yaml"]}
    monkeypatch.setattr("skynet_tui.gitops.git.render_tree", lambda _cluster: broken)
    with pytest.raises(gitops.GitOpsError, match="failed its checks: config/traefik/"):
        gitops.write_tree(ws, cluster)
    assert not ws.gitops_dir.exists()


def test_gitops_path_must_not_be_a_workspace_folder(example_data, tmp_path):
    data = spec.to_data(spec.parse(example_data))
    data["spec"]["gitops"]["path"] = "secrets/gitops"
    with pytest.raises(spec.SpecError, match="spec.gitops.path: 'secrets/gitops' collides"):
        spec.parse(data)
    # A cluster built by hand, past the answers' checks, is still refused before anything is written.
    cluster = spec.parse(example_data)
    cluster.spec.gitops.path = "secrets/gitops"
    ws = new_workspace(tmp_path)
    with pytest.raises(gitops.GitOpsError, match="collides"):
        gitops.write_tree(ws, cluster)
    assert not (ws.root / "secrets" / "gitops").exists()


@pytest.mark.slow
def test_rejected_non_fast_forward_push_keeps_local_work(example_data, tmp_path):
    remote = bare_remote(tmp_path)
    cluster = with_remote(example_data, remote)
    ws = new_workspace(tmp_path)
    gitops.write_tree(ws, cluster)
    ws.commit("first", PATHS)
    gitops.push(ws, cluster)

    other = tmp_path / "other"
    git("clone", "-q", "-b", "main", f"file://{remote}", str(other))
    (other / "NOTES.md").write_text("someone else's change\n")
    git("add", "NOTES.md", cwd=other)
    git("commit", "-q", "-m", "remote change", cwd=other)
    git("push", "-q", "origin", "main", cwd=other)

    changed = with_remote(example_data, remote, vpa=False)
    gitops.write_tree(ws, changed)
    ws.commit("vpa off", PATHS)
    head = git("rev-parse", "HEAD", cwd=ws.root)
    with pytest.raises(gitops.GitOpsError, match="non-fast-forward") as error:
        gitops.push(ws, changed)
    assert "\n" not in str(error.value)
    assert git("rev-parse", "HEAD", cwd=ws.root) == head
    assert git("status", "--porcelain", cwd=ws.root) == ""
    assert tree_of(ws.gitops_dir) == render_tree(changed)


class _Refuse(http.server.BaseHTTPRequestHandler):
    """A git HTTP server that refuses every credential, recording what it was sent."""

    seen: list[tuple[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        type(self).seen.append((self.path, self.headers.get("Authorization", "")))
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="git"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_https_token_goes_through_the_helper_and_refusal_is_an_auth_error(example_data, tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refuse)
    _Refuse.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/lab/homelab.git"
        data = spec.to_data(cluster_minimal(example_data))
        data["spec"]["gitops"].update(repoURL=url, credentials={"tokenEnv": "SKYNET_TEST_GIT_TOKEN"})
        cluster = spec.parse(data)
        ws = new_workspace(tmp_path, branch="prod")
        gitops.write_tree(ws, cluster)
        ws.commit("first", PATHS)
        token = "tok-" + "s3cr3t" * 4
        lines: list[str] = []
        with pytest.raises(gitops.GitOpsError, match="authentication was refused") as error:
            gitops.push(
                ws,
                cluster,
                on_line=lambda s, line: lines.append(line),
                env={**os.environ, "SKYNET_TEST_GIT_TOKEN": token},
            )
    finally:
        server.shutdown()
        server.server_close()
    expected = "Basic " + base64.b64encode(f"git:{token}".encode()).decode()
    assert ("/lab/homelab.git/info/refs?service=git-receive-pack", expected) in _Refuse.seen
    assert all(token not in path for path, _ in _Refuse.seen)
    assert token not in str(error.value) and all(token not in line for line in lines)
    assert token not in git("config", "--list", "--show-origin", cwd=ws.root)
    assert token not in "".join(p.read_text(errors="replace") for p in ws.root.rglob("*") if p.is_file())

    with pytest.raises(gitops.GitOpsError, match="SKYNET_TEST_GIT_TOKEN .*is not set"):
        gitops.push(ws, cluster, env={k: v for k, v in os.environ.items() if k != "SKYNET_TEST_GIT_TOKEN"})


@pytest.mark.parametrize(
    ("refusal", "reason"),
    [
        ("git@host: Permission denied (publickey).", "authentication was refused"),
        ("Host key verification failed.", "SSH host key differs"),
    ],
)
def test_ssh_key_is_used_through_git_ssh_command(example_data, tmp_path, refusal, reason):
    # A stand-in `ssh` records how git called it and refuses like the server would.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "ssh-argv"
    fake = bin_dir / "ssh"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\necho "{refusal}" >&2\nexit 255\n')
    fake.chmod(0o755)
    key = tmp_path / "deploy_key"
    key.write_text("not a real key\n")
    data = spec.to_data(cluster_minimal(example_data))
    data["spec"]["gitops"].update(
        repoURL="git@git.example.org:lab/tiny.git", credentials={"sshKeyFile": str(key)}
    )
    cluster = spec.parse(data)
    ws = new_workspace(tmp_path, branch="prod")
    gitops.write_tree(ws, cluster)
    ws.commit("first", PATHS)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    with pytest.raises(gitops.GitOpsError, match=reason):
        gitops.push(ws, cluster, env=env)
    argv = record.read_text().split("\n")
    assert argv[argv.index("-i") + 1] == str(key)
    assert "IdentitiesOnly=yes" in argv and "git@git.example.org" in argv


def _secret_strings(folder: Path) -> set[str]:
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and len(node) >= 8:
            found.add(node)

    for path in folder.rglob("*"):
        if path.is_file():
            walk(yaml.safe_load(path.read_text()))
    return found


def test_no_secret_reaches_the_remote(example_data, tmp_path):
    remote = bare_remote(tmp_path)
    data = spec.to_data(cluster_dns01(example_data))
    data["spec"]["gitops"]["repoURL"] = f"file://{remote}"
    data["spec"]["backup"] = {**BACKUP, "volumes": True}
    cluster = spec.parse(data)
    ws = new_workspace(tmp_path)
    ws.write("cluster.yaml", spec.dump(cluster))
    ws.write_secret("secrets.yaml", "cluster:\n  secret: c2VjcmV0LWJ1bmRsZS12YWx1ZS0xMjM0NTY=\n")
    password = gitops.grafana_admin_password(ws)
    env = {"CF_API_TOKEN": "cf-dns-token-0123456789", "GIT_TOKEN": "git-token-abcdefghijkl", **BACKUP_ENV}
    manifests = gitops.bootstrap_secrets(cluster, env, grafana_password=password)
    gitops.write_tree(ws, cluster)
    ws.commit("generate", PATHS)
    gitops.push(ws, cluster, env={**os.environ, **env})

    clone = tmp_path / "clone"
    git("clone", "-q", "-b", "main", f"file://{remote}", str(clone))
    committed = "\n".join(
        p.read_text(errors="replace") for p in clone.rglob("*") if p.is_file() and ".git" not in p.parts
    )
    history = git("log", "-p", "--all", cwd=clone)
    assert "gitops/values/argocd.yaml" in git("ls-files", cwd=clone)
    needles = _secret_strings(ws.secrets_dir) | set(env.values()) | set(gitops.secret_values(manifests))
    assert password in needles and len(needles) >= 4
    assert set(BACKUP_ENV.values()) <= set(gitops.secret_values(manifests))  # they do go into Secrets
    objects = git_objects(clone)  # every object, reachable or not
    for needle in needles:
        assert needle not in committed and needle not in history, "a secret value is in the GitOps remote"
        assert needle not in objects, "a secret value is in a git object of the remote"
    # The backup's S3 keys are named in the tree by their variables only, and no file of the workspace holds them.
    assert "BACKUP_S3_SECRET_KEY" in committed
    workspace_text = "\n".join(
        p.read_text(errors="replace") for p in ws.root.rglob("*") if p.is_file() and ".git" not in p.parts
    )
    workspace_objects = git_objects(ws.root)
    for needle in BACKUP_ENV.values():
        assert needle not in workspace_text and needle not in workspace_objects


@pytest.mark.slow
def test_generate_patches_only_writes_commits_and_pushes_gitops(example_data, tmp_path, capsys):
    remote = bare_remote(tmp_path)
    cluster = with_remote(example_data, remote)
    config = tmp_path / "cluster.yaml"
    config.write_text(spec.dump(cluster))
    workspace = tmp_path / "ws"
    argv = ["generate", "--config", str(config), "--workspace", str(workspace), "--patches-only", "--push"]
    assert main(argv) == 0, capsys.readouterr().err
    ws = Workspace.at(workspace)
    tracked = set(ws.tracked_files())
    assert {f"gitops/{rel}" for rel in render_tree(cluster)} <= tracked
    clone = tmp_path / "clone"
    git("clone", "-q", "-b", "main", f"file://{remote}", str(clone))
    assert tree_of(clone / "gitops") == render_tree(cluster)

    commits = git("rev-list", "--count", "HEAD", cwd=workspace)
    assert main(argv) == 0
    assert git("rev-list", "--count", "HEAD", cwd=workspace) == commits


def test_a_missing_remote_is_named_by_gits_own_reason(example_data, tmp_path):
    cluster = with_remote(example_data, tmp_path / "nowhere.git")
    ws = new_workspace(tmp_path)
    gitops.write_tree(ws, cluster)
    ws.commit("first", PATHS)
    with pytest.raises(gitops.GitOpsError) as error:
        gitops.push(ws, cluster)
    assert "does not appear to be a git repository" in str(error.value)
