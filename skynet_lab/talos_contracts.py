"""What the simulated `talosctl gen secrets` / `gen config` emit: the bundle and the v1.13 / v1.14 shapes.

Keys are real where the standard library can make them (Ed25519 PKCS#8 and EC P-256 SEC1 private keys
from random bytes); certificates are PEM-shaped random DER, NOT parseable X.509 - lab configs never reach a
real machine - except the OS CA and the admin client certificate, real X.509 (talos_pki) because the lab's
nodes verify client certificates and enforce their roles (talos_authz). The service-account key is EC P-256 (talosctl 1.13 emits RSA-4096, too slow without a
crypto library). The config shapes follow Talos' config-stability test data for each contract.
"""

from __future__ import annotations

import base64
import os
import secrets
from typing import Any

from skynet_lab import talos_merge
from skynet_lab.cli import Invocation
from skynet_lab.talos_merge import ConfigError, Document
from skynet_lab.talos_version import client_minor, minor
from skynet_tui import api

TOKEN_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
DEFAULT_KUBERNETES = "1.36.3"


def contract_minor(talos_version: str | None) -> int:
    """The config contract: --talos-version if given, never newer than this client knows."""
    client = client_minor()
    return min(client, minor(talos_version)) if talos_version else client


def known_kinds(minor: int) -> frozenset[str]:
    return talos_merge.KINDS_114 if minor >= 14 else talos_merge.KINDS_113


# ---------------------------------------------------------------- secrets bundle


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _pem(label: str, der: bytes) -> str:
    body = _b64(der)
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def _token() -> str:
    return (
        "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(6))
        + "."
        + "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(16))
    )


def ed25519_key() -> str:
    """A real Ed25519 private key (PKCS#8) under talosctl's non-standard PEM header."""
    return _pem("ED25519 PRIVATE KEY", bytes.fromhex("302e020100300506032b657004220420") + os.urandom(32))


def ec_key() -> str:
    """A real EC P-256 private key (SEC1, public key omitted as SEC1 allows)."""
    scalar = os.urandom(32)
    while scalar == bytes(32) or scalar[0] == 0xFF:  # keep it below the curve order
        scalar = os.urandom(32)
    return _pem(
        "EC PRIVATE KEY", bytes.fromhex("30310201010420") + scalar + bytes.fromhex("a00a06082a8648ce3d030107")
    )


def fake_certificate(organization: str) -> str:
    """PEM-shaped certificate: a DER SEQUENCE header around a marker and random bytes (not parseable X.509)."""
    body = b"SKYNET-LAB-SIMULATED-CA O=" + organization.encode() + b" " + os.urandom(300)
    return _pem("CERTIFICATE", b"\x30\x82" + len(body).to_bytes(2, "big") + body)


def _ca(organization: str, key: str) -> dict[str, str]:
    return {"crt": _b64(fake_certificate(organization).encode()), "key": _b64(key.encode())}


def _os_ca() -> dict[str, str]:
    from skynet_lab import talos_pki  # cryptography: only when a bundle is made

    crt, key = talos_pki.new_os_ca()
    return {"crt": _b64(crt.encode()), "key": _b64(key.encode())}


def new_bundle() -> dict[str, Any]:
    """The structure of `talosctl gen secrets` output with fresh random values."""
    return {
        "cluster": {
            "id": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "secret": _b64(os.urandom(32)),
        },
        "secrets": {"bootstraptoken": _token(), "secretboxencryptionsecret": _b64(os.urandom(32))},
        "trustdinfo": {"token": _token()},
        "certs": {
            "etcd": _ca("etcd", ec_key()),
            "k8s": _ca("kubernetes", ec_key()),
            "k8saggregator": _ca("", ec_key()),
            "k8sserviceaccount": {"key": _b64(ec_key().encode())},
            "os": _os_ca(),
        },
    }


