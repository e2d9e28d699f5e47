"""The simulated talosctl's config handling: loading patches, Talos merge rules, and `validate` checks."""

from __future__ import annotations

import copy
import ipaddress
import re
from pathlib import Path
from typing import Any

import yaml

Document = dict[str, Any]

# Lists Talos replaces instead of appending when patched (merge:"replace" in the Go types).
REPLACED_LISTS = {"podSubnets", "serviceSubnets"}
REPLACED_MAPS = {"auditPolicy"}

KINDS_113 = frozenset(
    [
        "ExistingVolumeConfig",
        "ExternalVolumeConfig",
        "RawVolumeConfig",
        "SwapVolumeConfig",
        "UserVolumeConfig",
        "VolumeConfig",
        "ZswapConfig",
        "RegistryAuthConfig",
        "RegistryMirrorConfig",
        "RegistryTLSConfig",
        "ExtensionServiceConfig",
        "PCIDriverRebindConfig",
        "BlackholeRouteConfig",
        "BondConfig",
        "BridgeConfig",
        "NetworkDefaultActionConfig",
        "DHCPv4Config",
        "DHCPv6Config",
        "DummyLinkConfig",
        "EthernetConfig",
        "HCloudVIPConfig",
        "HostnameConfig",
        "KubeSpanConfig",
        "KubeSpanEndpointsConfig",
        "Layer2VIPConfig",
        "LinkConfig",
        "LinkAliasConfig",
        "ResolverConfig",
        "RoutingRuleConfig",
        "NetworkRuleConfig",
        "StaticHostConfig",
        "TCPProbeConfig",
        "TimeSyncConfig",
        "VLANConfig",
        "VRFConfig",
        "WireguardConfig",
        "EnvironmentConfig",
        "EventSinkConfig",
        "KmsgLogConfig",
        "OOMConfig",
        "WatchdogTimerConfig",
        "TrustedRootsConfig",
        "ImageVerificationConfig",
        "SideroLinkConfig",
    ]
)
KINDS_114 = KINDS_113 | frozenset(
    [
        "FilesystemTrimConfig",
        "FilesystemScrubConfig",
        "DiscoveryIdentityConfig",
        "DiscoveryServiceConfig",
        "ContainerConfig",
        "CRIBaseRuntimeSpecConfig",
        "CRICustomizationConfig",
        "ImageCacheConfig",
        "KubeAdmissionControlConfig",
        "KubeAggregatorCAConfig",
        "KubeAPIServerConfig",
        "KubeAPIServerCAConfig",
        "KubeAuditPolicyConfig",
        "KubeAuthenticationConfig",
        "KubeAuthorizerConfig",
        "KubeClusterConfig",
        "KubeControllerManagerConfig",
        "KubeCoreDNSConfig",
        "KubeCredentialProviderConfig",
        "KubeEtcdEncryptionConfig",
        "KubeExternalManifestConfig",
        "KubeFlannelCNIConfig",
        "KubeInlineManifestConfig",
        "KubeletConfig",
        "KubePrismConfig",
        "KubeNetworkConfig",
        "KubeNodeConfig",
        "KubeProxyConfig",
        "KubeSchedulerConfig",
        "KubeServiceAccountConfig",
        "KubeStaticPodConfig",
        "KubeTalosAPIAccessConfig",
        "BGPInstanceConfig",
        "HTTPProbeConfig",
        "VethConfig",
        "EtcFileConfig",
        "KernelModuleConfig",
        "SecurityProfileConfig",
        "SysctlConfig",
        "SysfsConfig",
        "UdevRulesConfig",
        "UnattendedInstallConfig",
        "LVMLogicalVolumeConfig",
        "LVMVolumeGroupConfig",
        "RAIDArrayConfig",
    ]
)

# Talos minor → (lowest Kubernetes, highest Kubernetes minor) it runs (pkg/machinery/compatibility).
KUBERNETES_RANGE = {13: ((1, 31, 0), (1, 36)), 14: ((1, 32, 0), (1, 37))}


class ConfigError(Exception):
    """A config or patch the simulated talosctl rejects; the message is what it prints."""


def is_legacy(doc: Document) -> bool:
    """The v1alpha1 document (`version: v1alpha1`, or a patch with neither kind nor apiVersion)."""
    return "kind" not in doc and "apiVersion" not in doc


def identity(doc: Document) -> tuple[str, str, str]:
    if is_legacy(doc):
        return ("v1alpha1", "", "")
    return (str(doc.get("apiVersion", "")), str(doc.get("kind", "")), str(doc.get("name", "")))


def describe(doc: Document) -> str:
    api, kind, name = identity(doc)
    return "v1alpha1 config" if is_legacy(doc) else f"{kind}/{api}" + (f" {name!r}" if name else "")


# ---------------------------------------------------------------- loading


