"""The answers file (`cluster.yaml`, skynet.dev/v1alpha1): model, every validation rule, load and dump."""

from skynet_tui.spec.dns01 import DNS01_PROVIDERS, Dns01Provider, ExternalDns
from skynet_tui.spec.fields import (
    CIDR,
    CertFingerprint,
    EnvName,
    Host,
    IPv4,
    Label,
    PoolEntry,
    check_cert_fingerprint,
    check_cidr,
    check_dns_name,
    check_env_name,
    check_host,
    check_ip,
    check_label,
    check_mac,
    check_pool_entry,
    is_mac,
    pool_bounds,
)
from skynet_tui.spec.issues import Issue, SpecError, format_loc
from skynet_tui.spec.loader import read_answers
from skynet_tui.spec.model import (
    API_VERSION,
    KIND,
    Cluster,
    ClusterSpecBody,
    ControlPlane,
    DiskSelector,
    Kubernetes,
    LoadBalancer,
    Metadata,
    Network,
    Node,
    Talos,
)
from skynet_tui.spec.parse import check, dump, load, loads, parse, to_data
from skynet_tui.spec.platform import Acme, Components, Dns01, GitCredentials, GitOps, Ingress
from skynet_tui.spec.registries import Registries, check_mirror_url, check_registry_name
from skynet_tui.spec.rules import RULES, cross_field_issues, version_issues, warnings
from skynet_tui.spec.schema import choices, defaults, example, field_at, help_line, json_schema

__all__ = [
    "API_VERSION", "CIDR", "CertFingerprint", "DNS01_PROVIDERS", "KIND", "RULES", "Acme", "Cluster",
    "ClusterSpecBody", "Components", "ControlPlane", "DiskSelector", "Dns01", "Dns01Provider", "EnvName",
    "ExternalDns", "GitCredentials", "GitOps", "Host", "IPv4", "Ingress", "Issue", "Kubernetes", "Label",
    "LoadBalancer", "Metadata", "Network", "Node", "PoolEntry", "Registries", "SpecError", "Talos", "check",
    "check_cert_fingerprint", "check_cidr", "check_dns_name", "check_env_name", "check_host", "check_ip",
    "check_label", "check_mac", "check_mirror_url", "check_pool_entry", "check_registry_name", "choices",
    "cross_field_issues",
    "defaults", "dump", "example", "field_at", "format_loc", "help_line", "is_mac", "json_schema", "load",
    "loads", "parse", "pool_bounds", "read_answers", "to_data", "version_issues", "warnings",
]  # fmt: skip
