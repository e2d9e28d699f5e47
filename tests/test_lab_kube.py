"""The lab's Kubernetes side: mock API (real kubernetes client, real kubectl), fake kubectl/helm, Argo CD simulation."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from skynet_lab import state
from skynet_lab.kube import MockKubeAPI
from skynet_lab.kubesim.patches import (
    PatchError,
    json_patch,
    match_labels,
    merge_patch,
    parse_label_selector,
)
from skynet_lab.kubesim.store import Store
from tests.lab_kube_helpers import (
    ARGOCD_VALUES,
    WAVES,
    app_state,
    application,
    install_argocd,
    kubectl_apply,
    platform_repo,
    run,
    running_lab,
    watch_until,
    write_kubeconfig,
    write_lab,
)
from tests.tools import require

pytestmark = pytest.mark.lab  # every test here runs the simulated lab (or a part of it)


@pytest.fixture
def lab(tmp_path: Path):
    """A bootstrapped 1+1 lab state, its mock API, a kubeconfig, a kubernetes client and the fakes' env."""
    with running_lab(tmp_path) as running:
        yield running


def ready(node: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"].get("conditions") or [])


# -- the API itself ----------------------------------------------------------------------------------------------
def test_nodes_come_from_the_simulated_machines(lab) -> None:
    nodes = watch_until(lab.core.list_node, lambda objs: len(objs) == 2 and all(map(ready, objs.values())))
    cp, worker = nodes["cp-1"], nodes["worker-1"]
    assert "node-role.kubernetes.io/control-plane" in cp["metadata"]["labels"]
    assert "node.kubernetes.io/exclude-from-external-load-balancers" in cp["metadata"]["labels"]
    assert "node-role.kubernetes.io/control-plane" not in worker["metadata"]["labels"]
    for node in nodes.values():
        assert node["metadata"]["labels"]["skynet.dev/simulated"] == "true"
        assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.36.3"
        assert node["status"]["nodeInfo"]["osImage"] == "Talos (v1.13.9)"
    assert {
        a["address"] for n in nodes.values() for a in n["status"]["addresses"] if a["type"] == "InternalIP"
    } == set(lab.ips)
    # kube-system comes up once bootstrapped: static control-plane pods, kube-proxy and flannel per node, CoreDNS.
    pods = watch_until(
        lab.core.list_namespaced_pod,
        lambda objs: sum(1 for p in objs.values() if p["status"].get("phase") == "Running") >= 9,
        namespace="kube-system",
    )
    assert {"kube-apiserver-cp-1", "kube-controller-manager-cp-1", "kube-scheduler-cp-1"} <= set(pods)
    assert sum(1 for name in pods if name.startswith("kube-flannel-")) == 2


def test_a_node_appears_only_once_its_kubelet_registers(tmp_path: Path) -> None:
    root = tmp_path / "lab"
    write_lab(root, control_planes=1, workers=1)
    worker = "127.0.250.21"
    state.update_node(root, worker, lambda n: n.update(applied_at=None))  # still in maintenance mode
    with MockKubeAPI(root, tick=0.02) as api:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", api.url)
        core = k8s.CoreV1Api(k8s_config.new_client_from_config(config_file=str(kubeconfig)))
        watch_until(core.list_node, lambda objs: set(objs) == {"cp-1"} and ready(objs["cp-1"]))
        seen: list[tuple[str, str]] = []

        def record(kind: str, obj: dict) -> None:
            seen.append((kind, obj["metadata"]["name"]))
            if kind == "LISTED":  # the machine installs only after the list: its Node must arrive by watch
                state.update_node(root, worker, lambda n: n.update(applied_at=1.0))

        watch_until(core.list_node, lambda objs: "worker-1" in objs, on_event=record)
        assert seen[0] == ("LISTED", "cp-1")
        assert ("ADDED", "worker-1") in seen


def test_watch_sees_an_object_created_during_it(lab) -> None:
    """An open watch gets the ADDED of an object created meanwhile, filtered by label; timeoutSeconds ends it."""
    listed = json.loads(lab.core.list_namespaced_config_map("default", _preload_content=False).data)
    stream = lab.core.list_namespaced_config_map(
        "default",
        watch=True,
        resource_version=listed["metadata"]["resourceVersion"],
        label_selector="app=x",
        timeout_seconds=1,
        _preload_content=False,
    )  # returns once the server has answered: the watch is open
    lab.core.create_namespaced_config_map("default", {"metadata": {"name": "other"}})
    lab.core.create_namespaced_config_map("default", {"metadata": {"name": "during", "labels": {"app": "x"}}})
    lines = [
        json.loads(line) for line in stream.read().decode().splitlines() if line
    ]  # read() returns at close
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in lines] == [("ADDED", "during")]
    assert lines[0]["object"]["kind"] == "ConfigMap"


