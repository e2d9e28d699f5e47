"""talosctl argv builders (every one parses against talosctl 1.13.9's real flags), the commands `skynet plan
--commands` prints (each talosctl, kubectl and helm line parses against its tool's table), and output parsers."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from skynet_lab import cli
from skynet_lab.fake_helm import HELM
from skynet_lab.fake_kubectl import KUBECTL
from skynet_lab.fake_talosctl import TALOSCTL
from skynet_tui import spec
from skynet_tui.launcher import command_line
from skynet_tui.plan.install import install_plan
from skynet_tui.talos import commands as c
from skynet_tui.talos import parse
from skynet_tui.workspace import Workspace

TC = Path("/ws/secrets/talosconfig")
IMAGE = "factory.talos.dev/metal-installer/" + "a" * 64 + ":v1.13.9"
FINGERPRINT = "j8iNuGT6IsHyWS0K8D5r5KJXy+ba0Tt3ZnsdDGgb/ec="
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "cluster.yaml"

ALL_BUILDERS = {
    "gen secrets": c.gen_secrets("/ws/secrets/secrets.yaml", "v1.13.9"),
    "gen config": c.gen_config(
        "homelab",
        "https://192.168.10.10:6443",
        secrets="/s.yaml",
        talos_version="v1.13.9",
        kubernetes_version="1.36.3",
        install_image=IMAGE,
        output="/out",
        patches=["/t/common.yaml"],
        controlplane_patches=["/t/controlplane.yaml"],
        worker_patches=["/t/worker.yaml"],
    ),
    "gen config talosconfig": c.gen_config(
        "homelab",
        "https://k8s.example.com:6443",
        secrets="/s.yaml",
        talos_version="v1.14.0-rc.1",
        kubernetes_version="v1.37.0-rc.0",
        install_image=IMAGE,
        output="/tc",
        output_types=("talosconfig",),
    ),
    "machineconfig patch": c.machineconfig_patch(
        "/g/controlplane.yaml", ["/t/nodes/cp-1.yaml"], "/n/cp-1.yaml"
    ),
    "validate": c.validate("/n/cp-1.yaml"),
    "validate strict": c.validate("/n/cp-1.yaml", strict=True),
    "version client": c.version_client(),
    "version insecure": c.version_insecure("192.168.10.11"),
    "get insecure": c.get("disks", "192.168.10.11", insecure=True),
    "get secure": c.get("machinestatus", "192.168.10.11", talosconfig=TC),
    "get members": c.get("members", "192.168.10.11", talosconfig=TC, endpoint="192.168.10.12"),
    "apply insecure": c.apply_config("192.168.10.11", "/n/cp-1.yaml"),
    "apply pinned": c.apply_config(
        "192.168.10.11", "/n/cp-1.yaml", cert_fingerprint="j8iNuGT6IsHyWS0K8D5r5KJXy+ba0Tt3ZnsdDGgb/ec="
    ),
    "get extensions": c.get("extensions", "192.168.10.11", insecure=True),
    "get links": c.get("links", "192.168.10.11", insecure=True),
    "apply secure": c.apply_config(
        "192.168.10.11", "/n/cp-1.yaml", insecure=False, talosconfig=TC, dry_run=True
    ),
    "bootstrap": c.bootstrap("192.168.10.11", TC, endpoint=["192.168.10.11", "192.168.10.12"]),
    "health": c.health(
        "192.168.10.11",
        TC,
        control_planes=["192.168.10.11", "192.168.10.12"],
        workers=["192.168.10.21"],
        endpoint=["192.168.10.11", "192.168.10.12"],
    ),
    "health no workers": c.health("192.168.10.11", TC, control_planes=["192.168.10.11"], wait_timeout=90),
    "kubeconfig": c.kubeconfig("/ws/secrets/kubeconfig", "192.168.10.11", TC),
    "etcd status": c.etcd_status(["192.168.10.11", "192.168.10.12"], TC),
    "etcd members": c.etcd_members("192.168.10.11", TC),
    "config endpoint": c.config_endpoint(TC, ["192.168.10.11", "192.168.10.12"]),
    "config node": c.config_node(TC, ["192.168.10.11"]),
    "upgrade": c.upgrade("192.168.10.11", IMAGE, TC),
    "upgrade-k8s": c.upgrade_k8s("192.168.10.11", "v1.36.4", TC, dry_run=True),
    "etcd snapshot": c.etcd_snapshot("192.168.10.11", "/ws/backups/etcd.snapshot", TC),
    "get versions": c.get("versions", "192.168.10.11", talosconfig=TC),
}


@pytest.mark.parametrize("name", sorted(ALL_BUILDERS))
def test_every_argv_uses_only_real_talosctl_commands_and_flags(name: str) -> None:
    argv = ALL_BUILDERS[name]
    assert argv[0] == "talosctl"
    assert all(isinstance(a, str) for a in argv)
    inv = cli.parse(TALOSCTL, argv[1:])  # raises CliError on any flag talosctl 1.13.9 does not have
    assert argv[1 : 1 + len(inv.command)] == list(inv.command)  # the command words come first
    assert not TALOSCTL.is_group(inv.command)


def test_gen_secrets_pins_the_contract() -> None:
    inv = cli.parse(TALOSCTL, c.gen_secrets("/x/secrets.yaml", "v1.13.9")[1:])
    assert inv.flags == {"output-file": "/x/secrets.yaml", "talos-version": "v1.13"}


def test_gen_config_always_passes_the_version_contract_and_install_image() -> None:
    inv = cli.parse(TALOSCTL, ALL_BUILDERS["gen config"][1:])
    assert inv.args == ["homelab", "https://192.168.10.10:6443"]
    assert inv.get("with-secrets") == "/s.yaml"
    assert inv.get("talos-version") == "v1.13"
    assert inv.get("kubernetes-version") == "1.36.3"
    assert inv.get("install-image") == IMAGE
    assert inv.get("install-disk") == ""  # each node's own patch names its disk
    assert inv.get("with-docs") is False and inv.get("with-examples") is False
    assert inv.get("output-types") == ["controlplane", "worker"]
    assert inv.get("force") is True
    assert inv.get("config-patch") == ["@/t/common.yaml"]
    assert inv.get("config-patch-control-plane") == ["@/t/controlplane.yaml"]
    assert inv.get("config-patch-worker") == ["@/t/worker.yaml"]
    talosconfig = cli.parse(TALOSCTL, ALL_BUILDERS["gen config talosconfig"][1:])
    assert (
        talosconfig.get("kubernetes-version") == "1.37.0-rc.0" and talosconfig.get("talos-version") == "v1.14"
    )
    assert talosconfig.get("output-types") == ["talosconfig"] and not talosconfig.has("config-patch")


def test_gen_config_rejects_an_endpoint_without_scheme() -> None:
    with pytest.raises(ValueError, match="https://"):
        c.gen_config(
            "x",
            "192.168.10.10:6443",
            secrets="s",
            talos_version="v1.13.9",
            kubernetes_version="1.36.3",
            install_image=IMAGE,
            output="o",
        )


def test_node_facing_commands_name_the_node_and_talosconfig() -> None:
    inv = cli.parse(TALOSCTL, ALL_BUILDERS["health"][1:])
    assert inv.nodes == ["192.168.10.11"] and inv.endpoints == ["192.168.10.11", "192.168.10.12"]
    # Without endpoints given, the talosconfig's (the control planes') apply: a node is never its own.
    assert not cli.parse(TALOSCTL, ALL_BUILDERS["kubeconfig"][1:]).has("endpoints")
    pinned = cli.parse(TALOSCTL, ALL_BUILDERS["apply pinned"][1:])
    assert pinned.strings("cert-fingerprint") == ["j8iNuGT6IsHyWS0K8D5r5KJXy+ba0Tt3ZnsdDGgb/ec="]
    assert inv.get("talosconfig") == str(TC)
    assert inv.get("control-plane-nodes") == ["192.168.10.11", "192.168.10.12"]
    assert inv.get("worker-nodes") == ["192.168.10.21"]
    assert inv.duration("wait-timeout") == 1200
    assert not cli.parse(TALOSCTL, ALL_BUILDERS["health no workers"][1:]).has("worker-nodes")

    kube = cli.parse(TALOSCTL, ALL_BUILDERS["kubeconfig"][1:])
    assert (
        kube.args == ["/ws/secrets/kubeconfig"] and kube.get("merge") is False and kube.get("force") is True
    )

    insecure = cli.parse(TALOSCTL, ALL_BUILDERS["get insecure"][1:])
    assert insecure.args == ["disks"] and insecure.get("insecure") is True and not insecure.has("talosconfig")
    assert insecure.get("output") == "json"

    members = cli.parse(TALOSCTL, ALL_BUILDERS["get members"][1:])
    assert members.endpoints == ["192.168.10.12"] and members.nodes == ["192.168.10.11"]

    etcd = cli.parse(TALOSCTL, ALL_BUILDERS["etcd status"][1:])
    assert etcd.command == ("etcd", "status") and etcd.nodes == ["192.168.10.11", "192.168.10.12"]

    k8s = cli.parse(TALOSCTL, ALL_BUILDERS["upgrade-k8s"][1:])
    assert k8s.get("to") == "1.36.4" and k8s.get("dry-run") is True


@pytest.mark.parametrize(
    "call",
    [
        lambda: c.get("secrets", "10.0.0.1", talosconfig=TC),  # not a resource Skynet reads
        lambda: c.get("members", "10.0.0.1", insecure=True),  # not readable in maintenance mode
        lambda: c.get("disks", "10.0.0.1"),  # installed node without a talosconfig
        lambda: c.get("disks", "10.0.0.1", insecure=True, talosconfig=TC),
        lambda: c.apply_config("10.0.0.1", "f", insecure=False),
        lambda: c.apply_config("10.0.0.1", "f", insecure=False, talosconfig=TC, cert_fingerprint="x"),
        lambda: c.bootstrap("10.0.0.1", TC, endpoint=[]),
        lambda: c.health("10.0.0.1", TC, control_planes=[]),
        lambda: c.gen_secrets("s", "latest"),
        lambda: c.duration(-1),
    ],
)
def test_builders_refuse_calls_that_cannot_work(call) -> None:
    with pytest.raises(ValueError):
        call()


def test_duration_values() -> None:
    assert [c.duration(s) for s in (0, 45, 90, 1200, 5400)] == ["0s", "45s", "1m30s", "20m0s", "1h30m0s"]
    assert [cli.parse_duration(c.duration(s)) for s in (45, 1200, 5400)] == [45, 1200, 5400]


# ---------------------------------------------------------------- parsers


def test_json_stream_reads_concatenated_objects() -> None:
    text = (
        '{\n    "node": "10.0.0.1",\n    "metadata": {"id": "sda"},\n    "spec": {"size": 1}\n}\n'
        '{\n    "node": "10.0.0.1",\n    "metadata": {"id": "sdb"},\n    "spec": {"dev_path": "/dev/sdb"}\n}\n'
    )
    items = parse.json_stream(text)
    assert [i["metadata"]["id"] for i in items] == ["sda", "sdb"]
    assert parse.json_stream("  \n") == []
    with pytest.raises(ValueError, match="not JSON"):
        parse.json_stream('{"a": 1}\nerror: connection refused\n')
    with pytest.raises(ValueError, match="not an object"):
        parse.json_stream("[1, 2]")


def test_client_version() -> None:
    assert parse.client_version("Client:\nTalos v1.13.9\n") == "v1.13.9"
    long = "Client:\n\tTag:         v1.14.0-rc.1\n\tSHA:         abc\nServer:\n\tNODE: 10.0.0.1\n\tTag: v1.12.0\n"
    assert parse.client_version(long) == "v1.14.0-rc.1"
    assert parse.client_version("Server:\n\tTag: v1.13.9\n") is None
    assert parse.client_version("") is None


def test_server_versions() -> None:
    text = (
        "Client:\n\tTag:         v1.13.9\nServer:\n\tNODE:        10.0.0.1\n\tTag:         v1.13.9\n"
        "\tSHA:         3ebd10a7\nServer:\n\tNODE:        10.0.0.2\n\tTag:         v1.12.6\n"
    )
    assert parse.server_versions(text) == {"10.0.0.1": "v1.13.9", "10.0.0.2": "v1.12.6"}


@pytest.mark.parametrize(
    ("line", "check", "state", "ok", "waiting", "failed"),
    [
        ("waiting for etcd to be healthy: ...", "etcd to be healthy", "...", False, True, False),
        ("waiting for etcd to be healthy: OK", "etcd to be healthy", "OK", True, False, False),
        ("waiting for coredns to report ready: SKIP", "coredns to report ready", "SKIP", True, False, False),
        (
            "waiting for all k8s nodes to report ready: some nodes are not ready: [cp-2]",
            "all k8s nodes to report ready",
            "some nodes are not ready: [cp-2]",
            False,
            False,
            True,
        ),
    ],
)
def test_health_lines(line: str, check: str, state: str, ok: bool, waiting: bool, failed: bool) -> None:
    parsed = parse.health_line(line)
    assert parsed is not None
    assert (parsed.check, parsed.state, parsed.ok, parsed.waiting, parsed.failed) == (
        check,
        state,
        ok,
        waiting,
        failed,
    )


def test_health_discovered_nodes_and_other_lines() -> None:
    parsed = parse.health_line('discovered nodes: ["192.168.10.11" "192.168.10.21"]')
    assert parsed is not None and parsed.nodes == ("192.168.10.11", "192.168.10.21") and parsed.check == ""
    assert parse.health_line("healthcheck error: rpc error") is None


def test_text_table() -> None:
    text = (
        "NODE            MEMBER             DB SIZE   IN USE            LEADER             ERRORS\n"
        "192.168.10.11   8e2a4b7c1d9f3e5a   20 MB     10 MB (50.00%)    8e2a4b7c1d9f3e5a   \n"
        "192.168.10.12   1f3e5a8e2a4b7c1d   20 MB     9.8 MB (49.00%)   8e2a4b7c1d9f3e5a   \n"
    )
    rows = parse.table(text)
    assert [r["NODE"] for r in rows] == ["192.168.10.11", "192.168.10.12"]
    assert rows[0]["DB SIZE"] == "20 MB" and rows[1]["IN USE"] == "9.8 MB (49.00%)"
    assert rows[0]["ERRORS"] == "" and rows[1]["LEADER"] == "8e2a4b7c1d9f3e5a"
    assert parse.table("") == []


# ---------------------------------------------------------------- skynet plan --commands


def _plan_commands(config: Path, ws: Path) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "skynet_tui", "plan", "--commands", "--config", str(config), "--workspace", str(ws)],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert not ws.exists()  # nothing is run, nothing is written
    return [line.strip() for line in result.stdout.splitlines()]


@pytest.mark.parametrize("answers", ["example", "v1.14 release candidate, pinned, on leases"])
def test_plan_commands_prints_every_command_and_each_is_real(tmp_path: Path, answers: str) -> None:
    data = yaml.safe_load(EXAMPLE.read_text())
    if answers != "example":
        data["spec"]["talos"]["version"] = "v1.14.0-rc.1"
        data["spec"]["kubernetes"]["version"] = "1.37.0-rc.0"
        for i, node in enumerate(data["spec"]["nodes"]):
            node |= {"maintenanceAddress": f"192.168.10.{150 + i}", "certFingerprint": FINGERPRINT}
    config = tmp_path / "cluster.yaml"
    config.write_text(yaml.safe_dump(data))
    lines = _plan_commands(config, tmp_path / "ws")
    commands = [shlex.split(line[2:]) for line in lines if line.startswith("$ ")]
    assert {argv[0] for argv in commands} == {"talosctl", "kubectl", "helm", "git"}
    tables = {"talosctl": TALOSCTL, "kubectl": KUBECTL, "helm": HELM}
    for argv in commands:
        if argv[0] in tables:
            inv = cli.parse(tables[argv[0]], argv[1:])  # only commands and flags the real tool has
            assert not tables[argv[0]].is_group(inv.command), argv
    assert not any(arg.startswith(str(tmp_path)) for argv in commands for arg in argv)  # relative paths

    # Every step, in the plan's order, with every argv it runs: the commands of a run, in order.
    cluster = spec.parse(data)
    ws = Workspace.at(tmp_path / "ws")
    plan = install_plan(cluster, ws)
    expected = [
        command_line(item, ws.root)
        for step in plan.order()
        for item in step.planned_commands()
        if not isinstance(item, str)
    ]
    assert [line for line in lines if line.startswith("$ ")] == expected
    assert all(step.planned_commands() for step in plan.steps)  # no step without its commands
    for node in cluster.spec.nodes:
        applied = c.apply_config(node.maintenance_ip, ws.node_config(node.hostname),
                                 cert_fingerprint=node.cert_fingerprint)  # fmt: skip
        assert command_line(applied, ws.root) in lines
        assert command_line(c.get("links", node.maintenance_ip, insecure=True), ws.root) in lines
    assert (
        "$ talosctl config endpoint 192.168.10.11 192.168.10.12 192.168.10.13 --talosconfig secrets/talosconfig"
        in lines
    )
    assert not [argv for argv in commands if argv[:3] == ["talosctl", "config", "node"]]  # no default nodes
    validate = [argv for argv in commands if argv[:2] == ["talosctl", "validate"]]
    assert len(validate) == len(cluster.spec.nodes) and all(argv[-3:] == ["--mode", "metal", "--strict"]
                                                            for argv in validate)  # fmt: skip