def load_documents(text: str, source: str, known_kinds: frozenset[str]) -> list[Document]:
    """Parse a config or patch stream; unknown kinds fail like talosctl's decoder."""
    try:
        docs = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as exc:
        raise ConfigError(f"failed to decode {source}: {exc}") from None
    for doc in docs:
        if not isinstance(doc, dict):
            raise ConfigError(f"failed to decode {source}: a document must be a mapping")
        kind = doc.get("kind")
        if kind is not None and kind not in known_kinds:
            raise ConfigError(
                f'failed to decode {source}: unknown document type "{kind}" (apiVersion "v1alpha1")'
            )
    return docs


def read_patch(spec: str, known_kinds: frozenset[str]) -> list[Document]:
    """One `--config-patch`/`--patch` value: `@file` or inline YAML. JSON6902 patches are not simulated."""
    if spec.startswith("@"):
        path = Path(spec[1:])
        try:
            text = path.read_text()
        except FileNotFoundError:
            raise ConfigError(f"open {path}: no such file or directory") from None
        source = str(path)
    else:
        text, source = spec, "inline patch"
    docs = load_documents(text, source, known_kinds)
    if any(isinstance(doc, list) for doc in docs):
        raise ConfigError("JSON6902 patches are not supported by the simulated talosctl")
    seen: set[tuple[str, str, str]] = set()
    for doc in docs:
        key = identity(doc)
        if key in seen:
            raise ConfigError(f"{source}: the patch modifies {describe(doc)} more than once")
        seen.add(key)
    return docs


# ---------------------------------------------------------------- merge (strategic merge patch)


def merge(left: Any, right: Any, key: str = "") -> Any:
    """Talos merge rules: maps merged, lists appended (a few replaced), scalars replaced, `$patch: delete`."""
    if isinstance(left, dict) and isinstance(right, dict) and key not in REPLACED_MAPS:
        out = dict(left)
        for name, value in right.items():
            if isinstance(value, dict) and value.get("$patch") == "delete":
                out.pop(name, None)
            elif name in out:
                out[name] = merge(out[name], value, name)
            else:
                out[name] = copy.deepcopy(value)
        return out
    if isinstance(left, list) and isinstance(right, list) and key not in REPLACED_LISTS:
        return [*left, *copy.deepcopy(right)]
    return copy.deepcopy(right)


def apply_patches(documents: list[Document], patches: list[list[Document]]) -> list[Document]:
    """Apply patch files in order: documents match by apiVersion+kind+name; unmatched ones are appended."""
    docs = copy.deepcopy(documents)
    for patch in patches:
        for doc in patch:
            key = identity(doc)
            index = next((i for i, existing in enumerate(docs) if identity(existing) == key), None)
            if doc.get("$patch") == "delete":
                if is_legacy(doc):
                    raise ConfigError("the v1alpha1 config document cannot be deleted")
                if index is None:
                    raise ConfigError(f"cannot delete {describe(doc)}: no such document")
                del docs[index]
            elif index is None:
                docs.append(copy.deepcopy(doc))
            else:
                merged = merge(docs[index], doc)
                docs[index] = merged
    return docs


# ---------------------------------------------------------------- validate


def _version(text: str) -> tuple[int, int, int] | None:
    match = re.search(r":v?(\d+)\.(\d+)\.(\d+)", text)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def _check_kubernetes(docs: list[Document], legacy: Document, talos_minor: int) -> list[str]:
    image = (legacy.get("machine") or {}).get("kubelet", {}).get("image", "")
    for doc in docs:
        if doc.get("kind") == "KubeletConfig":
            image = doc.get("image", image)
    version = _version(str(image))
    limits = KUBERNETES_RANGE.get(talos_minor)
    if version is None or limits is None:
        return []
    low, high = limits
    if version < low or version[:2] > high:
        shown = ".".join(map(str, version))
        return [f"kubernetes version {shown} is not supported by Talos 1.{talos_minor}"]
    return []


def _check_install(docs: list[Document], legacy: Document, mode: str) -> list[str]:
    install = (legacy.get("machine") or {}).get("install")
    unattended = [d for d in docs if d.get("kind") == "UnattendedInstallConfig"]
    errors = []
    if unattended and install:
        errors.append(".machine.install and UnattendedInstallConfig cannot be used together")
    if mode != "metal":
        return errors
    if unattended:
        match = ((unattended[0].get("provisioning") or {}).get("diskSelector") or {}).get("match")
        if not match:
            errors.append("either install disk or diskSelector should be defined")
    elif install is None:
        errors.append(f'install instructions are required in "{mode}" mode')
    elif not install.get("disk") and not install.get("diskSelector"):
        errors.append("either install disk or diskSelector should be defined")
    return errors


