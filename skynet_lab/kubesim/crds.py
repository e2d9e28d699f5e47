"""CustomResourceDefinitions the simulated charts install, per API group (names, scope, printer columns)."""

from __future__ import annotations

from typing import Any

# (plural, kind, namespaced, short names, printer columns [(name, type, jsonPath, priority)])
Def = tuple[str, str, bool, tuple[str, ...], tuple[tuple[str, str, str, int], ...]]
_AGE = ("Age", "date", ".metadata.creationTimestamp", 0)
_READY = ("Ready", "string", '.status.conditions[?(@.type=="Ready")].status', 0)

GROUPS: dict[str, tuple[str, tuple[Def, ...]]] = {
    # group: (version, definitions)
    "argoproj.io": (
        "v1alpha1",
        (
            (
                "applications",
                "Application",
                True,
                ("app", "apps"),
                (
                    ("Sync Status", "string", ".status.sync.status", 0),
                    ("Health Status", "string", ".status.health.status", 0),
                    ("Revision", "string", ".status.sync.revision", 10),
                    ("Project", "string", ".spec.project", 10),
                ),
            ),
            ("applicationsets", "ApplicationSet", True, ("appset", "appsets"), ()),
            ("appprojects", "AppProject", True, ("appproj", "appprojs"), ()),
        ),
    ),
    "cert-manager.io": (
        "v1",
        (
            (
                "certificates",
                "Certificate",
                True,
                ("cert", "certs"),
                (
                    _READY,
                    ("Secret", "string", ".spec.secretName", 0),
                    ("Issuer", "string", ".spec.issuerRef.name", 1),
                    ("Status", "string", '.status.conditions[?(@.type=="Ready")].message', 1),
                    _AGE,
                ),
            ),
            ("certificaterequests", "CertificateRequest", True, ("cr", "crs"), (_READY, _AGE)),
            ("issuers", "Issuer", True, (), (_READY, _AGE)),
            ("clusterissuers", "ClusterIssuer", False, (), (_READY, _AGE)),
        ),
    ),
    "acme.cert-manager.io": (
        "v1",
        (("orders", "Order", True, (), (_AGE,)), ("challenges", "Challenge", True, (), (_AGE,))),
    ),
    "metallb.io": (
        "v1beta1",
        (
            (
                "ipaddresspools",
                "IPAddressPool",
                True,
                (),
                (
                    ("Auto Assign", "boolean", ".spec.autoAssign", 0),
                    ("Avoid Buggy IPs", "boolean", ".spec.avoidBuggyIPs", 0),
                    ("Addresses", "string", ".spec.addresses", 0),
                ),
            ),
            (
                "l2advertisements",
                "L2Advertisement",
                True,
                (),
                (("IPAddressPools", "string", ".spec.ipAddressPools", 0),),
            ),
            ("bgpadvertisements", "BGPAdvertisement", True, (), ()),
            ("bgppeers", "BGPPeer", True, (), ()),
            ("bfdprofiles", "BFDProfile", True, (), ()),
            ("communities", "Community", True, (), ()),
            ("servicel2statuses", "ServiceL2Status", True, (), ()),
        ),
    ),
    "traefik.io": (
        "v1alpha1",
        (
            ("ingressroutes", "IngressRoute", True, (), ()),
            ("ingressroutetcps", "IngressRouteTCP", True, (), ()),
            ("ingressrouteudps", "IngressRouteUDP", True, (), ()),
            ("middlewares", "Middleware", True, (), ()),
            ("middlewaretcps", "MiddlewareTCP", True, (), ()),
            ("serverstransports", "ServersTransport", True, (), ()),
            ("serverstransporttcps", "ServersTransportTCP", True, (), ()),
            ("tlsoptions", "TLSOption", True, (), ()),
            ("tlsstores", "TLSStore", True, (), ()),
            ("traefikservices", "TraefikService", True, (), ()),
        ),
    ),
    "monitoring.coreos.com": (
        "v1",
        (
            ("alertmanagers", "Alertmanager", True, ("am",), ()),
            ("podmonitors", "PodMonitor", True, ("pmon",), ()),
            ("probes", "Probe", True, ("prb",), ()),
            ("prometheuses", "Prometheus", True, ("prom",), ()),
            ("prometheusrules", "PrometheusRule", True, ("promrule",), ()),
            ("servicemonitors", "ServiceMonitor", True, ("smon",), ()),
            ("thanosrulers", "ThanosRuler", True, ("ruler",), ()),
        ),
    ),
    "autoscaling.k8s.io": (
        "v1",
        (
            ("verticalpodautoscalers", "VerticalPodAutoscaler", True, ("vpa",), ()),
            (
                "verticalpodautoscalercheckpoints",
                "VerticalPodAutoscalerCheckpoint",
                True,
                ("vpacheckpoint",),
                (),
            ),
        ),
    ),
    "kyverno.io": (
        "v1",
        (
            (
                "clusterpolicies",
                "ClusterPolicy",
                False,
                ("cpol",),
                (("Ready", "string", ".status.ready", 0), _AGE),
            ),
            ("policies", "Policy", True, ("pol",), (("Ready", "string", ".status.ready", 0), _AGE)),
        ),
    ),
    "policies.kyverno.io": ("v1alpha1", (("validatingpolicies", "ValidatingPolicy", False, ("vpol",), ()),)),
    "reports.kyverno.io": ("v1", (("ephemeralreports", "EphemeralReport", True, ("ephrep",), ()),)),
    "wgpolicyk8s.io": (
        "v1alpha2",
        (
            ("policyreports", "PolicyReport", True, ("polr",), ()),
            ("clusterpolicyreports", "ClusterPolicyReport", False, ("cpolr",), ()),
        ),
    ),
    "aquasecurity.github.io": (
        "v1alpha1",
        (
            ("vulnerabilityreports", "VulnerabilityReport", True, ("vuln", "vulns"), ()),
            ("configauditreports", "ConfigAuditReport", True, ("configaudit",), ()),
            ("clustercompliancereports", "ClusterComplianceReport", False, ("compliance",), ()),
        ),
    ),
}


def crd(group: str, definition: Def, version: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """One CustomResourceDefinition manifest (schema kept open, as the simulation never validates CRs)."""
    plural, kind, namespaced, short, columns = definition
    names: dict[str, Any] = {
        "kind": kind,
        "listKind": f"{kind}List",
        "plural": plural,
        "singular": kind.lower(),
    }
    if short:
        names["shortNames"] = list(short)
    ver: dict[str, Any] = {
        "name": version,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
    }
    if kind != "Application":  # Argo CD's Application CRD has no status subresource
        ver["subresources"] = {"status": {}}
    if columns:
        ver["additionalPrinterColumns"] = [
            {"name": n, "type": t, "jsonPath": p, **({"priority": pr} if pr else {})}
            for n, t, p, pr in columns
        ]
    meta: dict[str, Any] = {"name": f"{plural}.{group}"}
    if labels:
        meta["labels"] = dict(labels)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": meta,
        "spec": {
            "group": group,
            "names": names,
            "scope": "Namespaced" if namespaced else "Cluster",
            "versions": [ver],
        },
    }


def group_crds(group: str, labels: dict[str, str] | None = None) -> list[dict[str, Any]]:
    version, defs = GROUPS[group]
    return [crd(group, d, version, labels) for d in defs]


def cluster_scoped_kinds() -> set[str]:
    return {kind for _, defs in GROUPS.values() for _, kind, namespaced, _, _ in defs if not namespaced}
