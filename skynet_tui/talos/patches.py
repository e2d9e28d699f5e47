"""Talos patch documents built from the answers: common, control-plane, worker and one set per node.

The documents are plain dicts dumped with PyYAML (not templates): they are data with per-version variants,
and dicts are what the schema tests validate. Talos v1.13 takes the legacy v1alpha1 document for cluster
and install settings; v1.14 splits those into `Kube*` documents and `UnattendedInstallConfig`, and rejects
the legacy keys next to them, so each builder picks the shape of the cluster's Talos minor.

The installer image is written in one place: on v1.13 `talosctl gen config --install-image` puts it in
`machine.install.image` of the base configs; on v1.14 gen config writes no UnattendedInstallConfig when no
install disk is given (`pkg/machinery/config/generate/init.go` at v1.14.0-rc.1), so the common patch carries
the one UnattendedInstallConfig `installer.image`, and each node's patch adds its disk to that document.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from skynet_tui import versions
from skynet_tui.spec import Cluster, DiskSelector, Node
from skynet_tui.spec import backup as backup_spec
from skynet_tui.talos import platform, yamlio
from skynet_tui.talos.images import installer_image, kubernetes_image

Document = dict[str, Any]

COMMON_PATCH = "talos/common.yaml"
CONTROLPLANE_PATCH = "talos/controlplane.yaml"
WORKER_PATCH = "talos/worker.yaml"
NODES_DIR = "talos/nodes"
MAC_ALIAS = "net0"  # the link alias a node addressed by MAC gets (never a kernel name like eth0)
# The MAC selector matches the link's permanent (burned-in) address, the one discovery records: a bond or a
# driver may rewrite the current address (hardwareAddr), never the permanent one.
MAC_FIELD = "permanent_addr"

# Monitoring (kube-prometheus-stack) scrapes these; Talos binds them to localhost by default.
CONTROLLER_MANAGER_ARGS = {"bind-address": "0.0.0.0"}
SCHEDULER_ARGS = {"bind-address": "0.0.0.0"}
ETCD_ARGS = {"listen-metrics-urls": "http://0.0.0.0:2381"}
PROXY_ARGS = {"metrics-bind-address": "0.0.0.0:10249"}


def node_patch_path(hostname: str) -> str:
    return f"{NODES_DIR}/{hostname}.yaml"


def split_documents(cluster: Cluster) -> bool:
    """True when the cluster's Talos takes Kubernetes and install settings as separate documents (v1.14+)."""
    minor = versions.parse_version(cluster.spec.talos.version)
    return minor is not None and minor[:2] >= (1, 14)


def link_name(node: Node) -> str:
    """The link a node's address goes on: its interface, or the alias selecting its MAC."""
    return node.interface if node.interface else MAC_ALIAS


def _doc(kind: str, **fields: Any) -> Document:
    return {"apiVersion": "v1alpha1", "kind": kind, **fields}


def _kube_image(cluster: Cluster, component: str) -> str:
    return kubernetes_image(component, cluster.spec.kubernetes.version)


# ---------------------------------------------------------------- common


