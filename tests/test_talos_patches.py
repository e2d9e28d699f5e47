"""Talos patch documents: every one valid against the Talos schema (v1.13 and v1.14), and what each says."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from skynet_tui.talos import patches
from skynet_tui.talos.images import installer_image, kubernetes_image
from tests.gitops_helpers import BACKUP
from tests.talos_helpers import parse, schema_errors, talos_114


def _variants(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Answers covering every branch of the patch builders."""
    out: dict[str, dict[str, Any]] = {"example": copy.deepcopy(data)}
    d = copy.deepcopy(data)
    d["spec"]["kubernetes"]["cni"] = "none"
    d["spec"]["components"] = {"monitoring": False}
    out["cni-none-no-monitoring"] = d
    d = copy.deepcopy(data)
    d["spec"]["controlPlane"] = {"endpoint": "k8s.example.com", "vip": False}
    out["dns-endpoint"] = d
    d = copy.deepcopy(data)
    d["spec"]["nodes"] = [
        {
            "hostname": "solo",
            "ip": "192.168.10.11",
            "role": "controlplane",
            "installDisk": {"wwid": "eui.0025"},
            "mac": "AA:BB:CC:DD:EE:FF",
        }
    ]
    out["single-node-wwid-mac"] = d
    d = copy.deepcopy(data)
    d["spec"]["components"] = {"metrics": False, "logging": False}
    d["spec"]["registries"] = {"mirrors": MIRRORS}
    out["mirrors-no-metrics-no-logging"] = d
    d = copy.deepcopy(data)
    d["spec"]["backup"] = copy.deepcopy(BACKUP)
    out["scheduled-backup"] = d
    return out


MIRRORS = {
    "docker.io": ["https://mirror.example.com", "http://10.5.0.1:5000/v2/docker.io"],
    "registry.local:5000": ["http://10.5.0.1:5001"],
    "*": ["https://harbor.example.com"],
}
CASES = [
    "example",
    "cni-none-no-monitoring",
    "dns-endpoint",
    "single-node-wwid-mac",
    "mirrors-no-metrics-no-logging",
    "scheduled-backup",
]


def _documents(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    files = patches.build(parse(data)).files()
    return [(path, doc) for path, text in files.items() for doc in yaml.safe_load_all(text)]


@pytest.mark.parametrize("case", CASES)
def test_every_patch_document_validates_against_the_v113_schema(example_data: dict, case: str) -> None:
    docs = _documents(_variants(example_data)[case])
    assert docs
    problems = {f"{path} {doc.get('kind', 'v1alpha1')}": schema_errors(doc, "1.13") for path, doc in docs}
    assert {k: v for k, v in problems.items() if v} == {}


@pytest.mark.parametrize("case", CASES)
def test_every_patch_document_validates_against_the_v114_schema(example_data: dict, case: str) -> None:
    data = _variants(example_data)[case]
    if case == "single-node-wwid-mac":  # Talos v1.14 needs a worker (a spec rule); the wwid/mac node stays
        data["spec"]["nodes"].append(
            {"hostname": "w-1", "ip": "192.168.10.21", "role": "worker", "interface": "eno1"}
        )
    docs = _documents(talos_114(data))
    problems = {f"{path} {doc.get('kind', 'v1alpha1')}": schema_errors(doc, "1.14") for path, doc in docs}
    assert {k: v for k, v in problems.items() if v} == {}


def test_v113_patches_fail_the_v114_schema_so_the_split_is_needed(example_data: dict) -> None:
    # Guards the premise of the 1.14 branch: the legacy keys Skynet uses on 1.13 are gone from 1.14.
    docs = _documents(example_data)
    assert any(schema_errors(doc, "1.14") for _, doc in docs)


def test_the_schema_check_catches_a_bad_document() -> None:
    bad = {
        "apiVersion": "v1alpha1",
        "kind": "LinkConfig",
        "name": "eth0",
        "addresses": [{"address": "10.0.0.1"}],
    }
    assert schema_errors(bad, "1.13")
    assert schema_errors({"apiVersion": "v1alpha1", "kind": "HostnameConfig", "auto": False}, "1.13")
    logging = {
        "machine": {"logging": {"destinations": [{"endpoint": "http://x:1/", "format": "json_lines"}]}}
    }
    assert schema_errors(logging, "1.13") == [
        "machine/logging/destinations/0/endpoint: 'http://x:1/' is not tcp://host:port/ or udp://"
    ]
    logging["machine"]["logging"]["destinations"][0] |= {"endpoint": "udp://x:1/", "format": "json"}
    assert schema_errors(logging, "1.14")  # the rest of the destination still goes to the schema


def _by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d.get("kind") == kind]


