"""The lab's resource metrics API: metrics-server's chart registers metrics.k8s.io, and `kubectl top` reads it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from kubernetes.client.rest import ApiException

from skynet_lab.kubesim import metrics
from tests.lab_kube_helpers import (
    kubectl_apply,
    run,
    running_lab,
    watch_until,
)
from tests.tools import require

pytestmark = pytest.mark.lab


@pytest.fixture
def lab(tmp_path: Path):
    """A bootstrapped 1+1 lab state, its mock API, a kubeconfig, a kubernetes client and the fakes' env."""
    with running_lab(tmp_path) as running:
        yield running


def _install_metrics_server(lab) -> str:
    """What Argo CD does with the metrics app: the chart at the pinned version, applied server-side."""
    values = lab.tmp / "metrics-server.yaml"
    values.write_text("args: []\n")
    helm = run(
        ["helm", "template", "metrics-server", "metrics-server", "--repo",
         "https://kubernetes-sigs.github.io/metrics-server/", "--version", "3.13.1",
         "--namespace", "metrics-server", "-f", str(values)],
        lab.env,
    )  # fmt: skip
    assert helm.returncode == 0, helm.stderr
    namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: metrics-server\n---\n"
    applied = run(kubectl_apply(lab.kubeconfig), lab.env, namespace + helm.stdout)
    assert applied.returncode == 0, applied.stderr
    assert "apiservice.apiregistration.k8s.io/v1beta1.metrics.k8s.io serverside-applied" in applied.stdout
    return helm.stdout


def _available(lab) -> None:
    def available(objs: dict) -> bool:
        api = objs.get(metrics.API_SERVICE) or {}
        return any(
            c["type"] == "Available" and c["status"] == "True"
            for c in (api.get("status") or {}).get("conditions") or []
        )

    watch_until(
        lambda **kw: lab.custom.list_cluster_custom_object(
            "apiregistration.k8s.io", "v1", "apiservices", **kw
        ),
        available,
        timeout=30,
    )


def test_the_metrics_api_is_served_once_metrics_server_runs(lab) -> None:
    groups = {g.name for g in lab.apis.get_api_versions().groups}
    assert "metrics.k8s.io" not in groups  # no APIService, no group
    with pytest.raises(ApiException) as missing:
        lab.custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")
    assert missing.value.status == 404

    rendered = _install_metrics_server(lab)
    assert "--kubelet-insecure-tls" not in rendered
    _available(lab)
    assert "metrics.k8s.io" in {g.name for g in lab.apis.get_api_versions().groups}

    nodes = lab.custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")
    assert nodes["kind"] == "NodeMetricsList"
    assert {item["metadata"]["name"] for item in nodes["items"]} == {"cp-1", "worker-1"}
    for item in nodes["items"]:
        assert item["window"] == "15s" and item["timestamp"].endswith("Z")
        assert item["usage"]["cpu"].endswith("n") and item["usage"]["memory"].endswith("Ki")
        assert item["metadata"]["labels"]["kubernetes.io/hostname"] == item["metadata"]["name"]
    one = lab.custom.get_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes", "worker-1")
    assert one["kind"] == "NodeMetrics" and one["usage"] == nodes["items"][1]["usage"]  # steady values
    selected = lab.custom.list_cluster_custom_object(
        "metrics.k8s.io", "v1beta1", "nodes", label_selector="kubernetes.io/hostname=cp-1"
    )
    assert [item["metadata"]["name"] for item in selected["items"]] == ["cp-1"]

    pods = lab.custom.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", "kube-system", "pods")
    running = [
        p.metadata.name
        for p in lab.core.list_namespaced_pod("kube-system").items
        if p.status.phase == "Running"
    ]
    assert {item["metadata"]["name"] for item in pods["items"]} == set(running) and running
    for item in pods["items"]:
        assert item["kind"] == "PodMetrics" and item["containers"]
        assert all(c["usage"]["cpu"].endswith("n") for c in item["containers"])


def test_the_metrics_api_is_unavailable_while_its_service_has_no_ready_pod(lab) -> None:
    document = {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": metrics.API_SERVICE},
        "spec": {
            "group": "metrics.k8s.io", "version": "v1beta1", "groupPriorityMinimum": 100, "versionPriority": 100,
            "service": {"name": "metrics-server", "namespace": "nowhere", "port": 443},
        },
    }  # fmt: skip
    applied = run(kubectl_apply(lab.kubeconfig), lab.env, json.dumps(document))
    assert applied.returncode == 0, applied.stderr

    def unavailable(objs: dict) -> bool:
        conditions = ((objs.get(metrics.API_SERVICE) or {}).get("status") or {}).get("conditions") or []
        return any(c["type"] == "Available" and c["reason"] == "MissingEndpoints" for c in conditions)

    watch_until(
        lambda **kw: lab.custom.list_cluster_custom_object(
            "apiregistration.k8s.io", "v1", "apiservices", **kw
        ),
        unavailable,
    )
    assert "metrics.k8s.io" in {g.name for g in lab.apis.get_api_versions().groups}
    with pytest.raises(ApiException) as busy:
        lab.custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")
    assert busy.value.status == 503


def test_real_kubectl_top_reads_the_lab(lab) -> None:
    kubectl = require("kubectl", "the check is what `kubectl top` reads from the lab's metrics API")
    _install_metrics_server(lab)
    _available(lab)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(lab.tmp)}  # the real kubectl, no fake on PATH

    def top(*args: str) -> list[list[str]]:
        out = subprocess.run(
            [kubectl, "--kubeconfig", str(lab.kubeconfig), "top", *args],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        return [line.split() for line in out.stdout.splitlines()]

    nodes = top("node")
    assert nodes[0][:5] == ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
    assert {row[0] for row in nodes[1:]} == {"cp-1", "worker-1"}
    # Percentages come from each Node's allocatable, which kubectl reads from /api/v1/nodes.
    assert all(row[1].endswith("m") and row[2].endswith("%") and row[3].endswith("Mi") for row in nodes[1:])
    pods = top("pod", "-A")
    assert pods[0][:2] == ["NAMESPACE", "NAME"]
    assert any(row[0] == "kube-system" and row[1].startswith("kube-apiserver-") for row in pods[1:])
