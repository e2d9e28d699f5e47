"""The lab's simulated talosctl: argv parsing like cobra, errors like talosctl, and the offline commands."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from skynet_lab import cli, fake_talosctl, talos_merge, talos_version
from skynet_lab.cli import CliError, Flag, HelpRequested, Invocation
from skynet_lab.fake_talosctl import TALOSCTL
from tests.talos_helpers import FIXTURES, run_fake

TOKEN = re.compile(r"^[0-9a-z]{6}\.[0-9a-z]{16}$")


def main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = fake_talosctl.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def load(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


# ---------------------------------------------------------------- the flag table and the parser


def test_the_command_table_is_talosctl_1_13_9() -> None:
    data = json.loads(fake_talosctl.TABLE.read_text())
    assert data["source"].startswith("siderolabs/talos v1.13.9 website/content/v1.13/reference/cli.md")
    commands = TALOSCTL.commands
    assert len(commands) == 109 and "gen config" in commands
    assert "nodes" not in TALOSCTL.flags_of(("gen", "config"))
    assert Flag("nodes", "n", "strings") in commands["get"] and Flag("with-docs") in commands["gen config"]


def test_parse_flag_spellings() -> None:
    inv = cli.parse(
        TALOSCTL,
        [
            "-n",
            "10.0.0.1,10.0.0.2",
            "get",
            "disks",
            "--nodes=10.0.0.3",
            "-i",
            "-ojson",
            "-e=10.0.0.9",
            "--",
            "-x",
        ],
    )
    assert inv.command == ("get",)
    assert inv.args == ["disks", "-x"]
    assert inv.nodes == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    assert inv.endpoints == ["10.0.0.9"]
    assert inv.flags["insecure"] is True and inv.get("output") == "json"
    assert inv.get("watch") is None and not inv.has("watch") and inv.get("watch", False) is False


def test_parse_bool_false_string_arrays_and_durations() -> None:
    inv = cli.parse(
        TALOSCTL,
        [
            "gen",
            "config",
            "n",
            "https://e:6443",
            "--with-docs=false",
            "-f",
            "--config-patch",
            "@a,b.yaml",
            "--config-patch=@c.yaml",
            "--additional-sans",
            "x,y",
        ],
    )
    assert inv.get("with-docs") is False and inv.get("force") is True
    assert inv.get("config-patch") == ["@a,b.yaml", "@c.yaml"]  # stringArray: never split on commas
    assert inv.get("additional-sans") == ["x", "y"]
    health = cli.parse(TALOSCTL, ["health", "--wait-timeout", "1h2m3s", "-n", "a"])
    assert health.duration("wait-timeout") == 3723 and health.duration("missing", 5) == 5
    assert isinstance(Invocation("talosctl", ("x",), {}, []).flags, dict)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["get", "disks", "--bogus"], "unknown flag: --bogus"),
        (["get", "disks", "-x"], "unknown shorthand flag: 'x' in -x"),
        (["gen", "config", "-n", "1.2.3.4"], "unknown shorthand flag: 'n' in -n"),  # gen has no node flags
        (["--insecure", "version"], "unknown flag: --insecure"),  # cobra swallows `version` as its value
        (["frobnicate"], 'unknown command "frobnicate" for "talosctl"'),
        (["validate", "-m"], "flag needs an argument: 'm' in -m"),
        (["validate", "--config"], "flag needs an argument: --config"),
        (["kubeconfig", "--merge=maybe"], 'invalid argument "maybe" for "-m, --merge" flag'),
        (
            ["health", "--wait-timeout", "soon"],
            'invalid argument "soon" for "--wait-timeout" flag: time: invalid',
        ),
        (["get", "---x"], "bad flag syntax: ---x"),
    ],
)
def test_parse_errors_word_for_word(argv: list[str], message: str) -> None:
    with pytest.raises(CliError) as caught:
        cli.parse(TALOSCTL, argv)
    assert caught.value.message.startswith(message)


def test_suggestion_for_a_misspelt_command() -> None:
    with pytest.raises(CliError) as caught:
        cli.parse(TALOSCTL, ["verison"])
    assert (
        caught.value.message == 'unknown command "verison" for "talosctl"\n\nDid you mean this?\n\tversion\n'
    )


@pytest.mark.parametrize("argv", [[], ["--help"], ["gen"], ["gen", "nope"], ["get", "-h"], ["etcd"]])
def test_help_and_command_groups(argv: list[str]) -> None:
    with pytest.raises(HelpRequested):
        cli.parse(TALOSCTL, argv)


def test_unknown_flag_prints_error_blank_line_and_usage(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = main(capsys, "get", "disks", "--x")
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert lines[0] == "unknown flag: --x" and lines[1] == "" and lines[2] == "Usage:"
    assert "  talosctl get [flags]" in lines and "  -n, --nodes strings" in lines


def test_unknown_command_as_a_real_process() -> None:
    result = run_fake("frobnicate")
    assert result.returncode == 1
    assert result.stderr.startswith('unknown command "frobnicate" for "talosctl"\n')


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = main(capsys, "gen")
    assert code == 0 and "Available Commands:" in out and "  secrets" in out


def test_arguments_are_checked(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = main(capsys, "gen", "config", "only-name")
    assert code == 1 and err.startswith("accepts 2 arg(s), received 1")
    code, _, err = main(capsys, "validate", "--config", "x.yaml")
    assert code == 1 and err.startswith('required flag(s) "mode" not set')


def test_node_commands_go_to_talos_node(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Invocation] = []

    class Module:
        @staticmethod
        def handle(inv: Invocation) -> int:
            seen.append(inv)
            return 7

    monkeypatch.setitem(sys.modules, "skynet_lab.talos_node", Module)
    code, _, _ = main(capsys, "bootstrap", "-n", "10.0.0.1", "-e", "10.0.0.1", "--talosconfig", "/tc")
    assert code == 7
    assert seen[0].command == ("bootstrap",) and seen[0].nodes == ["10.0.0.1"]
    assert seen[0].get("talosconfig") == "/tc"
    code, _, _ = main(capsys, "version", "--insecure", "-n", "10.0.0.1")  # the server half is node-facing
    assert code == 7 and seen[1].get("insecure") is True


def test_node_commands_load_no_certificate_library() -> None:
    """Every call of the fake is a new process: cryptography (~0.15 s) loads only for a pinned apply-config."""
    code = "import sys, skynet_lab.talos_node; print('cryptography' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr


def test_without_talos_node_node_commands_fail(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "skynet_lab.talos_node", None)  # import raises ModuleNotFoundError
    code, _, err = main(capsys, "get", "disks", "--insecure", "-n", "10.0.0.1")
    assert code == 1 and err == "Error: simulated node commands unavailable\n"


def test_version_client(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(capsys, "version", "--client", "--short") == (0, "Client:\nTalos v1.13.9\n", "")
    code, out, _ = main(capsys, "version", "--client")
    assert code == 0 and "\tTag:         v1.13.9\n" in out
    monkeypatch.setenv(talos_version.VERSION_ENV, "v1.14.0")
    assert main(capsys, "version", "--client", "--short")[1] == "Client:\nTalos v1.14.0\n"


# ---------------------------------------------------------------- gen secrets


def _shape(value: Any) -> Any:
    return {k: _shape(v) for k, v in value.items()} if isinstance(value, dict) else type(value).__name__


def test_gen_secrets_has_the_bundle_structure_with_fresh_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    assert main(capsys, "gen", "secrets", "-o", str(first), "--talos-version", "v1.13")[0] == 0
    assert main(capsys, "gen", "secrets", "--output-file", str(second))[0] == 0
    fixture = yaml.safe_load((FIXTURES / "secrets.yaml").read_text())
    bundle, other = yaml.safe_load(first.read_text()), yaml.safe_load(second.read_text())
    assert _shape(bundle) == _shape(fixture)
    assert first.stat().st_mode & 0o777 == 0o600
    assert TOKEN.match(bundle["secrets"]["bootstraptoken"]) and TOKEN.match(bundle["trustdinfo"]["token"])
    assert len(base64.urlsafe_b64decode(bundle["cluster"]["id"])) == 32
    assert len(base64.b64decode(bundle["secrets"]["secretboxencryptionsecret"])) == 32
    assert bundle["cluster"]["secret"] != other["cluster"]["secret"]
    pem = {name: base64.b64decode(ca["key"]).decode() for name, ca in bundle["certs"].items()}
    assert pem["os"].startswith("-----BEGIN ED25519 PRIVATE KEY-----\n")
    assert all(
        pem[n].startswith("-----BEGIN EC PRIVATE KEY-----\n") for n in ("etcd", "k8s", "k8saggregator")
    )
    der = base64.b64decode("".join(pem["os"].splitlines()[1:-1]))
    assert der[:16] == bytes.fromhex("302e020100300506032b657004220420") and len(der) == 48  # PKCS#8 Ed25519
    assert base64.b64decode(bundle["certs"]["k8s"]["crt"]).decode().startswith("-----BEGIN CERTIFICATE-----")


def test_gen_secrets_never_overwrites_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "secrets.yaml"
    target.write_text("keep me")
    code, _, err = main(capsys, "gen", "secrets", "-o", str(target))
    assert code == 1 and err == f'file "{target}" already exists, use --force to overwrite\n'
    assert target.read_text() == "keep me"
    assert main(capsys, "gen", "secrets", "-o", str(target), "--force")[0] == 0
    assert "trustdinfo" in target.read_text()
    code, out, _ = main(capsys, "gen", "secrets", "-o", "-")
    assert code == 0 and out.startswith("cluster:")


# ---------------------------------------------------------------- gen config


def _gen_fixture_configs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], contract: str, *extra: str, kubernetes: str = "1.28.0"
) -> Path:
    out = tmp_path / "out"
    code, _, err = main(
        capsys,
        "gen",
        "config",
        "base",
        "https://base:6443",
        "--with-secrets",
        str(FIXTURES / "secrets.yaml"),
        "--kubernetes-version",
        kubernetes,
        "--talos-version",
        contract,
        "--install-disk=",
        "--install-image",
        "factory.talos.dev/metal-installer/x:v1",
        "--with-docs=false",
        "--with-examples=false",
        "-t",
        "controlplane,worker",
        "-o",
        str(out),
        *extra,
    )
    assert code == 0, err
    assert err == f"generating PKI and tokens\nCreated {out}/controlplane.yaml\nCreated {out}/worker.yaml\n"
    return out


@pytest.mark.parametrize("kind", ["controlplane", "worker"])
def test_gen_config_v113_matches_talos_stability_fixture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    out = _gen_fixture_configs(tmp_path, capsys, "v1.13")
    docs = load(out / f"{kind}.yaml")
    # The fixture was made without an install image; talosctl always sets the one it is given.
    assert docs[0]["machine"]["install"].pop("image") == "factory.talos.dev/metal-installer/x:v1"
    assert docs == load(FIXTURES / f"{kind}.yaml")


@pytest.mark.parametrize("kind", ["controlplane", "worker"])
def test_gen_config_v114_matches_talos_stability_fixture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setenv(talos_version.VERSION_ENV, "v1.14.0-rc.1")
    out = _gen_fixture_configs(tmp_path, capsys, "v1.14")
    assert load(out / f"{kind}.yaml") == load(FIXTURES / "v1.14.0-rc.1" / f"{kind}.yaml")


def test_gen_config_contract_never_newer_than_the_client(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _gen_fixture_configs(tmp_path, capsys, "v1.14")  # a 1.13 client only knows the 1.13 shape
    assert [d.get("kind") for d in load(out / "worker.yaml")] == [None, "HostnameConfig"]


def test_gen_config_refuses_overwrite_and_bad_endpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _gen_fixture_configs(tmp_path, capsys, "v1.13")
    code, _, err = main(
        capsys, "gen", "config", "base", "https://base:6443", "-o", str(out), "-t", "worker,controlplane"
    )
    assert code == 1 and "already exists, use --force to overwrite" in err
    code, _, err = main(capsys, "gen", "config", "base", "10.0.0.1")
    assert (
        code == 1
        and err == 'no scheme and port specified for the cluster endpoint URL\ntry: "https://10.0.0.1:6443"\n'
    )
    code, _, err = main(
        capsys, "gen", "config", "base", "https://e:6443", "--with-secrets", str(tmp_path / "none")
    )
    assert code == 1 and err.startswith("failed to load secrets bundle: open")


def test_gen_config_applies_patches_with_talos_merge_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = tmp_path / "common.yaml"
    common.write_text(
        "machine:\n  certSANs: [extra.example.com]\n"
        "cluster:\n  network:\n    podSubnets: [10.50.0.0/16]\n    cni: {name: none}\n"
        "---\napiVersion: v1alpha1\nkind: HostnameConfig\n$patch: delete\n"
        "---\napiVersion: v1alpha1\nkind: LinkConfig\nname: eth0\naddresses: [{address: 10.0.0.5/24}]\n"
    )
    cp = tmp_path / "cp.yaml"
    cp.write_text("cluster:\n  apiServer:\n    admissionControl:\n      - name: Extra\n")
    out = _gen_fixture_configs(
        tmp_path, capsys, "v1.13", "--config-patch", f"@{common}", "--config-patch-control-plane", f"@{cp}"
    )
    cpdocs, workerdocs = load(out / "controlplane.yaml"), load(out / "worker.yaml")
    for docs in (cpdocs, workerdocs):
        assert docs[0]["machine"]["certSANs"] == ["extra.example.com"]  # list appended to []
        assert docs[0]["cluster"]["network"]["podSubnets"] == ["10.50.0.0/16"]  # replaced, not appended
        assert docs[0]["cluster"]["network"]["cni"] == {"name": "none"}  # map merged
        assert docs[0]["cluster"]["network"]["dnsDomain"] == "cluster.local"
        assert [d.get("kind") for d in docs] == [None, "LinkConfig"]  # deleted, then appended
    assert [a["name"] for a in cpdocs[0]["cluster"]["apiServer"]["admissionControl"]] == [
        "PodSecurity",
        "Extra",
    ]
    assert "apiServer" not in workerdocs[0]["cluster"]


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ("apiVersion: v1alpha1\nkind: Bogus\n", 'unknown document type "Bogus"'),
        (
            "apiVersion: v1alpha1\nkind: KubeProxyConfig\nimage: x\n",
            'unknown document type "KubeProxyConfig"',
        ),
        (
            "apiVersion: v1alpha1\nkind: LinkConfig\nname: a\n---\napiVersion: v1alpha1\nkind: LinkConfig\nname: a\n",
            "more than once",
        ),
        ("apiVersion: v1alpha1\nkind: LinkConfig\nname: nope\n$patch: delete\n", "no such document"),
        ("machine: [unclosed\n", "failed to decode"),
    ],
)
def test_bad_patches_are_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], patch: str, message: str
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(patch)
    code, _, err = main(
        capsys,
        "gen",
        "config",
        "c",
        "https://e:6443",
        "-o",
        str(tmp_path / "o"),
        "--config-patch",
        f"@{path}",
    )
    assert code == 1 and message in err
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------- machineconfig patch and validate


def test_machineconfig_patch_and_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _gen_fixture_configs(tmp_path, capsys, "v1.13", kubernetes="1.36.3")
    node = tmp_path / "node.yaml"
    node.write_text(
        "machine:\n  install:\n    disk: /dev/nvme0n1\n"
        "---\napiVersion: v1alpha1\nkind: HostnameConfig\nhostname: w-1\nauto: 'off'\n"
    )
    rendered = tmp_path / "nodes" / "w-1.yaml"
    code, stdout, _ = main(
        capsys, "machineconfig", "patch", str(out / "worker.yaml"), "-p", f"@{node}", "-o", str(rendered)
    )
    assert code == 0 and stdout == ""
    docs = load(rendered)
    assert docs[0]["machine"]["install"]["disk"] == "/dev/nvme0n1"
    assert docs[1] == {"apiVersion": "v1alpha1", "kind": "HostnameConfig", "auto": "off", "hostname": "w-1"}
    assert main(capsys, "validate", "-c", str(rendered), "-m", "metal") == (
        0,
        f"{rendered} is valid for metal mode\n",
        "",
    )
    code, stdout, _ = main(capsys, "machineconfig", "patch", str(rendered))  # no -o: stdout
    assert code == 0 and load_text(stdout) == docs


def load_text(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


def test_validate_rejects_what_talos_rejects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _gen_fixture_configs(tmp_path, capsys, "v1.13", kubernetes="1.36.3")
    hostname_only = tmp_path / "h.yaml"
    hostname_only.write_text(
        "apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: w-1\n"
    )  # forgot auto: off
    bad = tmp_path / "bad.yaml"
    assert (
        main(
            capsys,
            "machineconfig",
            "patch",
            str(out / "worker.yaml"),
            "-p",
            f"@{hostname_only}",
            "-o",
            str(bad),
        )[0]
        == 0
    )
    code, _, err = main(capsys, "validate", "--config", str(bad), "--mode", "metal")
    assert code == 1
    assert err == (
        "2 errors occurred:\n\t* either install disk or diskSelector should be defined\n"
        "\t* [networking.os.device.hostname] 'auto' and 'hostname' cannot be set at the same time\n\n"
    )
    code, _, err = main(capsys, "validate", "--config", str(tmp_path / "missing.yaml"), "--mode", "metal")
    assert code == 1 and "no such file or directory" in err


def test_validate_checks_kubernetes_support_and_links() -> None:
    legacy = {
        "version": "v1alpha1",
        "machine": {
            "type": "worker",
            "token": "t",
            "ca": {"crt": "c"},
            "install": {"disk": "/dev/sda"},
            "kubelet": {"image": "ghcr.io/siderolabs/kubelet:v1.30.0"},
        },
        "cluster": {"controlPlane": {"endpoint": "https://e:6443"}},
    }
    link = {
        "apiVersion": "v1alpha1",
        "kind": "LinkConfig",
        "name": "eth0",
        "addresses": [{"address": "10.0.0.5"}],
    }
    vip = {"apiVersion": "v1alpha1", "kind": "Layer2VIPConfig", "name": "vip"}
    errors = talos_merge.validate([legacy, link, vip], "metal", 13)
    assert "kubernetes version 1.30.0 is not supported by Talos 1.13" in errors
    assert any("invalid address" in e for e in errors) and any("must be an IP" in e for e in errors)
    assert any("link must be specified" in e for e in errors)
    assert talos_merge.validate([legacy], "bare", 13) == ['unknown mode: "bare"']


def test_merge_rules_unit() -> None:
    base = [
        {"version": "v1alpha1", "machine": {"nodeLabels": {"a": "1", "b": "2"}, "certSANs": ["x"]}},
        {"apiVersion": "v1alpha1", "kind": "LinkConfig", "name": "eth0", "mtu": 1500},
    ]
    patch = [
        {"machine": {"nodeLabels": {"a": {"$patch": "delete"}}, "certSANs": ["y"]}},
        {"apiVersion": "v1alpha1", "kind": "LinkConfig", "name": "eth0", "mtu": 9000},
        {"apiVersion": "v1alpha1", "kind": "LinkConfig", "name": "eth1", "mtu": 1400},
    ]
    merged = talos_merge.apply_patches(base, [patch])
    assert merged[0]["machine"] == {"nodeLabels": {"b": "2"}, "certSANs": ["x", "y"]}
    assert [(d.get("name"), d.get("mtu")) for d in merged[1:]] == [("eth0", 9000), ("eth1", 1400)]
    assert base[0]["machine"]["certSANs"] == ["x"]  # inputs untouched
    with pytest.raises(talos_merge.ConfigError, match="cannot be deleted"):
        talos_merge.apply_patches(base, [[{"machine": {}, "$patch": "delete"}]])