def _legacy(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (legacy,) = [d for d in docs if "kind" not in d]
    return legacy


def test_files_are_written_per_role_and_node(example_data: dict) -> None:
    files = patches.build(parse(example_data)).files()
    assert set(files) == {
        "talos/common.yaml",
        "talos/controlplane.yaml",
        *(f"talos/nodes/{n['hostname']}.yaml" for n in example_data["spec"]["nodes"]),
    }  # no worker-specific settings today, so no talos/worker.yaml
    for text in files.values():
        assert text.startswith("# Written by Skynet")
        assert "auto: off" not in text  # YAML 1.1 readers would turn a bare off into false


def test_common_patch_v113(example_data: dict) -> None:
    docs = patches.common(parse(example_data))
    legacy = _legacy(docs)
    assert legacy["cluster"]["controlPlane"]["endpoint"] == "https://192.168.10.10:6443"
    assert legacy["cluster"]["network"] == {
        "podSubnets": ["10.244.0.0/16"],
        "serviceSubnets": ["10.96.0.0/12"],
        "cni": {"name": "flannel", "flannel": {"kubeNetworkPoliciesEnabled": True}},
    }
    assert legacy["machine"]["kubelet"]["nodeIP"]["validSubnets"] == ["192.168.10.0/24"]
    (volume,) = _by_kind(docs, "UserVolumeConfig")
    assert volume["name"] == "local-path-provisioner"
    assert _by_kind(docs, "ResolverConfig")[0]["nameservers"] == [
        {"address": "1.1.1.1"},
        {"address": "9.9.9.9"},
    ]
    assert _by_kind(docs, "TimeSyncConfig")[0]["ntp"] == {"servers": ["time.cloudflare.com"]}


def test_platform_components_shape_the_patches(example_data: dict) -> None:
    example_data["spec"]["components"] = {"policies": False, "storage": False}
    docs = patches.common(parse(example_data))
    assert "cni" not in _legacy(docs)["cluster"]["network"], "no NetworkPolicy enforcement without policies"
    assert _by_kind(docs, "UserVolumeConfig") == [], "no local-path volume without storage"
    example_data["spec"]["components"] = {"policies": True}
    cp = patches.controlplane(parse(talos_114(example_data)))
    assert _by_kind(cp, "KubeFlannelCNIConfig") == [
        {"apiVersion": "v1alpha1", "kind": "KubeFlannelCNIConfig", "kubeNetworkPoliciesEnabled": True}
    ]


def test_cni_none_v113_and_v114(example_data: dict) -> None:
    example_data["spec"]["kubernetes"]["cni"] = "none"
    assert _legacy(patches.common(parse(example_data)))["cluster"]["network"]["cni"] == {"name": "none"}
    cp = patches.controlplane(parse(talos_114(example_data)))
    assert _by_kind(cp, "KubeFlannelCNIConfig") == [
        {"apiVersion": "v1alpha1", "kind": "KubeFlannelCNIConfig", "$patch": "delete"}
    ]
    # Workers have no Flannel document to delete; a delete there would fail the patch.
    assert not _by_kind(patches.common(parse(talos_114(example_data))), "KubeFlannelCNIConfig")


def test_controlplane_patch_exposes_metrics_for_monitoring(example_data: dict) -> None:
    cluster = _legacy(patches.controlplane(parse(example_data)))["cluster"]
    assert cluster["controllerManager"]["extraArgs"] == {"bind-address": "0.0.0.0"}
    assert cluster["scheduler"]["extraArgs"] == {"bind-address": "0.0.0.0"}
    assert cluster["etcd"]["extraArgs"] == {"listen-metrics-urls": "http://0.0.0.0:2381"}
    assert cluster["etcd"]["advertisedSubnets"] == ["192.168.10.0/24"]
    assert cluster["proxy"]["extraArgs"] == {"metrics-bind-address": "0.0.0.0:10249"}
    assert "allowSchedulingOnControlPlanes" not in cluster  # there are workers

    example_data["spec"]["components"] = {"monitoring": False}
    quiet = _legacy(patches.controlplane(parse(example_data)))["cluster"]
    assert set(quiet) == {"etcd"} and "extraArgs" not in quiet["etcd"]


def test_controlplane_patch_v114_uses_kube_documents_with_images(example_data: dict) -> None:
    docs = patches.controlplane(parse(talos_114(example_data)))
    (cm,) = _by_kind(docs, "KubeControllerManagerConfig")
    assert cm["image"] == "registry.k8s.io/kube-controller-manager:v1.37.0-rc.0"
    assert cm["extraArgs"] == {"bind-address": "0.0.0.0"}
    assert _by_kind(docs, "KubeProxyConfig")[0]["extraArgs"] == {"metrics-bind-address": "0.0.0.0:10249"}
    assert set(_legacy(docs)["cluster"]) == {"etcd"}


def test_no_workers_lets_control_planes_run_workloads(example_data: dict) -> None:
    example_data["spec"]["nodes"] = example_data["spec"]["nodes"][:3]
    assert (
        _legacy(patches.controlplane(parse(example_data)))["cluster"]["allowSchedulingOnControlPlanes"]
        is True
    )


def test_node_documents_v113(example_data: dict) -> None:
    cluster = parse(example_data)
    cp1 = patches.node_documents(cluster, cluster.spec.nodes[0])
    # The disk only: the installer image is in one place, gen config's --install-image (machine.install.image).
    assert _legacy(cp1) == {"machine": {"install": {"disk": "/dev/sda"}}}
    assert not any(d.get("kind") == "UnattendedInstallConfig" for d in patches.common(cluster))
    assert _by_kind(cp1, "HostnameConfig") == [
        {"apiVersion": "v1alpha1", "kind": "HostnameConfig", "hostname": "cp-1", "auto": "off"}
    ]
    (link,) = _by_kind(cp1, "LinkConfig")
    assert link == {
        "apiVersion": "v1alpha1",
        "kind": "LinkConfig",
        "name": "eth0",
        "addresses": [{"address": "192.168.10.11/24"}],
        "routes": [{"gateway": "192.168.10.1"}],
    }
    assert _by_kind(cp1, "Layer2VIPConfig") == [
        {"apiVersion": "v1alpha1", "kind": "Layer2VIPConfig", "name": "192.168.10.10", "link": "eth0"}
    ]
    assert not _by_kind(cp1, "LinkAliasConfig")

    worker1 = patches.node_documents(cluster, cluster.spec.nodes[3])  # MAC + disk serial
    assert _legacy(worker1)["machine"]["install"]["diskSelector"] == {"serial": "S4EWNX0R123456"}
    assert "disk" not in _legacy(worker1)["machine"]["install"]
    (alias,) = _by_kind(worker1, "LinkAliasConfig")
    assert alias["name"] == "net0"
    assert alias["selector"] == {"match": 'mac(link.permanent_addr) == "aa:bb:cc:dd:ee:01"'}
    assert _by_kind(worker1, "LinkConfig")[0]["name"] == "net0"
    assert not _by_kind(worker1, "Layer2VIPConfig")  # VIP on control planes only

    worker2 = patches.node_documents(cluster, cluster.spec.nodes[4])
    assert _legacy(worker2)["machine"]["install"]["disk"] == "/dev/nvme0n1"
    assert _by_kind(worker2, "LinkConfig")[0]["name"] == "enp3s0"


def test_vip_link_follows_each_control_plane(example_data: dict) -> None:
    example_data["spec"]["nodes"][1].pop("interface")
    example_data["spec"]["nodes"][1]["mac"] = "aa:bb:cc:dd:ee:02"
    example_data["spec"]["nodes"][2]["interface"] = "enp1s0"
    cluster = parse(example_data)
    links = [
        _by_kind(patches.node_documents(cluster, node), "Layer2VIPConfig")[0]["link"]
        for node in cluster.control_planes
    ]
    assert links == ["eth0", "net0", "enp1s0"]


def test_no_vip_documents_without_vip(example_data: dict) -> None:
    example_data["spec"]["controlPlane"]["vip"] = False
    cluster = parse(example_data)
    assert not any(
        _by_kind(patches.node_documents(cluster, n), "Layer2VIPConfig") for n in cluster.spec.nodes
    )


@pytest.mark.parametrize(
    ("disk", "match"),
    [
        ("/dev/sda", 'disk.dev_path == "/dev/sda"'),
        ({"serial": 'S"N1'}, 'disk.serial == "S\\"N1"'),
        ({"wwid": "naa.5000"}, 'disk.wwid == "naa.5000"'),
    ],
)
def test_node_documents_v114_use_unattended_install(example_data: dict, disk: Any, match: str) -> None:
    example_data["spec"]["nodes"][0]["installDisk"] = disk
    cluster = parse(talos_114(example_data))
    docs = patches.node_documents(cluster, cluster.spec.nodes[0])
    assert not [d for d in docs if "kind" not in d]  # no legacy document next to UnattendedInstallConfig
    (install,) = _by_kind(docs, "UnattendedInstallConfig")
    assert install["provisioning"] == {"diskSelector": {"match": match}}
    assert "installer" not in install  # the image is in the common patch only
    (common,) = _by_kind(patches.common(cluster), "UnattendedInstallConfig")
    assert common == {
        "apiVersion": "v1alpha1",
        "kind": "UnattendedInstallConfig",
        "installer": {"image": installer_image(cluster.spec.talos.schematic, "v1.14.0-rc.1")},
    }


def test_rendered_patch_reads_back_identically(example_data: dict) -> None:
    built = patches.build(parse(example_data))
    for path, text in built.files().items():
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
        name = path.rsplit("/", 1)[-1].removesuffix(".yaml")
        expected = {"common": built.common, "controlplane": built.controlplane}.get(name) or built.nodes[name]
        assert docs == expected


def test_installer_image_names() -> None:
    schematic = "a" * 64
    assert installer_image(schematic, "v1.13.9") == f"factory.talos.dev/metal-installer/{schematic}:v1.13.9"
    assert installer_image(schematic, "v1.14.0", secureboot=True) == (
        f"factory.talos.dev/metal-installer-secureboot/{schematic}:v1.14.0"
    )
    with pytest.raises(ValueError, match="schematic"):
        installer_image("abc", "v1.13.9")
    with pytest.raises(ValueError, match="version"):
        installer_image(schematic, "1.13.9")
    assert kubernetes_image("kube-proxy", "1.36.3") == "registry.k8s.io/kube-proxy:v1.36.3"


# ---------------------------------------------------------------- what the platform asks of Talos


@pytest.mark.parametrize("minor", ["1.13", "1.14"])
def test_metrics_rotates_kubelet_serving_certificates_on_every_node(example_data: dict, minor: str) -> None:
    data = talos_114(example_data) if minor == "1.14" else example_data
    docs = patches.common(parse(data))  # the common patch: control planes and workers alike
    if minor == "1.13":
        kubelet = _legacy(docs)["machine"]["kubelet"]
        assert kubelet["extraArgs"] == {"rotate-server-certificates": "true"}
        assert kubelet["nodeIP"] == {"validSubnets": ["192.168.10.0/24"]}  # merged, not a second document
        assert not _by_kind(docs, "KubeletConfig")
    else:
        (kubelet,) = _by_kind(docs, "KubeletConfig")
        assert kubelet["extraArgs"] == {"rotate-server-certificates": "true"}
        assert kubelet["image"] == f"ghcr.io/siderolabs/kubelet:v{data['spec']['kubernetes']['version']}"
        assert "kubelet" not in _legacy(docs)["machine"]  # machine.kubelet is gone from 1.14
    data["spec"]["components"] = {"metrics": False}
    off = patches.common(parse(data))
    assert not _by_kind(off, "KubeletConfig")
    assert "extraArgs" not in str(off)


@pytest.mark.parametrize("minor", ["1.13", "1.14"])
def test_logging_sends_service_and_kernel_logs_to_the_local_alloy(example_data: dict, minor: str) -> None:
    data = talos_114(example_data) if minor == "1.14" else example_data
    docs = patches.common(parse(data))
    assert _legacy(docs)["machine"]["logging"] == {
        "destinations": [{"endpoint": "tcp://127.0.0.1:6051/", "format": "json_lines"}]
    }
    assert _by_kind(docs, "KmsgLogConfig") == [
        {"apiVersion": "v1alpha1", "kind": "KmsgLogConfig", "name": "alloy", "url": "tcp://127.0.0.1:6050/"}
    ]
    data["spec"]["components"] = {"logging": False}
    off = patches.common(parse(data))
    assert not _by_kind(off, "KmsgLogConfig")
    assert all("logging" not in (doc.get("machine") or {}) for doc in off)


@pytest.mark.parametrize("minor", ["1.13", "1.14"])
def test_registry_mirrors_are_documents_on_both_versions(example_data: dict, minor: str) -> None:
    example_data["spec"]["registries"] = {"mirrors": MIRRORS}
    data = talos_114(example_data) if minor == "1.14" else example_data
    docs = patches.common(parse(data))
    assert _by_kind(docs, "RegistryMirrorConfig") == [
        {
            "apiVersion": "v1alpha1",
            "kind": "RegistryMirrorConfig",
            "name": registry,
            "endpoints": [{"url": url} for url in urls],
        }
        for registry, urls in MIRRORS.items()
    ]
    assert all("registries" not in (doc.get("machine") or {}) for doc in docs)  # deprecated since 1.12
    del example_data["spec"]["registries"]
    assert not _by_kind(patches.common(parse(example_data)), "RegistryMirrorConfig")


@pytest.mark.parametrize("minor", ["1.13", "1.14"])
def test_scheduled_backup_gives_its_namespace_the_etcd_backup_role_on_control_planes(
    example_data: dict, minor: str
) -> None:
    data = copy.deepcopy(example_data)
    data["spec"]["backup"] = copy.deepcopy(BACKUP)
    files = patches.build(parse(talos_114(data) if minor == "1.14" else data)).files()
    access = {"allowedRoles": ["os:etcd:backup"], "allowedKubernetesNamespaces": ["etcd-backup"]}
    docs = list(yaml.safe_load_all(files["talos/controlplane.yaml"]))
    if minor == "1.13":
        assert docs[0]["machine"]["features"]["kubernetesTalosAPIAccess"] == {"enabled": True, **access}
    else:
        assert {"apiVersion": "v1alpha1", "kind": "KubeTalosAPIAccessConfig", **access} in docs
    # Workers never get it: Talos refuses the feature on a machine that is not a control plane.
    assert "TalosAPIAccess" not in files.get("talos/worker.yaml", "")
    assert "TalosAPIAccess" not in yaml.safe_dump(list(yaml.safe_load_all(files["talos/common.yaml"])))