def common(cluster: Cluster) -> list[Document]:
    """Every node: endpoint, subnets, CNI, node IP subnet, nameservers, NTP; volumes for storage, and what
    metrics, logging and registry mirrors need (talos/platform.py)."""
    spec = cluster.spec
    k8s, network = spec.kubernetes, spec.network
    docs: list[Document] = []
    if split_documents(cluster):
        docs.append(_doc("KubeClusterConfig", clusterName=cluster.name, endpoint=spec.control_plane.url))
        docs.append(
            _doc("KubeNetworkConfig", podSubnets=[k8s.pod_subnet], serviceSubnets=[k8s.service_subnet])
        )
        docs.append(_doc("KubeNodeConfig", nodeIP={"validSubnets": [network.subnet]}))
    else:
        cluster_network: Document = {"podSubnets": [k8s.pod_subnet], "serviceSubnets": [k8s.service_subnet]}
        if k8s.cni == "none":
            cluster_network["cni"] = {"name": "none"}
        elif spec.components.policies:
            # Flannel alone ignores NetworkPolicy; Talos runs kube-network-policies beside it when asked.
            cluster_network["cni"] = {"name": "flannel", "flannel": {"kubeNetworkPoliciesEnabled": True}}
        docs.append(
            {
                "machine": {"kubelet": {"nodeIP": {"validSubnets": [network.subnet]}}},
                "cluster": {"controlPlane": {"endpoint": spec.control_plane.url}, "network": cluster_network},
            }
        )
    fragment = platform.legacy_fragment(cluster, split_documents(cluster))
    if fragment:
        legacy = next((doc for doc in docs if "kind" not in doc), None)
        if legacy is None:
            docs.append(fragment)
        else:
            for key, value in fragment["machine"].items():
                legacy["machine"].setdefault(key, {}).update(value)
    if split_documents(cluster):
        image = installer_image(spec.talos.schematic, spec.talos.version)
        docs.append(_doc("UnattendedInstallConfig", installer={"image": image}))
    docs.append(_doc("ResolverConfig", nameservers=[{"address": ip} for ip in network.nameservers]))
    docs.append(_doc("TimeSyncConfig", ntp={"servers": list(network.ntp)}))
    if spec.components.storage:
        # local-path-provisioner keeps volumes under /var/mnt/local-path-provisioner (gitops values).
        # EPHEMERAL is provisioned first and grows over the whole system disk unless capped.
        docs.append(_doc("VolumeConfig", name="EPHEMERAL", provisioning={"maxSize": "50%"}))
        docs.append(
            _doc(
                "UserVolumeConfig",
                name="local-path-provisioner",
                provisioning={"diskSelector": {"match": "system_disk"}, "minSize": "10GiB", "grow": True},
            )
        )
    docs += platform.documents(cluster, split_documents(cluster))
    return docs


# ---------------------------------------------------------------- control plane / worker


def controlplane(cluster: Cluster) -> list[Document]:
    """Control planes: etcd on the node subnet, CNI off (v1.14), metrics endpoints, workloads if no workers."""
    spec = cluster.spec
    monitoring = spec.components.monitoring
    etcd: Document = {"advertisedSubnets": [spec.network.subnet]}
    if monitoring:
        etcd["extraArgs"] = dict(ETCD_ARGS)
    legacy: Document = {"cluster": {"etcd": etcd}}
    docs: list[Document] = [legacy]
    if spec.backup is not None:
        # The etcd backup CronJob reaches the Talos API from its namespace with the os:etcd:backup role only.
        access = {"allowedRoles": [backup_spec.ROLE], "allowedKubernetesNamespaces": [backup_spec.NAMESPACE]}
        if split_documents(cluster):
            docs.append(_doc("KubeTalosAPIAccessConfig", **access))
        else:
            legacy["machine"] = {"features": {"kubernetesTalosAPIAccess": {"enabled": True, **access}}}
    if split_documents(cluster):
        if spec.kubernetes.cni == "none":
            # Only control-plane configs carry the Flannel document (it renders the CNI manifests).
            docs.append(_doc("KubeFlannelCNIConfig", **{"$patch": "delete"}))
        elif spec.components.policies:
            docs.append(_doc("KubeFlannelCNIConfig", kubeNetworkPoliciesEnabled=True))
        if monitoring:
            docs += [
                _doc(
                    "KubeControllerManagerConfig",
                    image=_kube_image(cluster, "kube-controller-manager"),
                    extraArgs=dict(CONTROLLER_MANAGER_ARGS),
                ),
                _doc(
                    "KubeSchedulerConfig",
                    image=_kube_image(cluster, "kube-scheduler"),
                    extraArgs=dict(SCHEDULER_ARGS),
                ),
                _doc("KubeProxyConfig", image=_kube_image(cluster, "kube-proxy"), extraArgs=dict(PROXY_ARGS)),
            ]
        return docs
    if monitoring:
        legacy["cluster"].update(
            controllerManager={"extraArgs": dict(CONTROLLER_MANAGER_ARGS)},
            scheduler={"extraArgs": dict(SCHEDULER_ARGS)},
            proxy={"extraArgs": dict(PROXY_ARGS)},
        )
    if not cluster.workers:
        # Without workers the platform's pods must run on the control planes.
        legacy["cluster"]["allowSchedulingOnControlPlanes"] = True
    return docs


