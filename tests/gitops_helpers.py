"""GitOps test helpers: representative answers, and validation of a rendered tree against upstream schemas."""

from __future__ import annotations

import copy
import json
import posixpath
from functools import cache
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from skynet_tui import spec
from skynet_tui.gitops.charts import BY_NAME
from skynet_tui.spec import Cluster
from tests.conftest import DATA

CRD_SCHEMAS = DATA / "schemas" / "crds"
HELM_SCHEMAS = DATA / "schemas" / "helm"
APPLICATION_SCHEMA = CRD_SCHEMAS / "argoproj.io" / "application_v1alpha1.json"

# API groups served by Kubernetes itself: validated with kubernetes-validate. Anything else needs a CRD schema.
CORE_GROUPS = {
    "",
    "apps",
    "batch",
    "autoscaling",
    "policy",
    "networking.k8s.io",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
}

# The chart defaults (metallb 0.16.1 values.yaml) that its values.schema.json requires. Helm validates the
# merged values, so overrides are merged onto these first.
METALLB_DEFAULTS: dict[str, Any] = {
    "prometheus": {
        "podMonitor": {"enabled": False},
        "prometheusRule": {
            "enabled": False,
            "staleConfig": {"enabled": True},
            "configNotLoaded": {"enabled": True},
            "addressPoolExhausted": {"enabled": True},
            "addressPoolUsage": {
                "enabled": True,
                "thresholds": [{"percent": 75}, {"percent": 85}, {"percent": 95}],
            },
            "bgpSessionDown": {"enabled": True},
        },
    },
    "controller": {
        "enabled": True,
        "image": {"repository": "quay.io/metallb/controller"},
        "strategy": {"type": "RollingUpdate"},
        "serviceAccount": {"create": True, "name": ""},
    },
    "speaker": {
        "enabled": True,
        "tolerateMaster": True,
        "ignoreExcludeLB": False,
        "image": {"repository": "quay.io/metallb/speaker"},
        "updateStrategy": {"type": "RollingUpdate"},
        "serviceAccount": {"create": True, "name": ""},
        "frr": {"enabled": False},
    },
    "crds": {"enabled": True, "validationFailurePolicy": "Fail"},
    "frrk8s": {"enabled": True},
}
# velero 12.1.0 vendors its whole values.yaml beside the schema (its schema requires image.tag and more).
CHART_DEFAULTS: dict[str, dict[str, Any]] = {
    "metallb": METALLB_DEFAULTS,
    "velero": yaml.safe_load((HELM_SCHEMAS / "velero" / "values.yaml").read_text()),
}


BACKUP_ENV = {
    "BACKUP_S3_ACCESS_KEY": "AKIABACKUPKEY0123456",
    "BACKUP_S3_SECRET_KEY": "s3-secret-backup-value-0123456789",
}
BACKUP = {
    "schedule": "0 */6 * * *",
    "s3": {
        "endpoint": "https://s3.example.com",
        "bucket": "skynet-backups",
        "region": "eu-west-1",
        "accessKeyEnv": "BACKUP_S3_ACCESS_KEY",
        "secretKeyEnv": "BACKUP_S3_SECRET_KEY",
    },
    "ageRecipient": "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
}


# ---------------------------------------------------------------- representative answers


def cluster_all(data: dict) -> Cluster:
    """Every component on, three control planes and two workers (the example answers); DNS-01 through
    Cloudflare, which external-dns needs; scheduled backups with the volumes."""
    data = copy.deepcopy(data)
    data["spec"]["backup"] = {**copy.deepcopy(BACKUP), "volumes": True}
    data["spec"]["components"] = {
        info.alias or name: True for name, info in spec.Components.model_fields.items()
    }
    data["spec"]["ingress"]["acme"] |= {
        "challenge": "dns01",
        "dns01": {"provider": "cloudflare", "tokenEnv": "CF_API_TOKEN"},
    }
    return spec.parse(data)


def cluster_minimal(data: dict) -> Cluster:
    """One control plane, no workers, every optional component off, a CIDR pool, a nested GitOps folder."""
    data = copy.deepcopy(data)
    data["metadata"]["name"] = "tiny"
    data["spec"]["nodes"] = [data["spec"]["nodes"][0]]
    data["spec"]["controlPlane"] = {"endpoint": data["spec"]["nodes"][0]["ip"], "vip": False}
    data["spec"]["loadBalancer"] = {"addresses": ["192.168.10.192/28"]}
    data["spec"]["gitops"] = {
        "repoURL": "https://git.example.org/lab/tiny.git",
        "branch": "prod",
        "path": "clusters/tiny",
    }
    data["spec"]["components"] = {
        "monitoring": False,
        "logging": False,
        "tracing": False,
        "storage": False,
        "vpa": False,
        "policies": False,
        "imageSecurity": False,
        "metrics": False,
        "externalDNS": False,
    }
    return spec.parse(data)