def test_list_label_and_field_selectors_and_pages(lab) -> None:
    for i in range(5):
        lab.core.create_namespaced_config_map(
            "default", {"metadata": {"name": f"cm-{i}", "labels": {"tier": "a" if i < 3 else "b"}}}
        )
    names = lambda resp: [o["metadata"]["name"] for o in json.loads(resp.data)["items"]]  # noqa: E731
    assert names(
        lab.core.list_namespaced_config_map("default", label_selector="tier=a", _preload_content=False)
    ) == ["cm-0", "cm-1", "cm-2"]
    assert names(
        lab.core.list_namespaced_config_map(
            "default", label_selector="tier in (b),tier!=a", _preload_content=False
        )
    ) == ["cm-3", "cm-4"]
    assert names(
        lab.core.list_namespaced_config_map(
            "default", field_selector="metadata.name=cm-4", _preload_content=False
        )
    ) == ["cm-4"]
    page = json.loads(lab.core.list_namespaced_config_map("default", limit=2, _preload_content=False).data)
    assert len(page["items"]) == 2 and page["metadata"]["remainingItemCount"] >= 3
    rest = json.loads(
        lab.core.list_namespaced_config_map(
            "default", _continue=page["metadata"]["continue"], _preload_content=False
        ).data
    )
    assert [o["metadata"]["name"] for o in page["items"] + rest["items"]][:5] == [f"cm-{i}" for i in range(5)]


def test_errors_are_status_objects(lab) -> None:
    with pytest.raises(k8s.ApiException) as missing:
        lab.core.read_namespaced_config_map("nope", "default")
    assert missing.value.status == 404
    assert json.loads(missing.value.body)["message"] == 'configmaps "nope" not found'
    with pytest.raises(k8s.ApiException) as no_ns:
        lab.core.create_namespaced_config_map("ghost", {"metadata": {"name": "x"}})
    assert json.loads(no_ns.value.body)["message"] == 'namespaces "ghost" not found'


