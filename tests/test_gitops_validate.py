"""Every rendered document against upstream schemas: Application CRD, CRDs, core kinds, chart values schemas."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from skynet_tui import gitops, spec
from skynet_tui.gitops.render import render_tree
from tests.gitops_helpers import (
    APPLICATION_SCHEMA,
    cluster_all,
    cluster_backup,
    cluster_dns01,
    cluster_minimal,
    documents,
    k8s_minor,
    validate_document,
    validate_tree,
)
from tests.tools import require

SPECS = {
    "all-components": cluster_all,
    "minimal": cluster_minimal,
    "backup-volumes": cluster_backup,
    "backup-etcd-only": lambda data: cluster_backup(data, volumes=False),
    "dns01-image-security": cluster_dns01,
    "dns01-route53": lambda data: cluster_dns01(data, provider="route53", token_env="AWS_DNS"),
    "external-dns-route53": lambda data: cluster_dns01(data, "route53", "AWS_DNS", external_dns=True),
    "external-dns-digitalocean": lambda data: cluster_dns01(
        data, "digitalocean", "DO_TOKEN", external_dns=True
    ),
}


@pytest.fixture(params=sorted(SPECS))
def rendered(request, example_data):
    cluster = SPECS[request.param](example_data)
    return cluster, render_tree(cluster)


def test_every_document_is_valid(rendered):
    cluster, files = rendered
    assert validate_tree(files, k8s_minor(cluster)) == []


def test_applications_are_checked_against_the_application_crd(rendered):
    assert APPLICATION_SCHEMA.is_file()
    _, files = rendered
    kinds = {
        doc["kind"]
        for path in files
        if path.startswith(("apps/", "bootstrap/"))
        for doc in documents(files, path)
    }
    assert kinds == {"Application"}


CORRUPTIONS = [
    # (file, old, new, expected error fragment)
    (
        "apps/traefik.yaml",
        "prune: true",
        "prun: true",
        "apps/traefik.yaml: document 1 (Application traefik): spec.syncPolicy.automated: "
        "Additional properties are not allowed ('prun' was unexpected)",
    ),
    (
        "bootstrap/root.yaml",
        "recurse: false",
        'recurse: "no"',
        "bootstrap/root.yaml: document 1 (Application root): spec.source.directory.recurse: 'no' is not of type 'boolean'",
    ),
    (
        "config/metallb/l2-pool.yaml",
        "ipAddressPools:",
        "ipAdressPools:",
        "config/metallb/l2-pool.yaml: document 2 (L2Advertisement default): spec: Additional properties",
    ),
    (
        "config/cert-manager/cluster-issuers.yaml",
        "ingressClassName: traefik",
        "ingressClassName: [traefik]",
        "config/cert-manager/cluster-issuers.yaml: document 1 (ClusterIssuer letsencrypt-staging): "
        "spec.acme.solvers[0].http01.ingress.ingressClassName: ['traefik'] is not of type 'string'",
    ),
    (
        "config/policies/network-policies.yaml",
        "port: 53",
        "prt: 53",
        "config/policies/network-policies.yaml: document 2 (NetworkPolicy allow-dns): spec.egress[0].ports[0]",
    ),
    (
        "values/traefik.yaml",
        "allowACMEByPass: true",
        "allowAcmeBypass: true",
        "values/traefik.yaml: values of chart traefik 41.3.0: ports.web: Additional properties are not allowed",
    ),
    (
        "values/metallb.yaml",
        "ignoreExcludeLB: false",
        "ignoreExcludeLB: nope",
        "values/metallb.yaml: values of chart metallb 0.16.1: speaker.ignoreExcludeLB: 'nope' is not of type 'boolean'",
    ),
    (
        "values/cert-manager.yaml",
        "  keep: true",
        "  kep: true",
        "values/cert-manager.yaml: values of chart cert-manager v1.21.1: crds: Additional properties are not allowed",
    ),
    (
        "values/external-dns.yaml",
        "policy: sync",
        "policy: mirror",
        "values/external-dns.yaml: values of chart external-dns 1.21.1: policy: 'mirror' is not one of",
    ),
]


@pytest.mark.parametrize(
    ("path", "old", "new", "expected"), CORRUPTIONS, ids=[c[0] + ":" + c[2] for c in CORRUPTIONS]
)
def test_one_corrupted_field_fails_with_its_path(example_data, path, old, new, expected):
    cluster = cluster_all(example_data) if "external-dns" in path else spec.parse(example_data)
    files = render_tree(cluster)
    assert old in files[path]
    corrupted = {**files, path: files[path].replace(old, new, 1)}
    errors = validate_tree(corrupted, k8s_minor(cluster))
    assert len(errors) == 1, errors
    assert errors[0].startswith(expected), errors[0]


def test_metallb_values_alone_fail_its_schema_without_chart_defaults(example_data):
    # The reason validate_values merges onto chart defaults: the schema requires keys only defaults carry.
    from tests.gitops_helpers import helm_validator

    values = yaml.safe_load(render_tree(spec.parse(example_data))["values/metallb.yaml"])
    assert list(helm_validator("metallb").iter_errors(values))


def test_custom_resource_without_a_schema_is_an_error():
    doc = {"apiVersion": "example.io/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert "no schema for example.io/v1 Widget" in validate_document("config/x/w.yaml", 1, doc, "1.36")[0]


def test_bootstrap_secrets_are_valid_core_objects(example_data):
    cluster = cluster_dns01(example_data)
    env = {"CF_API_TOKEN": "cf-token-1234567890", "GIT_TOKEN": "ghp_token_abcdefghij"}
    manifests = gitops.bootstrap_secrets(cluster, env, grafana_password="p" * 24)
    for index, doc in enumerate(manifests, start=1):
        assert validate_document("bootstrap-secrets", index, doc, k8s_minor(cluster)) == []


def test_kubectl_kustomize_builds_every_config_folder(example_data, tmp_path):
    kubectl = require(
        "kubectl", "Argo CD builds the config/ folders with kustomize, as `kubectl kustomize` does"
    )
    files = render_tree(cluster_all(example_data))
    for path, text in files.items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    folders = sorted({path.rsplit("/", 1)[0] for path in files if path.startswith("config/")})
    assert folders == [
        "config/cert-manager", "config/etcd-backup", "config/metallb", "config/policies", "config/traefik",
    ]  # fmt: skip
    assert "external-dns.alpha.kubernetes.io/target" in files["config/traefik/dashboard.yaml"]
    for folder in folders:
        result = subprocess.run(
            [kubectl, "kustomize", str(tmp_path / folder)], capture_output=True, text=True
        )
        assert result.returncode == 0, f"{folder}: {result.stderr}"
        built = {(d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(result.stdout) if d}
        expected = {
            (d["kind"], d["metadata"]["name"])
            for path in files
            if path.startswith(folder + "/") and not path.endswith("kustomization.yaml")
            for d in documents(files, path)
        }
        assert built == expected, folder