def cluster_dns01(
    data: dict, provider: str = "cloudflare", token_env: str = "CF_API_TOKEN", *, external_dns: bool = False
) -> Cluster:
    """DNS-01 challenge, image security on, a private repository read with an HTTPS token; external-dns on
    the same provider when asked."""
    data = copy.deepcopy(data)
    data["spec"]["ingress"]["acme"] = {
        "email": "ops@example.com",
        "server": "production",
        "challenge": "dns01",
        "dns01": {"provider": provider, "tokenEnv": token_env},
    }
    data["spec"]["gitops"]["repoURL"] = "https://git.example.org/lab/homelab.git"
    data["spec"]["gitops"]["credentials"] = {"tokenEnv": "GIT_TOKEN"}
    data["spec"].setdefault("components", {})["imageSecurity"] = True
    data["spec"]["components"]["externalDNS"] = external_dns
    return spec.parse(data)


def cluster_backup(data: dict, *, volumes: bool = True) -> Cluster:
    """Scheduled etcd backups to an S3-compatible bucket, and the volumes with Velero when asked."""
    data = copy.deepcopy(data)
    data["spec"]["backup"] = {**copy.deepcopy(BACKUP), "volumes": volumes}
    return spec.parse(data)


def k8s_minor(cluster: Cluster) -> str:
    major, minor, _ = cluster.spec.kubernetes.version.split(".")
    return f"{major}.{minor}"


# ---------------------------------------------------------------- schemas (each loaded once per process)


def _json_path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out or "(root)"


def _validator_class(schema: dict[str, Any]) -> type:
    # metallb's "$schema" is spelled https://…draft-07… which jsonschema does not recognise: pick explicitly.
    return (
        jsonschema.Draft7Validator
        if "draft-07" in str(schema.get("$schema", ""))
        else jsonschema.Draft202012Validator
    )


@cache
def crd_validator(group: str, kind: str, version: str) -> Any | None:
    path = CRD_SCHEMAS / group / f"{kind.lower()}_{version}.json"
    if not path.is_file():
        return None
    schema = json.loads(path.read_text())
    return _validator_class(schema)(schema)


@cache
def helm_validator(chart: str) -> Any | None:
    path = HELM_SCHEMAS / chart / "values.schema.json"
    if not path.is_file():
        return None
    schema = json.loads(path.read_text())
    return _validator_class(schema)(schema)


def deep_merge(base: Any, override: Any) -> Any:
    """Helm's merge of a values file onto chart defaults (maps merge, everything else replaces)."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = deep_merge(base[key], value) if key in base else value
        return merged
    return copy.deepcopy(override)


def _schema_errors(validator: Any, instance: Any, where: str) -> list[str]:
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{where}: {_json_path(e.absolute_path)}: {e.message}" for e in errors]


def validate_document(path: str, index: int, doc: dict[str, Any], minor: str) -> list[str]:
    """Errors of one Kubernetes object: CRD schema for custom resources, kubernetes-validate for core kinds."""
    api_version, kind = doc.get("apiVersion", ""), doc.get("kind", "")
    group, _, version = api_version.rpartition("/")
    name = (doc.get("metadata") or {}).get("name", "?")
    where = f"{path}: document {index} ({kind} {name})"
    if group not in CORE_GROUPS:
        validator = crd_validator(group, kind, version)
        if validator is None:
            return [f"{where}: no schema for {api_version} {kind} under {CRD_SCHEMAS}"]
        return _schema_errors(validator, doc, where)
    try:
        kubernetes_validate.validate(doc, minor, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{where}: {_json_path(exc.path)}: {exc.message}"]
    except kubernetes_validate.SchemaNotFoundError:
        return [f"{where}: kubernetes-validate has no schema for {api_version} {kind} in Kubernetes {minor}"]
    return []


def validate_values(path: str, values: Any) -> list[str]:
    """Errors of values/<app>.yaml against its chart's values.schema.json (merged onto defaults), if any."""
    app = BY_NAME[posixpath.basename(path).removesuffix(".yaml")]
    validator = helm_validator(app.chart)
    if validator is None:
        return []
    merged = deep_merge(CHART_DEFAULTS.get(app.chart, {}), values or {})
    return _schema_errors(validator, merged, f"{path}: values of chart {app.chart} {app.version}")


def validate_tree(files: dict[str, str], minor: str) -> list[str]:
    """Every schema error in a rendered tree, each naming file, document and field path."""
    errors: list[str] = []
    for path, text in sorted(files.items()):
        if not path.endswith(".yaml"):
            continue
        documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
        if path.startswith("values/"):
            errors += validate_values(path, documents[0] if documents else {})
        elif posixpath.basename(path) != "kustomization.yaml":
            for index, doc in enumerate(documents, start=1):
                errors += validate_document(path, index, doc, minor)
    return errors


def documents(files: dict[str, str], path: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(files[path]) if doc is not None]
