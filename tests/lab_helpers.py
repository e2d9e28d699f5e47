"""Test helpers for the simulated lab: quick labs, the fake talosctl, minimal machine configs, a finished install."""

from __future__ import annotations

import base64
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from skynet_lab import state, talos_pki
from skynet_lab.core import DEFAULT_LATENCY, Lab
from tests.tools import GIT_WHY, require

# Every operation and transition of the lab takes (almost) no time in tests.
FAST_LATENCY = {name: 0.0 for name in DEFAULT_LATENCY}

# The tests' OS CA (base64 PEM, as machine configs and talosconfigs carry it): the lab's nodes verify client
# certificates against it, so write_talosconfig issues real ones it signed.
_TEST_CA_CRT, _TEST_CA_KEY = talos_pki.new_os_ca()
TEST_CA = base64.b64encode(_TEST_CA_CRT.encode()).decode()


def make_lab(tmp_path: Path, cps: int = 3, workers: int = 2, **kw: Any) -> Lab:
    """A started lab under tmp_path/lab with near-zero latencies (`latency=` entries override them).

    Stop it yourself (`with make_lab(...) as lab:` does), or use the `lab_factory` fixture.
    """
    require("git", GIT_WHY)
    latency = {**FAST_LATENCY, **(kw.pop("latency", None) or {})}
    root = kw.pop("root", None) or tmp_path / "lab"
    return Lab(root, cps, workers, latency=latency, **kw).start()


@pytest.fixture(name="lab_factory")
def lab_factory_fixture(tmp_path: Path) -> Iterator[Callable[..., Lab]]:
    """Fixture `lab_factory(cps=3, workers=2, **kw)` → a started quick lab, stopped after the test.

    Use it with `from tests.lab_helpers import lab_factory_fixture  # noqa: F401`.
    """
    labs: list[Lab] = []

    def factory(cps: int = 3, workers: int = 2, **kw: Any) -> Lab:
        kw.setdefault("root", tmp_path / f"lab{len(labs)}")
        lab = make_lab(tmp_path, cps, workers, **kw)
        labs.append(lab)
        return lab

    yield factory
    for lab in labs:
        lab.stop()


def talosctl(
    lab: Lab, *args: str, timeout: float = 60, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """Run the lab's fake talosctl as the installer would (its env: fakes first on PATH, SKYNET_LAB_DIR)."""
    return subprocess.run(
        ["talosctl", *map(str, args)], env=lab.env(), capture_output=True, text=True, timeout=timeout, cwd=cwd
    )


def machine_config(
    role: str,
    *,
    hostname: str | None = None,
    disk: str | dict | None = "/dev/sda",
    ca: str = TEST_CA,
    cluster: str = "lab",
    endpoint: str = "https://127.0.0.10:6443",
    cni: str = "flannel",
) -> str:
    """A minimal Talos 1.13 machine config (v1alpha1 + HostnameConfig) the lab accepts; no real secrets."""
    install: dict[str, Any] = {"wipe": False, "image": "factory.talos.dev/metal-installer/lab:v1.13.9"}
    if isinstance(disk, dict):
        install["diskSelector"] = disk
    elif disk:
        install["disk"] = disk
    docs: list[dict[str, Any]] = [
        {
            "version": "v1alpha1",
            "debug": False,
            "persist": True,
            "machine": {
                "type": role,
                "token": "abcdef.0123456789abcdef",
                "ca": {"crt": ca, "key": ""},
                "kubelet": {"image": "ghcr.io/siderolabs/kubelet:v1.36.3"},
                "install": install,
            },
            "cluster": {
                "clusterName": cluster,
                "controlPlane": {"endpoint": endpoint},
                "network": {"cni": {"name": cni}},
            },
        }
    ]
    if hostname:
        docs.append({"apiVersion": "v1alpha1", "kind": "HostnameConfig", "hostname": hostname, "auto": "off"})
    return yaml.safe_dump_all(docs, sort_keys=False)


def write_talosconfig(
    path: Path,
    endpoints: list[str],
    *,
    ca: str = TEST_CA,
    nodes: list[str] | None = None,
    roles: tuple[str, ...] = ("os:admin",),
) -> Path:
    """A talosconfig whose CA matches `machine_config`'s (context "lab"), its client certificate signed by the
    tests' OS CA with `roles`."""
    crt, key = talos_pki.client_certificate(_TEST_CA_CRT, _TEST_CA_KEY, list(roles))
    context: dict[str, Any] = {
        "endpoints": endpoints,
        "ca": ca,
        "crt": base64.b64encode(crt.encode()).decode(),
        "key": base64.b64encode(key.encode()).decode(),
    }
    if nodes:
        context["nodes"] = nodes
    path.write_text(yaml.safe_dump({"context": "lab", "contexts": {"lab": context}}, sort_keys=False))
    path.chmod(0o600)
    return path


def node_disk(lab: Lab, ip: str) -> str:
    """The install disk cluster_data() chose for a node (a path)."""
    from skynet_lab import hardware

    stored = next(n for n in state.load_stored_nodes(lab.root) if n["ip"] == ip)
    return hardware.install_candidate(stored["hardware"])["dev_path"]


def apply_all(lab: Lab, folder: Path) -> Path:
    """apply-config every node through the fake talosctl (as the plan does); returns the talosconfig path."""
    for ip, hostname, role in _planned(lab):
        config = folder / f"{hostname}.yaml"
        endpoint = f"https://{lab.address(10)}:6443"
        config.write_text(machine_config(role, hostname=hostname, disk=node_disk(lab, ip), endpoint=endpoint))
        result = talosctl(lab, "apply-config", "--insecure", "--nodes", ip, "--file", config)
        assert result.returncode == 0, result.stderr
    return write_talosconfig(folder / "talosconfig", lab.control_plane_ips)


def install_state(lab: Lab, *, bootstrapped: bool = True, at: float | None = None) -> None:
    """Write a finished install straight into the lab state (no processes): every node applied at `at`,
    etcd bootstrapped on the first control plane. With FAST_LATENCY every node is then running and Ready.
    """
    at = time.time() if at is None else at
    for ip, hostname, role in _planned(lab):
        summary = {
            "sha256": "",
            "machine_type": role,
            "hostname": hostname,
            "install_dev": node_disk(lab, ip),
            "install_image": "factory.talos.dev/metal-installer/lab:v1.13.9",
            "cluster_name": "lab",
            "endpoint": f"https://{lab.address(10)}:6443",
            "kubernetes": "1.36.3",
            "cni": "flannel",
            "links": [],
            "vips": [],
            "ca": TEST_CA,
        }
        state.update_node(
            lab.root,
            ip,
            lambda n, s=summary, r=role: n.update(
                applied_at=at, config=s, role=r, versions={**n["versions"], "kubernetes": "1.36.3"}
            ),
        )
    if bootstrapped:
        first = lab.control_plane_ips[0]
        state.update_lab(lab.root, lambda data: data.update(bootstrap={"node": first, "at": at}))
        state.update_node(lab.root, first, lambda n: n.update(etcd_bootstrapped=True))


def _planned(lab: Lab) -> list[tuple[str, str, str]]:
    return [(n["ip"], n["hostname"], n["role"]) for n in state.load_lab(lab.root)["nodes"]]
