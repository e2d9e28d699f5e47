"""Resource types served by the lab's mock Kubernetes API: built-in kinds, kinds from CRDs, discovery documents."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    """A printer column: header, JSONPath-like dotted path (CRD additionalPrinterColumns) and type."""

    name: str
    path: str
    type: str = "string"
    priority: int = 0


@dataclass(frozen=True)
class Resource:
    """One served resource type (one group/version/plural)."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    short: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    status_subresource: bool = True
    columns: tuple[Column, ...] = field(default=(), compare=False)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def key(self) -> tuple[str, str]:
        return (self.group, self.plural)

    @property
    def qualified(self) -> str:
        """`deployment.apps`, `node`: how kubectl names this kind in its messages."""
        return f"{self.singular}.{self.group}" if self.group else self.singular

    def api_resource(self) -> dict:
        verbs = ["create", "delete", "get", "list", "patch", "update", "watch"]
        out = {
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": verbs,
        }
        if self.short:
            out["shortNames"] = list(self.short)
        if self.categories:
            out["categories"] = list(self.categories)
        return out


def _r(
    group: str,
    version: str,
    plural: str,
    kind: str,
    namespaced: bool,
    *short: str,
    categories: tuple[str, ...] = (),
    status_subresource: bool = True,
) -> Resource:
    return Resource(group, version, plural, kind, namespaced, short, categories, status_subresource)


