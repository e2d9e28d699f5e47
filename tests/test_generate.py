"""`skynet generate`: bad answers change nothing (exit 2), and a full run with the simulated talosctl."""

from __future__ import annotations

import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from skynet_lab import talos_version
from skynet_tui import spec
from skynet_tui.__main__ import main
from skynet_tui.generate import GenerateError, generate
from skynet_tui.talos.images import installer_image
from skynet_tui.versions import VANILLA_SCHEMATIC
from skynet_tui.workspace import Workspace
from tests.runner_helpers import lock_held_by_child
from tests.talos_helpers import (
    fakes_on_path,
    git_commits,
    git_ls_files,
    parse,
    small,
    snapshot,
    talos_114,
    write_answers,
)

Mutation = Callable[[dict[str, Any]], None]


@pytest.fixture
def fake_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return fakes_on_path(tmp_path, monkeypatch)


def setting(path: str, value: Any) -> Mutation:
    """Set (or with value DELETE, remove) one key, addressed like `spec.nodes.0.ip`."""

    def apply(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        key: Any = int(last) if last.isdigit() else last
        if value is DELETE:
            del node[key]
        else:
            node[key] = value

    return apply


DELETE = object()


def both(*mutations: Mutation) -> Mutation:
    def apply(data: dict[str, Any]) -> None:
        for mutation in mutations:
            mutation(data)

    return apply


def dns01(**fields: Any) -> Mutation:
    return both(setting("spec.ingress.acme.challenge", "dns01"), setting("spec.ingress.acme.dns01", fields))


# (id, mutation of examples/cluster.yaml, the field path the error must name)
INVALID: list[tuple[str, Mutation, str]] = [
    ("duplicate-hostname", setting("spec.nodes.1.hostname", "cp-1"), "spec.nodes[1].hostname"),
    ("duplicate-ip", setting("spec.nodes.4.ip", "192.168.10.11"), "spec.nodes[4].ip"),
    ("node-ip-outside-subnet", setting("spec.nodes.0.ip", "192.168.20.11"), "spec.nodes[0].ip"),
    ("node-ip-network-address", setting("spec.nodes.0.ip", "192.168.10.0"), "spec.nodes[0].ip"),
    ("gateway-outside-subnet", setting("spec.network.gateway", "10.0.0.1"), "spec.network.gateway"),
    ("gateway-is-a-node", setting("spec.network.gateway", "192.168.10.12"), "spec.network.gateway"),
    (
        "endpoint-outside-subnet",
        setting("spec.controlPlane.endpoint", "10.1.1.1"),
        "spec.controlPlane.endpoint",
    ),
    (
        "endpoint-outside-subnet-no-vip",
        both(setting("spec.controlPlane.vip", False), setting("spec.controlPlane.endpoint", "10.1.1.1")),
        "spec.controlPlane.endpoint",
    ),
    ("vip-is-a-node", setting("spec.controlPlane.endpoint", "192.168.10.13"), "spec.controlPlane.endpoint"),
    (
        "vip-is-the-gateway",
        setting("spec.controlPlane.endpoint", "192.168.10.1"),
        "spec.controlPlane.endpoint",
    ),
    (
        "vip-with-dns-endpoint",
        setting("spec.controlPlane.endpoint", "k8s.example.com"),
        "spec.controlPlane.vip",
    ),
    (
        "vip-inside-pool",
        setting("spec.controlPlane.endpoint", "192.168.10.210"),
        "spec.loadBalancer.addresses[0]",
    ),
    (
        "pool-outside-subnet",
        setting("spec.loadBalancer.addresses", ["192.168.11.200-192.168.11.220"]),
        "spec.loadBalancer.addresses[0]",
    ),
    (
        "pool-holds-a-node",
        setting("spec.loadBalancer.addresses", ["192.168.10.20-192.168.10.30"]),
        "spec.loadBalancer.addresses[0]",
    ),
    (
        "pool-holds-the-gateway",
        setting("spec.loadBalancer.addresses", ["192.168.10.0/28"]),
        "spec.loadBalancer.addresses[0]",
    ),
    (
        "pool-reversed",
        setting("spec.loadBalancer.addresses", ["192.168.10.220-192.168.10.200"]),
        "spec.loadBalancer.addresses[0]",
    ),
    (
        "pools-overlap",
        setting(
            "spec.loadBalancer.addresses", ["192.168.10.200-192.168.10.220", "192.168.10.210-192.168.10.230"]
        ),
        "spec.loadBalancer.addresses[1]",
    ),
    ("pool-not-a-range", setting("spec.loadBalancer.addresses", ["lots"]), "spec.loadBalancer.addresses[0]"),
    ("pool-empty", setting("spec.loadBalancer.addresses", []), "spec.loadBalancer.addresses"),
    (
        "pod-overlaps-service",
        setting("spec.kubernetes.podSubnet", "10.96.0.0/16"),
        "spec.kubernetes.serviceSubnet",
    ),
    (
        "pod-overlaps-nodes",
        setting("spec.kubernetes.podSubnet", "192.168.0.0/16"),
        "spec.kubernetes.podSubnet",
    ),
    (
        "service-overlaps-nodes",
        setting("spec.kubernetes.serviceSubnet", "192.168.10.128/25"),
        "spec.kubernetes.serviceSubnet",
    ),
    (
        "pod-subnet-not-cidr",
        setting("spec.kubernetes.podSubnet", "10.244.0.0/33"),
        "spec.kubernetes.podSubnet",
    ),
    ("subnet-host-bits", setting("spec.network.subnet", "192.168.10.1/24"), "spec.network.subnet"),
    ("subnet-not-cidr", setting("spec.network.subnet", "192.168.10.0/abc"), "spec.network.subnet"),
    ("no-controlplane", lambda d: [n.update(role="worker") for n in d["spec"]["nodes"]], "spec.nodes"),
    ("no-nodes", setting("spec.nodes", []), "spec.nodes"),
    ("bad-role", setting("spec.nodes.0.role", "master"), "spec.nodes[0].role"),
    ("kubernetes-too-old", setting("spec.kubernetes.version", "1.30.0"), "spec.kubernetes.version"),
    ("kubernetes-too-new", setting("spec.kubernetes.version", "1.37.0"), "spec.kubernetes.version"),
    ("kubernetes-not-a-version", setting("spec.kubernetes.version", "latest"), "spec.kubernetes.version"),
    ("talos-unsupported", setting("spec.talos.version", "v1.12.6"), "spec.talos.version"),
    ("talos-without-v", setting("spec.talos.version", "1.13.9"), "spec.talos.version"),
    ("schematic-not-hex", setting("spec.talos.schematic", "vanilla"), "spec.talos.schematic"),
    ("hostname-invalid", setting("spec.nodes.2.hostname", "CP_3"), "spec.nodes[2].hostname"),
    ("cluster-name-invalid", setting("metadata.name", "Home Lab"), "metadata.name"),
    ("cluster-name-too-long", setting("metadata.name", "a" * 41), "metadata.name"),
    ("cluster-name-missing", setting("metadata.name", DELETE), "metadata.name"),
    ("domain-invalid", setting("spec.ingress.domain", "example"), "spec.ingress.domain"),
    ("email-invalid", setting("spec.ingress.acme.email", "ops-at-example.com"), "spec.ingress.acme.email"),
    ("acme-server-invalid", setting("spec.ingress.acme.server", "prod"), "spec.ingress.acme.server"),
    ("mac-invalid", setting("spec.nodes.3.mac", "aa:bb:cc:dd:ee"), "spec.nodes[3].mac"),
    ("interface-and-mac", setting("spec.nodes.0.mac", "aa:bb:cc:dd:ee:10"), "spec.nodes[0].mac"),
    ("install-disk-not-a-path", setting("spec.nodes.0.installDisk", "sda"), "spec.nodes[0].installDisk"),
    (
        "install-disk-two-selectors",
        setting("spec.nodes.0.installDisk", {"serial": "A", "wwid": "B"}),
        "spec.nodes[0].installDisk",
    ),
    ("gateway-not-an-ip", setting("spec.network.gateway", "router"), "spec.network.gateway"),
    (
        "nameserver-invalid",
        setting("spec.network.nameservers", ["1.1.1.1", "dns"]),
        "spec.network.nameservers[1]",
    ),
    ("cni-unknown", setting("spec.kubernetes.cni", "calico"), "spec.kubernetes.cni"),
    ("repo-url-invalid", setting("spec.gitops.repoURL", "github.com/example/homelab"), "spec.gitops.repoURL"),
    ("gitops-path-escapes", setting("spec.gitops.path", "../gitops"), "spec.gitops.path"),
    ("dns01-without-provider", dns01(tokenEnv="CF_API_TOKEN"), "spec.ingress.acme.dns01.provider"),
    ("dns01-without-token-env", dns01(provider="cloudflare"), "spec.ingress.acme.dns01.tokenEnv"),
    ("dns01-missing", setting("spec.ingress.acme.challenge", "dns01"), "spec.ingress.acme.dns01.provider"),
    (
        "token-env-invalid",
        dns01(provider="cloudflare", tokenEnv="1TOKEN"),
        "spec.ingress.acme.dns01.tokenEnv",
    ),
    (
        "credentials-both",
        setting("spec.gitops.credentials", {"sshKeyFile": "~/.ssh/k", "tokenEnv": "GIT_TOKEN"}),
        "spec.gitops.credentials",
    ),
    ("unknown-key", setting("spec.netwrok", {}), "spec.netwrok"),
    ("unknown-node-key", setting("spec.nodes.0.hostnam", "x"), "spec.nodes[0].hostnam"),
    ("wrong-kind", setting("kind", "Cluster2"), "kind"),
    ("wrong-api-version", setting("apiVersion", "skynet.dev/v2"), "apiVersion"),
]


def test_the_invalid_table_is_broad() -> None:
    assert len(INVALID) >= 40
    assert len({case[0] for case in INVALID}) == len(INVALID)


@pytest.mark.parametrize(("case", "mutate", "path"), INVALID, ids=[c[0] for c in INVALID])
def test_bad_answers_exit_2_name_the_field_and_create_nothing(
    tmp_path: Path,
    example_data: dict,
    capsys: pytest.CaptureFixture[str],
    case: str,
    mutate: Mutation,
    path: str,
) -> None:
    mutate(example_data)
    answers = write_answers(tmp_path / "cluster.yaml", example_data)
    workspace = tmp_path / "ws"
    assert main(["generate", "--config", str(answers), "--workspace", str(workspace)]) == 2
    err = capsys.readouterr().err
    # A node's issue names it after its path: `spec.nodes[2].ip (cp-3): …`.
    assert re.search(rf"^  {re.escape(path)}( \([\w.-]+\))?: ", err, re.M), err
    assert not workspace.exists()


@pytest.mark.parametrize(
    ("text", "where"),
    [("spec: [unclosed\n", "line 2, column 1: not valid YAML"), ("- a list\n", "(file)"), ("", "(file)")],
)
def test_unreadable_answers_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, where: str
) -> None:
    answers = tmp_path / "cluster.yaml"
    answers.write_text(text)
    assert main(["generate", "--config", str(answers), "--workspace", str(tmp_path / "ws")]) == 2
    assert where in capsys.readouterr().err and not (tmp_path / "ws").exists()


