"""What the platform's optional parts ask of Talos: kubelet serving certificates (metrics), host logs (logging),
registry mirrors. Every node gets the same; patches.py puts these into the common patch.

Per Talos minor (reference: the v1.13.9 and v1.14.0-rc.1 configuration references):
- kubelet serving-certificate rotation: v1alpha1 `machine.kubelet.extraArgs` on 1.13; 1.14 drops
  `machine.kubelet` for the `KubeletConfig` document.
- service logs: v1alpha1 `machine.logging.destinations` on both (live, not deprecated, in 1.14); kernel logs:
  the `KmsgLogConfig` document on both.
- registry mirrors: `RegistryMirrorConfig` documents on both. v1alpha1 `machine.registries` is deprecated since
  Talos 1.12 (and absent from the 1.13.9 schema), and the documents exist from 1.12 on, unchanged in 1.14.
"""

from __future__ import annotations

from typing import Any, Final

from skynet_tui.spec import Cluster
from skynet_tui.talos.images import kubelet_image

Document = dict[str, Any]

# Kubelets request serving certificates from the cluster CA (kubelet-serving-cert-approver approves them), so
# metrics-server can verify every kubelet without --kubelet-insecure-tls.
ROTATE_SERVER_CERTIFICATES: Final = {"rotate-server-certificates": "true"}

# Where each node's Talos sends its logs: the Alloy on the same node, which runs in the host network and
# listens on the loopback only (gitops values/alloy.yaml). One TCP port per stream, so each is parsed alike.
HOST_LOG_ADDRESS: Final = "127.0.0.1"
HOST_LOG_PORTS: Final = {"service": 6051, "kernel": 6050}


def host_log_url(stream: str) -> str:
    return f"tcp://{HOST_LOG_ADDRESS}:{HOST_LOG_PORTS[stream]}/"


def _doc(kind: str, **fields: Any) -> Document:
    return {"apiVersion": "v1alpha1", "kind": kind, **fields}


def legacy_fragment(cluster: Cluster, split: bool) -> Document:
    """The v1alpha1 keys the platform adds (merged into the common patch's v1alpha1 document)."""
    components = cluster.spec.components
    machine: Document = {}
    if components.metrics and not split:
        machine["kubelet"] = {"extraArgs": dict(ROTATE_SERVER_CERTIFICATES)}
    if components.logging:
        machine["logging"] = {"destinations": [{"endpoint": host_log_url("service"), "format": "json_lines"}]}
    return {"machine": machine} if machine else {}


def documents(cluster: Cluster, split: bool) -> list[Document]:
    """The multi-document kinds the platform adds to the common patch."""
    spec = cluster.spec
    docs: list[Document] = []
    if spec.components.metrics and split:
        docs.append(
            _doc(
                "KubeletConfig",
                image=kubelet_image(spec.kubernetes.version),
                extraArgs=dict(ROTATE_SERVER_CERTIFICATES),
            )
        )
    if spec.components.logging:
        docs.append(_doc("KmsgLogConfig", name="alloy", url=host_log_url("kernel")))
    for registry, urls in spec.registries.mirrors.items():
        docs.append(_doc("RegistryMirrorConfig", name=registry, endpoints=[{"url": url} for url in urls]))
    return docs