BUILTIN: tuple[Resource, ...] = (
    _r("", "v1", "namespaces", "Namespace", False, "ns"),
    _r("", "v1", "nodes", "Node", False, "no"),
    _r("", "v1", "pods", "Pod", True, "po", categories=("all",)),
    _r("", "v1", "services", "Service", True, "svc", categories=("all",)),
    _r("", "v1", "endpoints", "Endpoints", True, "ep", status_subresource=False),
    _r("", "v1", "events", "Event", True, "ev", status_subresource=False),
    _r("", "v1", "secrets", "Secret", True, status_subresource=False),
    _r("", "v1", "configmaps", "ConfigMap", True, "cm", status_subresource=False),
    _r("", "v1", "serviceaccounts", "ServiceAccount", True, "sa", status_subresource=False),
    _r("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, "pvc"),
    _r("", "v1", "persistentvolumes", "PersistentVolume", False, "pv"),
    _r("apps", "v1", "deployments", "Deployment", True, "deploy", categories=("all",)),
    _r("apps", "v1", "statefulsets", "StatefulSet", True, "sts", categories=("all",)),
    _r("apps", "v1", "daemonsets", "DaemonSet", True, "ds", categories=("all",)),
    _r("apps", "v1", "replicasets", "ReplicaSet", True, "rs", categories=("all",)),
    _r("batch", "v1", "jobs", "Job", True, categories=("all",)),
    _r(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        False,
        "crd",
        "crds",
    ),
    _r("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False, status_subresource=False),
    _r(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        "ClusterRoleBinding",
        False,
        status_subresource=False,
    ),
    _r("rbac.authorization.k8s.io", "v1", "roles", "Role", True, status_subresource=False),
    _r("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True, status_subresource=False),
    _r("networking.k8s.io", "v1", "ingresses", "Ingress", True, "ing"),
    _r("networking.k8s.io", "v1", "ingressclasses", "IngressClass", False, status_subresource=False),
    _r(
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        "NetworkPolicy",
        True,
        "netpol",
        status_subresource=False,
    ),
    _r("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, "sc", status_subresource=False),
    _r("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, "pdb"),
    _r("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", True, "hpa"),
    _r("", "v1", "resourcequotas", "ResourceQuota", True, "quota"),
    _r("", "v1", "limitranges", "LimitRange", True, "limits", status_subresource=False),
    _r("apiregistration.k8s.io", "v1", "apiservices", "APIService", False),
    _r(
        "admissionregistration.k8s.io",
        "v1",
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        False,
        status_subresource=False,
    ),
    _r(
        "admissionregistration.k8s.io",
        "v1",
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
        False,
        status_subresource=False,
    ),
)

# Preferred version order of the built-in groups in /apis, as a real API server lists them.
GROUP_ORDER = [
    "apps",
    "batch",
    "apiextensions.k8s.io",
    "rbac.authorization.k8s.io",
    "networking.k8s.io",
    "storage.k8s.io",
    "policy",
    "autoscaling",
    "admissionregistration.k8s.io",
    "apiregistration.k8s.io",
]


def resource_from_crd(crd: dict) -> Resource | None:
    """The served resource a CRD defines (its storage version), or None when the CRD is malformed."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    versions = [v for v in spec.get("versions") or [] if v.get("served", True)]
    if not (spec.get("group") and names.get("plural") and names.get("kind") and versions):
        return None
    version = next((v for v in versions if v.get("storage")), versions[0])
    columns = tuple(
        Column(
            c.get("name", ""),
            c.get("jsonPath", "").lstrip("."),
            c.get("type", "string"),
            c.get("priority", 0),
        )
        for c in version.get("additionalPrinterColumns") or []
    )
    return Resource(
        group=spec["group"],
        version=version["name"],
        plural=names["plural"],
        kind=names["kind"],
        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
        short=tuple(names.get("shortNames") or ()),
        categories=tuple(names.get("categories") or ()),
        status_subresource="status" in (version.get("subresources") or {}),
        columns=columns,
    )


class Registry:
    """Built-in resources plus the ones the stored CRDs define."""

    def __init__(self) -> None:
        self._builtin = {r.key: r for r in BUILTIN}
        self._custom: dict[tuple[str, str], Resource] = {}

    def set_crds(self, crds: list[dict]) -> None:
        custom = {}
        for crd in crds:
            res = resource_from_crd(crd)
            if res is not None and res.key not in self._builtin:
                custom[res.key] = res
        self._custom = custom

    def all(self) -> list[Resource]:
        return [*self._builtin.values(), *self._custom.values()]

    def by_path(self, group: str, version: str, plural: str) -> Resource | None:
        res = self._builtin.get((group, plural)) or self._custom.get((group, plural))
        return res if res is not None and res.version == version else None

    def by_key(self, group: str, plural: str) -> Resource | None:
        return self._builtin.get((group, plural)) or self._custom.get((group, plural))

    def by_kind(self, api_version: str, kind: str) -> Resource | None:
        for res in self.all():
            if res.kind == kind and res.api_version == api_version:
                return res
        return None

    def groups(self) -> dict[str, list[str]]:
        """group -> served versions, built-in groups first in their usual order."""
        out: dict[str, list[str]] = {}
        for res in sorted(
            self.all(),
            key=lambda r: (
                GROUP_ORDER.index(r.group) if r.group in GROUP_ORDER else len(GROUP_ORDER),
                r.group,
            ),
        ):
            if res.group and res.version not in out.setdefault(res.group, []):
                out[res.group].append(res.version)
        return out

    # -- discovery documents -------------------------------------------------------------------------------
    def api_versions(self, server_address: str) -> dict:
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
        }

    def api_group(self, group: str) -> dict | None:
        versions = self.groups().get(group)
        if not versions:
            return None
        entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {
            "kind": "APIGroup",
            "apiVersion": "v1",
            "name": group,
            "versions": entries,
            "preferredVersion": entries[0],
        }

    def api_group_list(self) -> dict:
        groups = [self.api_group(g) for g in self.groups()]
        for g in groups:
            if g is not None:
                del g["kind"], g["apiVersion"]
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def api_resource_list(self, group: str, version: str) -> dict | None:
        resources = [r for r in self.all() if r.group == group and r.version == version]
        if not resources:
            return None
        listed: list[dict] = []
        for res in sorted(resources, key=lambda r: r.plural):
            listed.append(res.api_resource())
            if res.status_subresource:
                listed.append(
                    {
                        "name": f"{res.plural}/status",
                        "singularName": "",
                        "namespaced": res.namespaced,
                        "kind": res.kind,
                        "verbs": ["get", "patch", "update"],
                    }
                )
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version,
            "resources": listed,
        }