def check_bundle(bundle: Any) -> None:
    """secrets.Bundle.Validate: every field present."""

    def need(path: str) -> Any:
        value: Any = bundle
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if not value:
            raise ConfigError(f"failed to validate secrets bundle: {path} is missing")
        return value

    for path in ("cluster.id", "cluster.secret", "secrets.bootstraptoken", "trustdinfo.token"):
        need(path)
    if not (bundle.get("secrets") or {}).get("secretboxencryptionsecret") and not (
        bundle.get("secrets") or {}
    ).get("aescbcencryptionsecret"):
        raise ConfigError("failed to validate secrets bundle: one of encryption secrets should be set")
    for ca in ("etcd", "k8s", "k8saggregator", "os"):
        need(f"certs.{ca}.crt")
        need(f"certs.{ca}.key")
    need("certs.k8sserviceaccount.key")


def _decode(value: str) -> str:
    return base64.b64decode(value).decode()


# ---------------------------------------------------------------- gen config: the two contracts


class Inputs:
    """Everything gen config needs, read from argv and the bundle."""

    def __init__(self, inv: Invocation, bundle: dict[str, Any]):
        self.name, self.endpoint = inv.args
        self.bundle = bundle
        self.kubernetes = str(inv.get("kubernetes-version", DEFAULT_KUBERNETES)).removeprefix("v")
        self.install_disk = str(inv.get("install-disk", "/dev/sda"))
        self.install_image = str(
            inv.get("install-image", f"ghcr.io/siderolabs/installer:v1.{client_minor()}.9")
        )
        self.dns_domain = str(inv.get("dns-domain", "cluster.local"))
        self.sans = inv.strings("additional-sans")
        self.discovery = bool(inv.get("with-cluster-discovery", True))
        self.minor = contract_minor(inv.string("talos-version"))

    def image(self, component: str) -> str:
        registry = "ghcr.io/siderolabs" if component == "kubelet" else "registry.k8s.io"
        return f"{registry}/{component}:v{self.kubernetes}"

    def certs(self, name: str) -> dict[str, str]:
        return self.bundle["certs"][name]


def _v113(inp: Inputs, controlplane: bool) -> list[Document]:
    b = inp.bundle
    os_ca = inp.certs("os")
    install: Document = {}
    if inp.install_disk:
        install["disk"] = inp.install_disk
    install.update(image=inp.install_image, wipe=False, grubUseUKICmdline=True)
    machine: Document = {
        "type": "controlplane" if controlplane else "worker",
        "token": b["trustdinfo"]["token"],
        "ca": {"crt": os_ca["crt"], "key": os_ca["key"] if controlplane else ""},
        "certSANs": list(inp.sans),
        "kubelet": {
            "image": inp.image("kubelet"),
            "defaultRuntimeSeccompProfileEnabled": True,
            "disableManifestsDirectory": True,
        },
        "install": install,
        "features": {
            "diskQuotaSupport": True,
            "kubePrism": {"enabled": True, "port": 7445},
            "hostDNS": {"enabled": True, "forwardKubeDNSToHost": True},
        },
    }
    if controlplane:
        machine["nodeLabels"] = {"node.kubernetes.io/exclude-from-external-load-balancers": ""}
    cluster: Document = {
        "id": b["cluster"]["id"],
        "secret": b["cluster"]["secret"],
        "controlPlane": {"endpoint": inp.endpoint},
        "clusterName": inp.name,
        "network": {
            "dnsDomain": inp.dns_domain,
            "podSubnets": ["10.244.0.0/16"],
            "serviceSubnets": ["10.96.0.0/12"],
        },
        "token": b["secrets"]["bootstraptoken"],
    }
    k8s_ca = inp.certs("k8s")
    if controlplane:
        api_server: Document = {"image": inp.image("kube-apiserver")}
        if inp.sans:
            api_server["certSANs"] = list(inp.sans)
        api_server.update(admissionControl=[_pod_security()], auditPolicy=_audit_policy())
        cluster.update(
            secretboxEncryptionSecret=b["secrets"]["secretboxencryptionsecret"],
            ca={"crt": k8s_ca["crt"], "key": k8s_ca["key"]},
            aggregatorCA=dict(inp.certs("k8saggregator")),
            serviceAccount={"key": inp.certs("k8sserviceaccount")["key"]},
            apiServer=api_server,
            controllerManager={"image": inp.image("kube-controller-manager")},
            proxy={"image": inp.image("kube-proxy")},
            scheduler={"image": inp.image("kube-scheduler")},
        )
    else:
        cluster["ca"] = {"crt": k8s_ca["crt"], "key": ""}
    if inp.discovery:
        cluster["discovery"] = {
            "enabled": True,
            "registries": {"kubernetes": {"disabled": True}, "service": {}},
        }
    if controlplane:
        cluster["etcd"] = {"ca": dict(inp.certs("etcd"))}
    legacy = {"version": "v1alpha1", "debug": False, "persist": True, "machine": machine, "cluster": cluster}
    return [legacy, {"apiVersion": "v1alpha1", "kind": "HostnameConfig", "auto": "stable"}]