def _check_network(docs: list[Document]) -> list[str]:
    errors = []
    for doc in docs:
        kind = doc.get("kind")
        if kind == "HostnameConfig":
            auto, hostname = doc.get("auto"), doc.get("hostname", "")
            if auto not in (None, "off", "stable"):
                errors.append(f"[networking.os.device.hostname] invalid value for 'auto': {auto}")
            if auto not in (None, "off") and hostname:
                errors.append(
                    "[networking.os.device.hostname] 'auto' and 'hostname' cannot be set at the same time"
                )
            if auto == "off" and not hostname:
                errors.append("[networking.os.device.hostname] either 'auto' or 'hostname' must be set")
        elif kind == "LinkConfig":
            for address in doc.get("addresses") or []:
                text = str(address.get("address", ""))
                try:
                    if "/" not in text:  # Talos wants an address with its prefix length
                        raise ValueError(text)
                    ipaddress.ip_interface(text)
                except ValueError:
                    errors.append(
                        f"LinkConfig {doc.get('name')!r}: invalid address {address.get('address')!r}"
                    )
            for route in doc.get("routes") or []:
                gateway = route.get("gateway")
                if gateway is not None:
                    try:
                        ipaddress.ip_address(str(gateway))
                    except ValueError:
                        errors.append(f"LinkConfig {doc.get('name')!r}: invalid gateway {gateway!r}")
        elif kind == "Layer2VIPConfig":
            try:
                ipaddress.ip_address(str(doc.get("name", "")))
            except ValueError:
                errors.append(f"Layer2VIPConfig: name must be an IP address, got {doc.get('name')!r}")
            if not doc.get("link"):
                errors.append("Layer2VIPConfig: link must be specified")
        elif kind == "LinkAliasConfig" and not (doc.get("selector") or {}).get("match"):
            errors.append(f"LinkAliasConfig {doc.get('name')!r}: selector.match must be specified")
    return errors


def validate(docs: list[Document], mode: str, talos_minor: int) -> list[str]:
    """What `talosctl validate` would reject in a rendered config (a subset of Talos' own checks)."""
    if mode not in ("metal", "cloud", "container"):
        return [f'unknown mode: "{mode}"']
    legacies = [doc for doc in docs if is_legacy(doc)]
    if len(legacies) != 1:
        return ["machine instructions are required" if not legacies else "more than one v1alpha1 document"]
    legacy = legacies[0]
    errors: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for doc in docs:
        if identity(doc) in seen:
            errors.append(f"duplicate document: {describe(doc)}")
        seen.add(identity(doc))
    machine = legacy.get("machine") or {}
    if machine.get("type") not in ("controlplane", "worker", "init"):
        errors.append(f"unknown machine type {machine.get('type')!r}")
    if not machine.get("token"):
        errors.append("machine.token is required")
    if not (machine.get("ca") or {}).get("crt"):
        errors.append("machine.ca.crt is required")
    if machine.get("type") == "controlplane" and not (machine.get("ca") or {}).get("key"):
        errors.append("machine.ca.key is required on control plane nodes")
    endpoint = ((legacy.get("cluster") or {}).get("controlPlane") or {}).get("endpoint")
    for doc in docs:
        if doc.get("kind") == "KubeClusterConfig":
            endpoint = doc.get("endpoint", endpoint)
    if not str(endpoint or "").startswith("https://"):
        errors.append(f"cluster endpoint must be an https:// URL, got {endpoint!r}")
    errors += _check_install(docs, legacy, mode)
    errors += _check_network(docs)
    errors += _check_kubernetes(docs, legacy, talos_minor)
    return errors


def warnings(docs: list[Document]) -> list[str]:
    """What `talosctl validate` warns about (a subset of Talos' own warnings; `--strict` makes them errors,
    each prefixed `warning: `, in v1alpha1_validation.go at v1.13.9)."""
    out: list[str] = []
    for doc in docs:
        if not is_legacy(doc):
            continue
        machine = doc.get("machine") or {}
        if machine.get("type") == "init":
            out.append('use "controlplane" instead of "init" for machine type')
        if (machine.get("install") or {}).get("extensions"):
            out.append(
                ".machine.install.extensions is deprecated, please see "
                "https://docs.siderolabs.com/talos/latest/platform-specific-installations/boot-assets"
            )
        for device in (machine.get("network") or {}).get("interfaces") or []:
            if isinstance(device, dict) and device.get("cidr"):
                out.append(
                    f"{device.get('interface', '')!r}: machine.network.interface.cidr is deprecated, please use "
                    "machine.network.interface.addresses"
                )
    return out


def format_errors(errors: list[str]) -> str:
    """hashicorp/go-multierror's format, as talosctl prints validation failures."""
    count = len(errors)
    lines = [f"{count} error{'s' if count != 1 else ''} occurred:"]
    lines += [f"\t* {error}" for error in errors]
    return "\n".join(lines) + "\n"
