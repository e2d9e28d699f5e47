"""The answers file (`cluster.yaml`, skynet.dev/v1alpha1): model, every validation rule, load and dump."""

from skynet_tui.spec.fields import (
    CIDR,
    EnvName,
    Host,
    IPv4,
    Label,
    PoolEntry,
    check_cidr,
    check_dns_name,
    check_env_name,
    check_host,
    check_ip,
    check_label,
    check_pool_entry,
    pool_bounds,
)
from skynet_tui.spec.issues import Issue, SpecError, format_loc
from skynet_tui.spec.model import (
    API_VERSION,
    KIND,
    Acme,
    Cluster,
    ClusterSpecBody,
    Components,
    ControlPlane,
    DiskSelector,
    Dns01,
    GitCredentials,
    GitOps,
    Ingress,
    Kubernetes,
    LoadBalancer,
    Metadata,
    Network,
    Node,
    Talos,
)
from skynet_tui.spec.parse import check, dump, json_schema, load, loads, parse, to_data
from skynet_tui.spec.rules import RULES, cross_field_issues, version_issues, warnings

__all__ = [
    "API_VERSION", "CIDR", "KIND", "RULES", "Acme", "Cluster", "ClusterSpecBody", "Components", "ControlPlane",
    "DiskSelector", "Dns01", "EnvName", "GitCredentials", "GitOps", "Host", "IPv4", "Ingress", "Issue",
    "Kubernetes", "Label", "LoadBalancer", "Metadata", "Network", "Node", "PoolEntry", "SpecError", "Talos",
    "check", "check_cidr", "check_dns_name", "check_env_name", "check_host", "check_ip", "check_label",
    "check_pool_entry", "cross_field_issues", "dump", "format_loc", "json_schema", "load", "loads", "parse",
    "pool_bounds", "to_data", "version_issues", "warnings",
]  # fmt: skip