def _pod_security() -> Document:
    return {
        "name": "PodSecurity",
        "configuration": {
            "apiVersion": "pod-security.admission.config.k8s.io/v1alpha1",
            "defaults": {
                "audit": "restricted",
                "audit-version": "latest",
                "enforce": "baseline",
                "enforce-version": "latest",
                "warn": "restricted",
                "warn-version": "latest",
            },
            "exemptions": {"namespaces": ["kube-system"], "runtimeClasses": [], "usernames": []},
            "kind": "PodSecurityConfiguration",
        },
    }


def _audit_policy() -> Document:
    return {"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": [{"level": "Metadata"}]}


def _doc(kind: str, **fields: Any) -> Document:
    return {"apiVersion": "v1alpha1", "kind": kind, **fields}


def _v114(inp: Inputs, controlplane: bool) -> list[Document]:
    b = inp.bundle
    os_ca, k8s_ca = inp.certs("os"), inp.certs("k8s")
    machine: Document = {
        "type": "controlplane" if controlplane else "worker",
        "token": b["trustdinfo"]["token"],
        "ca": {"crt": os_ca["crt"], "key": os_ca["key"] if controlplane else ""},
        "certSANs": list(inp.sans),
        "features": {"diskQuotaSupport": True},
    }
    cluster: Document = {"token": b["secrets"]["bootstraptoken"]}
    if controlplane:
        cluster["etcd"] = {"ca": dict(inp.certs("etcd"))}
    docs: list[Document] = [
        {"version": "v1alpha1", "debug": False, "persist": True, "machine": machine, "cluster": cluster}
    ]
    if inp.discovery:
        docs += [
            _doc("DiscoveryServiceConfig", name="default", endpoint="https://discovery.talos.dev/"),
            _doc(
                "DiscoveryIdentityConfig", clusterID=b["cluster"]["id"], clusterSecret=b["cluster"]["secret"]
            ),
        ]
    docs += [
        _doc("ResolverConfig", hostDNS={"enabled": True, "forwardKubeDNSToHost": True}),
        _doc("VolumeConfig", name="EPHEMERAL", mount={"secure": True}),
        _doc("FilesystemTrimConfig", interval="168h0m0s"),
        _doc("SecurityProfileConfig", workloadIsolation=True),
        _doc("HostnameConfig", auto="stable"),
    ]
    if inp.install_disk:
        docs.append(
            _doc(
                "UnattendedInstallConfig",
                installer={"image": inp.install_image},
                provisioning={"diskSelector": {"match": f'disk.dev_path == "{inp.install_disk}"'}},
            )
        )
    docs.append(_doc("KubeClusterConfig", clusterName=inp.name, endpoint=inp.endpoint))
    if controlplane:
        docs.append(
            _doc(
                "KubeNodeConfig",
                nodeIP={},
                labels={
                    "node-role.kubernetes.io/control-plane": "",
                    "node.kubernetes.io/exclude-from-external-load-balancers": "",
                },
                taints={"node-role.kubernetes.io/control-plane": "NoSchedule"},
            )
        )
    else:
        docs.append(_doc("KubeNodeConfig", nodeIP={}))
    docs += [
        _doc(
            "KubeletConfig", image=inp.image("kubelet"), config={}, defaultRuntimeSeccompProfileEnabled=True
        ),
        _doc(
            "KubeNetworkConfig",
            dnsDomain=inp.dns_domain,
            podSubnets=["10.244.0.0/16"],
            serviceSubnets=["10.96.0.0/12"],
        ),
    ]
    if not controlplane:
        return [
            *docs,
            _doc("KubeAPIServerCAConfig", acceptedCAs=[_decode(k8s_ca["crt"])]),
            _doc("KubePrismConfig", port=7445),
        ]
    aggregator = inp.certs("k8saggregator")
    secretbox = b["secrets"]["secretboxencryptionsecret"]
    return [
        *docs,
        _doc(
            "KubeAPIServerCAConfig", issuingCA={"cert": _decode(k8s_ca["crt"]), "key": _decode(k8s_ca["key"])}
        ),
        _doc("KubePrismConfig", port=7445),
        _doc(
            "KubeAggregatorCAConfig",
            issuingCA={"cert": _decode(aggregator["crt"]), "key": _decode(aggregator["key"])},
        ),
        _doc(
            "KubeAdmissionControlConfig", name="PodSecurity", configuration=_pod_security()["configuration"]
        ),
        _doc("KubeAuditPolicyConfig", configuration=_audit_policy()),
        _doc(
            "KubeAuthenticationConfig",
            configuration={
                "anonymous": {
                    "conditions": [{"path": "/livez"}, {"path": "/readyz"}, {"path": "/healthz"}],
                    "enabled": True,
                },
                "jwt": [],
            },
        ),
        _doc("KubeAuthorizerConfig", name="node", type="Node"),
        _doc("KubeAuthorizerConfig", name="rbac", type="RBAC"),
        _doc(
            "KubeEtcdEncryptionConfig",
            config={
                "resources": [
                    {
                        "providers": [{"secretbox": {"keys": [{"name": "key2", "secret": secretbox}]}}],
                        "resources": ["secrets"],
                    }
                ]
            },
        ),
        _doc(
            "KubeServiceAccountConfig",
            issuer={"privateKey": _decode(inp.certs("k8sserviceaccount")["key"]), "issuerURL": inp.endpoint},
        ),
        _doc("KubeAPIServerConfig", image=inp.image("kube-apiserver")),
        _doc("KubeControllerManagerConfig", image=inp.image("kube-controller-manager")),
        _doc("KubeSchedulerConfig", image=inp.image("kube-scheduler"), config={}),
        _doc("KubeProxyConfig", image=inp.image("kube-proxy"), config={}),
        _doc("KubeFlannelCNIConfig", backendType="vxlan", backendPort=4789),
        _doc("KubeCoreDNSConfig", enabled=True),
    ]


def machine_config(inp: Inputs, controlplane: bool) -> list[Document]:
    """The documents `gen config` emits for one machine type, in the contract's shape."""
    return _v114(inp, controlplane) if inp.minor >= 14 else _v113(inp, controlplane)


def talosconfig(inp: Inputs) -> Document:
    """An admin talosconfig for the cluster (no endpoints: gen config never sets them)."""
    from skynet_lab import talos_pki

    os_ca = inp.certs("os")
    crt, key = talos_pki.client_certificate(_decode(os_ca["crt"]), _decode(os_ca["key"]), ["os:admin"])
    return {
        "context": inp.name,
        "contexts": {
            inp.name: {
                "endpoints": [],
                "ca": os_ca["crt"],
                "crt": _b64(crt.encode()),
                "key": _b64(key.encode()),
            }
        },
    }


def serialize(docs: list[Document]) -> str:
    return api.dump_yaml_all(docs, indent=4)