@pytest.mark.usefixtures("git")
def test_bad_answers_leave_an_existing_workspace_byte_identical(
    tmp_path: Path, example_data: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_answers(tmp_path / "good.yaml", example_data)
    workspace = tmp_path / "ws"
    assert main(["generate", "--config", str(good), "--workspace", str(workspace), "--patches-only"]) == 0
    before = snapshot(workspace)
    example_data["spec"]["nodes"][1]["ip"] = "192.168.10.11"
    bad = write_answers(tmp_path / "bad.yaml", example_data)
    assert main(["generate", "--config", str(bad), "--workspace", str(workspace)]) == 2
    assert "spec.nodes[1].ip" in capsys.readouterr().err
    assert snapshot(workspace) == before


def test_missing_answers_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["generate", "--config", str(tmp_path / "nope.yaml"), "--workspace", str(tmp_path / "ws")]) == 2
    )
    err = capsys.readouterr().err
    assert f"cannot read {tmp_path / 'nope.yaml'}: No such file" in err and "invalid" not in err
    assert not (tmp_path / "ws").exists()


# ---------------------------------------------------------------- without talosctl


def test_without_talosctl_exit_1_with_the_install_hint(
    tmp_path: Path, example_data: dict, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    answers = write_answers(tmp_path / "cluster.yaml", example_data)
    assert main(["generate", "--config", str(answers), "--workspace", str(tmp_path / "ws")]) == 1
    err = capsys.readouterr().err
    assert "talosctl is not on PATH" in err and "https://talos.dev/install" in err
    assert not (tmp_path / "ws").exists()  # checked before anything is written


def test_patches_only_needs_no_talosctl(
    tmp_path: Path, example_data: dict, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # git, but no talosctl
    answers = write_answers(tmp_path / "cluster.yaml", example_data)
    monkeypatch.chdir(tmp_path)
    assert (
        main(["generate", "--config", str(answers), "--patches-only"]) == 0
    )  # workspace defaults to ./homelab
    root = tmp_path / "homelab"
    tracked = git_ls_files(root)
    assert {
        "cluster.yaml",
        "talos/common.yaml",
        "talos/controlplane.yaml",
        "talos/nodes/worker-2.yaml",
    } <= set(tracked)
    assert not (root / "secrets" / "secrets.yaml").exists() and not (root / "secrets" / "nodes").exists()
    assert spec.load(root / "cluster.yaml") == spec.parse(example_data)
    assert git_commits(root) == 1
    assert "patches only" in capsys.readouterr().out


# ---------------------------------------------------------------- with the simulated talosctl


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("git")
@pytest.mark.slow
def test_generate_renders_configs_secure_and_idempotent(
    tmp_path: Path, example_data: dict, fake_bin: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = write_answers(tmp_path / "cluster.yaml", example_data)
    root = tmp_path / "ws"
    assert main(["generate", "--config", str(answers), "--workspace", str(root)]) == 0
    out = capsys.readouterr().out
    assert "created the secrets bundle" in out and "committed" in out
    ws = Workspace.at(root)

    secret_files = [p for p in ws.secrets_dir.rglob("*") if p.is_file()]
    names = {p.relative_to(root).as_posix() for p in secret_files}
    assert {
        "secrets/secrets.yaml",
        "secrets/talosconfig",
        "secrets/generated/controlplane.yaml",
        "secrets/generated/worker.yaml",
        *(f"secrets/nodes/{n['hostname']}.yaml" for n in example_data["spec"]["nodes"]),
    } == names  # and no staging leftovers
    assert all(_mode(p) == 0o600 for p in secret_files) and _mode(ws.secrets_dir) == 0o700

    tracked = git_ls_files(root)
    assert not [t for t in tracked if t.startswith("secrets/")]
    bundle_text = ws.secrets_bundle.read_text()
    token = yaml.safe_load(bundle_text)["trustdinfo"]["token"]
    for rel in tracked:
        assert token not in (root / rel).read_text(errors="replace"), rel

    cp1 = [d for d in yaml.safe_load_all(ws.node_config("cp-1").read_text()) if d]
    assert cp1[0]["machine"]["type"] == "controlplane" and cp1[0]["machine"]["token"] == token
    assert cp1[0]["machine"]["install"]["disk"] == "/dev/sda"
    # The installer image comes from gen config's --install-image, the one place it is written.
    assert cp1[0]["machine"]["install"]["image"] == installer_image(VANILLA_SCHEMATIC, "v1.13.9")
    assert "image" not in (root / "talos" / "nodes" / "cp-1.yaml").read_text()
    assert cp1[0]["cluster"]["controlPlane"]["endpoint"] == "https://192.168.10.10:6443"
    kinds = {d.get("kind"): d for d in cp1}
    assert kinds["HostnameConfig"] == {
        "apiVersion": "v1alpha1",
        "kind": "HostnameConfig",
        "auto": "off",
        "hostname": "cp-1",
    }
    assert kinds["Layer2VIPConfig"]["name"] == "192.168.10.10"
    w1 = [d for d in yaml.safe_load_all(ws.node_config("worker-1").read_text()) if d]
    assert w1[0]["machine"]["install"]["diskSelector"] == {"serial": "S4EWNX0R123456"}
    assert "Layer2VIPConfig" not in {d.get("kind") for d in w1}
    talosconfig = yaml.safe_load(ws.talosconfig.read_text())
    assert talosconfig["contexts"]["homelab"]["endpoints"] == [
        "192.168.10.11",
        "192.168.10.12",
        "192.168.10.13",
    ]
    assert "nodes" not in talosconfig["contexts"]["homelab"]  # every call names its nodes

    before = {p: p.read_bytes() for p in secret_files}
    commits = git_commits(root)
    assert main(["generate", "--config", str(answers), "--workspace", str(root)]) == 0
    assert "up to date, nothing changed" in capsys.readouterr().out
    assert git_commits(root) == commits
    assert {p: p.read_bytes() for p in secret_files} == before  # same bundle, same configs


@pytest.mark.usefixtures("git")
@pytest.mark.slow
def test_generate_api_reports_changes_and_drops_removed_nodes(
    tmp_path: Path, example_data: dict, fake_bin: Path
) -> None:
    ws = Workspace.at(tmp_path / "ws")
    lines: list[tuple[str, str]] = []
    first = generate(parse(example_data), ws, on_line=lambda s, line: lines.append((s, line)))
    assert first.committed and first.secrets_created
    assert set(first.node_configs) == {n["hostname"] for n in example_data["spec"]["nodes"]}
    assert "secrets/secrets.yaml" in first.secret_changes and "talos/nodes/cp-1.yaml" in first.changed
    assert ("info", "validating every machine config (talosctl validate --mode metal --strict)") in lines
    # Every command as one line to run by hand: nothing in them is a secret, so nothing is masked.
    shown = [line for _, line in lines if line.startswith("$ ")]
    assert len(shown) > 10 and not [line for line in shown if "«redacted»" in line]
    assert (
        "$ talosctl machineconfig patch secrets/.render/generated/controlplane.yaml --patch @talos/nodes/cp-1.yaml "
        "--output secrets/.render/nodes/cp-1.yaml"
    ) in shown
    bundle = ws.secrets_bundle.read_bytes()

    example_data["spec"]["nodes"] = example_data["spec"]["nodes"][:4]  # worker-2 leaves
    second = generate(parse(example_data), ws)
    assert second.committed and not second.secrets_created
    assert "talos/nodes/worker-2.yaml" in second.changed and "secrets/nodes/worker-2.yaml" in second.changed
    assert not ws.node_config("worker-2").exists() and not (ws.root / "talos/nodes/worker-2.yaml").exists()
    assert ws.secrets_bundle.read_bytes() == bundle


@pytest.mark.usefixtures("git")
@pytest.mark.slow
def test_generate_for_talos_114_needs_a_matching_talosctl(
    tmp_path: Path, example_data: dict, fake_bin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster = parse(small(talos_114(example_data)))
    ws = Workspace.at(tmp_path / "ws")
    with pytest.raises(GenerateError, match=r"talosctl v1\.13\.9 is older than Talos v1\.14\.0-rc\.1"):
        generate(cluster, ws)
    assert not ws.root.exists()

    monkeypatch.setenv(talos_version.VERSION_ENV, "v1.14.0-rc.1")
    result = generate(cluster, ws)
    assert result.committed
    docs = [d for d in yaml.safe_load_all(ws.node_config("worker-1").read_text()) if d]
    kinds = [d.get("kind") for d in docs]
    assert "UnattendedInstallConfig" in kinds and "KubeNetworkConfig" in kinds
    assert "install" not in docs[0]["machine"]
    (install,) = [d for d in docs if d.get("kind") == "UnattendedInstallConfig"]
    # The image from the common patch, the disk from the node's: one document, the image in one place.
    assert install["installer"]["image"].endswith(":v1.14.0-rc.1") and install["provisioning"]["diskSelector"]


@pytest.mark.usefixtures("git")
@pytest.mark.slow
def test_a_failing_talosctl_step_leaves_no_rendered_configs(
    tmp_path: Path, example_data: dict, fake_bin: Path
) -> None:
    # talosctl validate fails after the configs were rendered: nothing rendered may land in secrets/.
    cluster = parse(small(example_data))
    ws = Workspace.at(tmp_path / "ws")
    generate(cluster, ws, patches_only=True)
    before = snapshot(ws.root)
    broken = fake_bin / "talosctl"
    script = broken.read_text()
    broken.write_text(
        script.replace(
            "sys.exit(main(sys.argv[1:]))", "sys.exit(1 if 'validate' in sys.argv else main(sys.argv[1:]))"
        )
    )
    with pytest.raises(GenerateError, match="talosctl validate failed"):
        generate(cluster, ws)
    after = snapshot(ws.root)
    new = {k for k in after if k not in before and not k.startswith(".git/")}
    assert new == {"secrets/secrets.yaml"}  # the bundle is kept (made once); no configs, no staging
    assert not ws.node_configs_dir.exists()


def test_workspace_in_use_fails_cleanly(
    tmp_path: Path, example_data: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    answers = write_answers(tmp_path / "cluster.yaml", example_data)
    argv = ["generate", "--config", str(answers), "--workspace", str(root), "--patches-only"]
    with lock_held_by_child(root / ".skynet.lock") as holder:
        assert main(argv) == 2
    assert f"in use by another skynet (PID {holder.pid}" in capsys.readouterr().err
    assert not (root / "cluster.yaml").exists()


def test_a_lock_file_naming_a_live_pid_nobody_holds_is_taken_over(tmp_path: Path, example_data: dict) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / ".skynet.lock").write_text("1\n")  # PID 1 is alive, but holds no Skynet lock
    answers = write_answers(tmp_path / "cluster.yaml", example_data)
    assert main(["generate", "--config", str(answers), "--workspace", str(root), "--patches-only"]) == 0
    assert (root / "cluster.yaml").exists() and not (root / ".skynet.lock").exists()


@pytest.mark.usefixtures("git")
def test_push_sends_the_commit_to_the_gitops_remote(tmp_path: Path, example_data: dict) -> None:
    import subprocess

    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    example_data["spec"]["gitops"]["repoURL"] = f"file://{remote}"
    ws = Workspace.at(tmp_path / "ws")
    result = generate(parse(example_data), ws, patches_only=True, push=True)
    assert result.committed and result.pushed
    files = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", "main"],
        cwd=remote,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert "talos/nodes/cp-1.yaml" in files and not [f for f in files if f.startswith("secrets/")]