def test_store_patches_and_selectors() -> None:
    assert merge_patch({"a": {"b": 1, "c": 2}, "l": [1]}, {"a": {"b": None, "d": 3}, "l": [2]}) == {
        "a": {"c": 2, "d": 3},
        "l": [2],
    }
    assert json_patch(
        {"a": [1, 2]},
        [{"op": "add", "path": "/a/-", "value": 3}, {"op": "replace", "path": "/a/0", "value": 0}],
    ) == {"a": [0, 2, 3]}
    with pytest.raises(PatchError):
        json_patch({"a": 1}, [{"op": "test", "path": "/a", "value": 2}])
    reqs = parse_label_selector("app=web,tier in (a, b),!legacy,env")
    assert match_labels(reqs, {"app": "web", "tier": "b", "env": "x"})
    assert not match_labels(reqs, {"app": "web", "tier": "c", "env": "x"})
    assert not match_labels(reqs, {"app": "web", "tier": "a", "env": "x", "legacy": "1"})
    store = Store()
    ns = store.registry.by_key("", "namespaces")
    first, created = store.apply(
        ns, "", "x", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}, manager="m"
    )
    again, created_again = store.apply(
        ns, "", "x", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}, manager="m"
    )
    assert created and not created_again
    assert again["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]  # a no-op apply


# -- fake kubectl and helm ---------------------------------------------------------------------------------------
@pytest.mark.slow
def test_fake_kubectl_server_side_apply_get_and_errors(lab) -> None:
    manifest = lab.tmp / "app.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: demo\ndata:\n  a: '1'\n---\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: demo\nspec:\n  replicas: 1\n"
        "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
        "    spec: {containers: [{name: web, image: nginx}]}\n"
    )
    out = run(kubectl_apply(lab.kubeconfig, str(manifest)), lab.env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "namespace/demo serverside-applied",
        "configmap/settings serverside-applied",
        "deployment.apps/web serverside-applied",
    ]
    before = lab.core.read_namespaced_config_map("settings", "demo").metadata.resource_version
    assert run(kubectl_apply(lab.kubeconfig, str(manifest)), lab.env).returncode == 0
    assert lab.core.read_namespaced_config_map("settings", "demo").metadata.resource_version == before
    got = run(
        ["kubectl", "--kubeconfig", str(lab.kubeconfig), "get", "configmaps", "-n", "demo", "-o", "json"],
        lab.env,
    )
    doc = json.loads(got.stdout)
    assert (
        doc["kind"] == "List"
        and doc["items"][0]["kind"] == "ConfigMap"
        and "managedFields" not in doc["items"][0]["metadata"]
    )
    everywhere = run(
        ["kubectl", "--kubeconfig", str(lab.kubeconfig), "get", "deploy", "-A", "-o", "yaml"], lab.env
    )
    assert "web" in {d["metadata"]["name"] for d in yaml.safe_load(everywhere.stdout)["items"]}
    as_yaml = run(
        ["kubectl", "--kubeconfig", str(lab.kubeconfig), "get", "namespace", "demo", "-o", "yaml"], lab.env
    )
    assert yaml.safe_load(as_yaml.stdout)["metadata"]["name"] == "demo"
    # Errors in kubectl's words, exit code 1.
    crd_missing = run(
        kubectl_apply(lab.kubeconfig),
        lab.env,
        "apiVersion: example.test/v1\nkind: Widget\nmetadata: {name: w, namespace: demo}\n",
    )
    assert crd_missing.returncode == 1
    assert 'no matches for kind "Widget" in version "example.test/v1"' in crd_missing.stderr
    no_ns = run(
        kubectl_apply(lab.kubeconfig),
        lab.env,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ghost}\n",
    )
    assert no_ns.returncode == 1
    assert (
        no_ns.stderr.strip()
        == 'Error from server (NotFound): error when serverside-apply "STDIN": namespaces "ghost" not found'
    )
    missing = run(
        ["kubectl", "--kubeconfig", str(lab.kubeconfig), "get", "pod", "nope", "-o", "yaml"], lab.env
    )
    assert (missing.returncode, missing.stderr.strip()) == (
        1,
        'Error from server (NotFound): pods "nope" not found',
    )
    client_side = run(["kubectl", "--kubeconfig", str(lab.kubeconfig), "apply", "-f", str(manifest)], lab.env)
    assert client_side.returncode == 1 and client_side.stderr.startswith("error: ")
    unknown = run(["kubectl", "frobnicate"], lab.env)
    assert unknown.returncode == 1 and 'unknown command "frobnicate" for "kubectl"' in unknown.stderr
    version = run(["kubectl", "version", "--client", "-o", "json"], lab.env)
    assert json.loads(version.stdout)["clientVersion"]["gitVersion"].startswith("v1.")


def test_fake_kubectl_refuses_what_it_does_not_simulate(lab) -> None:
    table = run(["kubectl", "--kubeconfig", str(lab.kubeconfig), "get", "nodes"], lab.env)
    assert table.returncode == 1 and "add -o yaml or -o json" in table.stderr
    server = run(["kubectl", "--kubeconfig", str(lab.kubeconfig), "version"], lab.env)
    assert server.returncode == 1 and "add --client" in server.stderr