def worker(cluster: Cluster) -> list[Document]:
    """Workers: nothing beyond the common patch today (the file is written only when this is non-empty)."""
    return []


# ---------------------------------------------------------------- per node


def _cel_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _install_v1alpha1(node: Node) -> Document:
    """The node's install disk; the image comes from gen config's --install-image."""
    install: Document = {}
    if isinstance(node.install_disk, DiskSelector):
        selector = node.install_disk
        install["diskSelector"] = {"serial": selector.serial} if selector.serial else {"wwid": selector.wwid}
    else:
        install["disk"] = node.install_disk
    return {"machine": {"install": install}}


def _install_unattended(node: Node) -> Document:
    """The node's install disk, merged into the common patch's UnattendedInstallConfig (which holds the image)."""
    disk = node.install_disk
    if isinstance(disk, DiskSelector):
        match = (
            f"disk.serial == {_cel_string(disk.serial)}"
            if disk.serial
            else f"disk.wwid == {_cel_string(disk.wwid or '')}"
        )
    else:
        match = f"disk.dev_path == {_cel_string(disk)}"
    return _doc("UnattendedInstallConfig", provisioning={"diskSelector": {"match": match}})


def node_documents(cluster: Cluster, node: Node) -> list[Document]:
    """One node: install disk, hostname, static address and default route, and the VIP on CPs."""
    spec = cluster.spec
    prefix = ipaddress.IPv4Network(spec.network.subnet).prefixlen
    link = link_name(node)
    docs: list[Document] = []
    docs.append(_install_unattended(node) if split_documents(cluster) else _install_v1alpha1(node))
    # `auto: off` is required: talosctl gen config emits `auto: stable`, which conflicts with a fixed hostname.
    docs.append(_doc("HostnameConfig", hostname=node.hostname, auto="off"))
    if node.mac:
        docs.append(
            _doc(
                "LinkAliasConfig",
                name=MAC_ALIAS,
                selector={"match": f"mac(link.{MAC_FIELD}) == {_cel_string(node.mac)}"},
            )
        )
    docs.append(
        _doc(
            "LinkConfig",
            name=link,
            addresses=[{"address": f"{node.ip}/{prefix}"}],
            routes=[{"gateway": spec.network.gateway}],
        )
    )
    if node.role == "controlplane" and spec.control_plane.vip:
        docs.append(_doc("Layer2VIPConfig", name=spec.control_plane.endpoint, link=link))
    return docs


# ---------------------------------------------------------------- the set


@dataclass(frozen=True)
class PatchSet:
    """All patch documents of a cluster, and the workspace files they are written to."""

    common: list[Document]
    controlplane: list[Document]
    worker: list[Document]
    nodes: dict[str, list[Document]] = field(default_factory=dict)

    def files(self) -> dict[str, str]:
        """Workspace-relative path → YAML text; empty document sets get no file."""
        out: dict[str, str] = {}
        for path, docs in (
            (COMMON_PATCH, self.common),
            (CONTROLPLANE_PATCH, self.controlplane),
            (WORKER_PATCH, self.worker),
        ):
            if docs:
                out[path] = render(docs)
        for hostname, docs in self.nodes.items():
            out[node_patch_path(hostname)] = render(docs)
        return out

    def all_documents(self) -> list[Document]:
        docs = [*self.common, *self.controlplane, *self.worker]
        for node_docs in self.nodes.values():
            docs += node_docs
        return docs


def build(cluster: Cluster) -> PatchSet:
    return PatchSet(
        common=common(cluster),
        controlplane=controlplane(cluster),
        worker=worker(cluster),
        nodes={node.hostname: node_documents(cluster, node) for node in cluster.spec.nodes},
    )


HEADER = "# Written by Skynet from cluster.yaml; edits are overwritten by `skynet generate`.\n"


def render(documents: list[Document]) -> str:
    """A patch file: the documents as multi-document YAML, checked to read back identically."""
    return HEADER + yamlio.round_trip(documents)