def test_fake_helm_renders_argocd(lab) -> None:
    values = lab.tmp / "values.yaml"
    values.write_text(ARGOCD_VALUES)
    out = run(
        ["helm", "template", "argocd", "argo-cd", "--repo", "https://argoproj.github.io/argo-helm", "--version", "10.1.1",
         "--namespace", "argocd", "--include-crds", "-f", str(values)],
        lab.env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    docs = [d for d in yaml.safe_load_all(out.stdout) if d]
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert {
        ("CustomResourceDefinition", "applications.argoproj.io"),
        ("CustomResourceDefinition", "applicationsets.argoproj.io"),
        ("CustomResourceDefinition", "appprojects.argoproj.io"),
        ("ConfigMap", "argocd-cm"),
        ("ConfigMap", "argocd-rbac-cm"),
        ("Deployment", "argocd-server"),
        ("Deployment", "argocd-repo-server"),
        ("Deployment", "argocd-redis"),
        ("Deployment", "argocd-applicationset-controller"),
        ("StatefulSet", "argocd-application-controller"),
        ("Service", "argocd-server"),
    } <= kinds
    assert not any(d["kind"] == "Namespace" for d in docs)
    assert all(
        d["metadata"]["namespace"] == "argocd"
        for d in docs
        if d["kind"] not in ("CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding")
    )
    cm = next(d for d in docs if d["metadata"]["name"] == "argocd-cm")
    assert "resource.customizations.health.argoproj.io_Application" in cm["data"]
    assert out.stdout.startswith("---\n# Source: argo-cd/templates/")
    short = run(["helm", "version", "--short"], lab.env)
    assert short.returncode == 0 and short.stdout.startswith("v3.")
    bad = run(["helm", "template", "x", "argo-cd", "-f", str(lab.tmp / "missing.yaml")], lab.env)
    assert (bad.returncode, bad.stderr.strip()) == (
        1,
        f"Error: open {lab.tmp / 'missing.yaml'}: no such file or directory",
    )
    assert run(["helm", "install", "x", "y"], lab.env).returncode == 1


def test_real_kubectl_reads_the_mock_api(lab) -> None:
    kubectl = require("kubectl", "the check is what the real kubectl reads from the mock API")
    watch_until(lab.core.list_node, lambda objs: len(objs) == 2 and all(map(ready, objs.values())))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(lab.tmp)}  # no fake on PATH
    out = subprocess.run(
        [kubectl, "--kubeconfig", str(lab.kubeconfig), "get", "nodes", "-o", "wide"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    rows = [line.split() for line in out.stdout.splitlines()]
    assert rows[0][:5] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert {(r[0], r[1]) for r in rows[1:]} == {("cp-1", "Ready"), ("worker-1", "Ready")}
    pods = subprocess.run(
        [kubectl, "--kubeconfig", str(lab.kubeconfig), "get", "pods", "-A"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert pods.returncode == 0 and "kube-apiserver-cp-1" in pods.stdout


# -- Argo CD -----------------------------------------------------------------------------------------------------
def _install_platform(lab) -> Path:
    platform_repo(lab.tmp)
    values = lab.tmp / "gitops-work" / "gitops" / "values" / "argocd.yaml"
    out = install_argocd(lab.env, lab.kubeconfig, values)
    assert "deployment.apps/argocd-server serverside-applied" in out.splitlines()
    assert (
        "customresourcedefinition.apiextensions.k8s.io/applications.argoproj.io serverside-applied"
        in out.splitlines()
    )
    secrets = watch_until(
        lab.core.list_namespaced_secret,
        lambda objs: "argocd-initial-admin-secret" in objs,
        namespace="argocd",
    )
    assert secrets["argocd-initial-admin-secret"]["data"]["password"]
    root = lab.tmp / "gitops-work" / "gitops" / "bootstrap" / "root.yaml"
    applied = run(kubectl_apply(lab.kubeconfig, str(root)), lab.env)
    assert applied.stdout.strip() == "application.argoproj.io/root serverside-applied", applied.stderr
    return root


def _apps(lab):
    return lambda **kw: lab.custom.list_namespaced_custom_object(
        "argoproj.io", "v1alpha1", "argocd", "applications", **kw
    )


@pytest.mark.slow
def test_applications_sync_wave_by_wave_to_synced_healthy(lab) -> None:
    _install_platform(lab)
    order: list[tuple[str, str, str]] = []  # (event, app, "sync/health") in watch order

    def record(kind: str, app: dict) -> None:
        order.append((kind, app["metadata"]["name"], "/".join(app_state(app))))

    done = lambda objs: len(objs) == 5 and all(app_state(a) == ("Synced", "Healthy") for a in objs.values())  # noqa: E731
    apps = watch_until(_apps(lab), done, timeout=60, on_event=record)
    assert set(apps) == {"root", *WAVES}
    # Every app of a wave is Synced/Healthy before any app of a later wave exists.
    created = {name: next(i for i, (_, n, _) in enumerate(order) if n == name) for name in WAVES}
    healthy = {
        name: next(i for i, (_, n, s) in enumerate(order) if n == name and s == "Synced/Healthy")
        for name in WAVES
    }
    for name, wave in WAVES.items():
        for later, later_wave in WAVES.items():
            if later_wave > wave:
                assert healthy[name] < created[later], (name, later, order)
    # Each child went through OutOfSync before it synced.
    assert all(any(n == name and s.startswith("OutOfSync") for _, n, s in order) for name in WAVES)
    root = apps["root"]["status"]
    assert root["operationState"]["phase"] == "Succeeded"
    assert {r["name"] for r in root["resources"]} == set(WAVES)
    # MetalLB handed Traefik the address its values asked for, from the pool in the repo.
    svc = lab.core.read_namespaced_service("traefik", "traefik")
    assert svc.status.load_balancer.ingress[0].ip == "10.9.0.241"
    whoami = lab.core.list_namespaced_pod("whoami").items
    assert len(whoami) == 2 and all(p.status.phase == "Running" for p in whoami)
    # A source path missing from the repository is a ComparisonError, as in Argo CD.
    broken = application("broken", 0, (lab.tmp / "gitops.git").as_uri(), path="gitops/nowhere")
    assert run(kubectl_apply(lab.kubeconfig), lab.env, broken).returncode == 0

    def compared(objs: dict) -> bool:
        return any(
            c["type"] == "ComparisonError"
            for c in (objs.get("broken", {}).get("status") or {}).get("conditions", [])
        )

    apps = watch_until(_apps(lab), compared)
    assert app_state(apps["broken"]) == ("Unknown", "Unknown")
    assert "gitops/nowhere: app path does not exist" in apps["broken"]["status"]["conditions"][0]["message"]


def test_app_degraded_fault_holds_the_waves(lab) -> None:
    state.update_lab(lab.root, lambda data: data["faults"].update(app_degraded="traefik"))
    _install_platform(lab)

    def stuck(objs: dict) -> bool:
        root = (objs.get("root") or {}).get("status") or {}
        return app_state(objs.get("traefik", {})) == ("Synced", "Degraded") and "traefik" in (
            root.get("operationState") or {}
        ).get("message", "")

    apps = watch_until(_apps(lab), stuck, timeout=60)
    assert (
        apps["root"]["status"]["operationState"]["message"]
        == "waiting for healthy state of argoproj.io/Application/traefik"
    )
    assert apps["root"]["status"]["operationState"]["phase"] == "Running"
    assert "whoami" not in apps  # the next wave waits
    assert (
        apps["traefik"]["status"]["health"]["message"]
        == 'Deployment "traefik" exceeded its progress deadline'
    )
    pods = lab.core.list_namespaced_pod("traefik").items
    assert pods and pods[0].status.container_statuses[0].state.waiting.reason == "CrashLoopBackOff"
    # Clearing the fault lets the pods start and the remaining waves proceed.
    state.update_lab(lab.root, lambda data: data["faults"].pop("app_degraded"))
    done = lambda objs: len(objs) == 5 and all(app_state(a) == ("Synced", "Healthy") for a in objs.values())  # noqa: E731
    watch_until(_apps(lab), done, timeout=60)


def test_the_cluster_survives_a_restart_of_the_lab(tmp_path: Path) -> None:
    """A reopened lab (skynet demo --workspace again) finds the objects it left, as a real cluster would."""
    root = tmp_path / "lab"
    write_lab(root)
    with MockKubeAPI(root, tick=0.02) as api:
        core = k8s.CoreV1Api(
            k8s_config.new_client_from_config(config_file=str(write_kubeconfig(tmp_path / "kc", api.url)))
        )
        made = core.create_namespaced_config_map(
            "default", {"metadata": {"name": "kept"}, "data": {"a": "1"}}
        )
    assert (root / "kube-objects.json").stat().st_mode & 0o777 == 0o600
    with MockKubeAPI(root, tick=0.02) as api:
        core = k8s.CoreV1Api(
            k8s_config.new_client_from_config(config_file=str(write_kubeconfig(tmp_path / "kc", api.url)))
        )
        kept = core.read_namespaced_config_map("kept", "default")
        assert (kept.metadata.uid, kept.data) == (made.metadata.uid, {"a": "1"})
        listed = json.loads(core.list_namespaced_config_map("default", _preload_content=False).data)
        assert int(listed["metadata"]["resourceVersion"]) > int(made.metadata.resource_version)
