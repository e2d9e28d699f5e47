"""Helpers for the mock Kubernetes API tests: a hand-made lab state, a kubeconfig, a GitOps repo, watch waits."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from skynet_lab import state
from skynet_lab.bin import install_fakes, lab_path
from skynet_lab.kube import MockKubeAPI
from skynet_lab.kubesim.base import DEFAULT_LATENCY
from tests.tools import GIT_WHY, require

# Every simulated transition immediate: tests wait on watch events, never on wall-clock delays.
FAST = {name: 0.0 for name in (*DEFAULT_LATENCY, "install", "reboot", "bootstrap_ready", "etcd", "boot")}
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.test",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.test",
}


def write_lab(
    root: Path, *, control_planes: int = 1, workers: int = 1, faults: dict | None = None
) -> list[str]:
    """A lab state whose machines are installed, the cluster bootstrapped; returns the node IPs."""
    past = time.time() - 600
    ips = []
    planned = [("controlplane", f"cp-{i + 1}") for i in range(control_planes)]
    planned += [("worker", f"worker-{i + 1}") for i in range(workers)]
    for index, (role, hostname) in enumerate(planned):
        ip = f"127.0.250.{11 + index if role == 'controlplane' else 21 + index - control_planes}"
        ips.append(ip)
        state.write_node(
            root,
            {
                "ip": ip,
                "index": index,
                "planned_role": role,
                "role": role,
                "planned_hostname": hostname,
                "maintenance_hostname": f"talos-{index}",
                "node_id": f"00000000-0000-0000-0000-00000000000{index}",
                "created_at": past,
                "hardware": {},
                "applied_at": past,
                "config": {
                    "hostname": hostname,
                    "machine_type": role,
                    "cni": "flannel",
                    "kubernetes": "1.36.3",
                },
                "etcd_bootstrapped": index == 0,
                "versions": {"talos": "v1.13.9", "kubernetes": "1.36.3"},
                "fault_used": {},
            },
        )
    state.write_lab(
        root,
        {
            "simulated": True,
            "subnet": "127.0.250.0/24",
            "prefix": "127.0.250",
            "nodes": [],
            "latency": dict(FAST),
            "faults": dict(faults or {}),
            "fault_used": {},
            "bootstrap": {"node": ips[0], "at": past},
            "api_url": None,
            "versions": {"talos": "v1.13.9", "kubernetes": "1.36.3"},
        },
    )
    return ips


def write_kubeconfig(path: Path, url: str) -> Path:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "lab-simulated", "cluster": {"server": url}}],
        "users": [{"name": "admin@lab-simulated", "user": {"token": "lab-test-token"}}],
        "contexts": [
            {
                "name": "admin@lab-simulated",
                "context": {"cluster": "lab-simulated", "user": "admin@lab-simulated"},
            }
        ],
        "current-context": "admin@lab-simulated",
    }
    path.write_text(yaml.safe_dump(doc))
    path.chmod(0o600)
    return path


def fake_env(folder: Path) -> dict[str, str]:
    """A child environment with the fake kubectl/helm first on PATH (no PYTHONUNBUFFERED, as in CI)."""
    install_fakes(folder)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env["PATH"] = lab_path(folder, env.get("PATH", ""))
    return env


def run(argv: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True, timeout=60)


@contextmanager
def running_lab(tmp_path: Path) -> Iterator[SimpleNamespace]:
    """A bootstrapped 1+1 lab state, its mock API, a kubeconfig, kubernetes clients and the fakes' env."""
    root = tmp_path / "lab"
    ips = write_lab(root, control_planes=1, workers=1)
    api = MockKubeAPI(root, tick=0.02)
    url = api.start()
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", url)
    api_client = k8s_config.new_client_from_config(config_file=str(kubeconfig))
    try:
        yield SimpleNamespace(
            root=root,
            ips=ips,
            api=api,
            url=url,
            kubeconfig=kubeconfig,
            core=k8s.CoreV1Api(api_client),
            custom=k8s.CustomObjectsApi(api_client),
            apis=k8s.ApisApi(api_client),
            env=fake_env(tmp_path / "bin"),
            tmp=tmp_path,
        )
    finally:
        api_client.close()
        api.stop()
    log = root / "kube-sim.log"
    assert not log.exists(), log.read_text()  # the simulation never failed a step


def make_repo(root: Path, files: dict[str, str]) -> str:
    """A bare Git repository holding `files` on branch main; returns its file:// URL."""
    require("git", GIT_WHY)
    bare, work = root / "gitops.git", root / "gitops-work"
    env = {**os.environ, **GIT_ENV}
    subprocess.run(["git", "init", "-q", "--bare", "--initial-branch=main", str(bare)], check=True)
    subprocess.run(["git", "init", "-q", "--initial-branch=main", str(work)], check=True)
    for rel, text in files.items():
        path = work / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    subprocess.run(["git", "-C", str(work), "add", "."], check=True)
    subprocess.run(["git", "-C", str(work), "commit", "-qm", "platform"], check=True, env=env)
    subprocess.run(["git", "-C", str(work), "push", "-q", str(bare), "main"], check=True, env=env)
    return bare.as_uri()


def application(
    name: str, wave: int, repo: str, *, chart: str = "", path: str = "", namespace: str = ""
) -> str:
    """An Argo CD Application in the layout the GitOps renderer writes (chart + $values ref, or a repo path)."""
    source: dict[str, Any]
    if chart:
        source = {
            "sources": [
                {
                    "repoURL": f"https://charts.example.test/{chart}",
                    "chart": chart,
                    "targetRevision": "1.0.0",
                    "helm": {"releaseName": name, "valueFiles": [f"$values/gitops/values/{name}.yaml"]},
                },
                {"repoURL": repo, "targetRevision": "main", "ref": "values"},
            ]
        }
    else:
        source = {"source": {"repoURL": repo, "targetRevision": "main", "path": path}}
    doc = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": name,
            "namespace": "argocd",
            "annotations": {"argocd.argoproj.io/sync-wave": str(wave)},
        },
        "spec": {
            "project": "default",
            "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace or name},
            **source,
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True},
                "retry": {"limit": 3, "backoff": {"duration": "30s", "factor": 2, "maxDuration": "5m"}},
                "syncOptions": [
                    "CreateNamespace=true",
                    "ServerSideApply=true",
                    *(["SkipDryRunOnMissingResource=true"] if path else []),
                ],
                "managedNamespaceMetadata": {"labels": {"pod-security.kubernetes.io/enforce": "baseline"}},
            },
        },
    }
    return yaml.safe_dump(doc, sort_keys=False)


ARGOCD_VALUES = """\
global:
  domain: argocd.lab.test
configs:
  params:
    server.insecure: true
  cm:
    resource.customizations.health.argoproj.io_Application: |
      hs = {status = "Progressing", message = ""}
      if obj.status ~= nil and obj.status.health ~= nil then
        hs.status = obj.status.health.status
      end
      return hs
dex:
  enabled: false
"""
POOL = """\
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: default, namespace: metallb-system}
spec:
  addresses: [10.9.0.240-10.9.0.250]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: default, namespace: metallb-system}
spec:
  ipAddressPools: [default]
"""
# name -> wave, for the test platform below
WAVES = {"metallb": -2, "metallb-config": -1, "traefik": 0, "whoami": 1}


def platform_repo(root: Path) -> str:
    """A small GitOps repository: MetalLB (chart + pool), Traefik (LoadBalancer), a generic chart; waves -2..1."""
    url = (root / "gitops.git").as_uri()
    files = {
        "gitops/bootstrap/root.yaml": yaml.safe_dump(
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Application",
                "metadata": {"name": "root", "namespace": "argocd"},
                "spec": {
                    "project": "default",
                    "destination": {"server": "https://kubernetes.default.svc", "namespace": "argocd"},
                    "source": {"repoURL": url, "targetRevision": "main", "path": "gitops/apps"},
                    "syncPolicy": {
                        "automated": {"prune": False, "selfHeal": True},
                        "syncOptions": ["ServerSideApply=true"],
                    },
                },
            }
        ),
        "gitops/apps/metallb.yaml": application(
            "metallb", -2, url, chart="metallb", namespace="metallb-system"
        ),
        "gitops/apps/metallb-config.yaml": application(
            "metallb-config", -1, url, path="gitops/config/metallb", namespace="metallb-system"
        ),
        "gitops/apps/traefik.yaml": application("traefik", 0, url, chart="traefik"),
        "gitops/apps/whoami.yaml": application("whoami", 1, url, chart="whoami"),
        "gitops/config/metallb/pool.yaml": POOL,
        "gitops/values/argocd.yaml": ARGOCD_VALUES,
        "gitops/values/metallb.yaml": "crds:\n  enabled: true\n",
        "gitops/values/traefik.yaml": "service:\n  annotations:\n    metallb.io/loadBalancerIPs: 10.9.0.241\n",
        "gitops/values/whoami.yaml": "replicaCount: 2\n",
    }
    assert make_repo(root, files) == url
    return url


def install_argocd(env: dict[str, str], kubeconfig: Path, values: Path) -> str:
    """The bootstrap's Argo CD install: `helm template` piped to `kubectl apply --server-side`; returns stdout."""
    helm = run(
        ["helm", "template", "argocd", "argo-cd", "--repo", "https://argoproj.github.io/argo-helm", "--version",
         "10.1.1", "--namespace", "argocd", "--include-crds", "-f", str(values)],
        env,
    )  # fmt: skip
    assert helm.returncode == 0, helm.stderr
    namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: argocd\n---\n"
    apply = run(kubectl_apply(kubeconfig), env, namespace + helm.stdout)
    assert apply.returncode == 0, apply.stderr
    return apply.stdout


def kubectl_apply(kubeconfig: Path, source: str = "-") -> list[str]:
    return [
        "kubectl", "--kubeconfig", str(kubeconfig), "apply", "--server-side", "--force-conflicts",
        "--field-manager", "skynet", "-f", source,
    ]  # fmt: skip


def watch_until(
    list_fn: Callable[..., Any],
    done: Callable[[dict[str, dict]], bool],
    *,
    timeout: float = 30,
    on_event: Callable[[str, dict], None] | None = None,
    **kwargs: Any,
) -> dict[str, dict]:
    """List then watch (raw dicts) until `done(objects by name)`; AssertionError with the last state on timeout."""
    from kubernetes import watch

    first = json.loads(list_fn(_preload_content=False, **kwargs).data)
    objects = {o["metadata"]["name"]: o for o in first["items"]}
    for obj in objects.values():
        if on_event:
            on_event("LISTED", obj)
    version = first["metadata"]["resourceVersion"]
    deadline = time.monotonic() + timeout
    while not done(objects):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out; last state: {json.dumps(_summary(objects), indent=1)}")
        stream = watch.Watch().stream(
            list_fn,
            resource_version=version,
            timeout_seconds=max(1, int(remaining)),
            deserialize=False,
            **kwargs,
        )
        for event in stream:
            obj = event["object"]
            version = obj["metadata"]["resourceVersion"]
            if event["type"] == "DELETED":
                objects.pop(obj["metadata"]["name"], None)
            else:
                objects[obj["metadata"]["name"]] = obj
            if on_event:
                on_event(event["type"], obj)
            if done(objects):
                break
    return objects


def _summary(objects: dict[str, dict]) -> dict[str, Any]:
    out = {}
    for name, obj in objects.items():
        status = obj.get("status") or {}
        out[name] = {
            k: status.get(k)
            for k in ("sync", "health", "operationState", "conditions", "phase")
            if k in status
        }
    return out


def app_state(app: dict) -> tuple[str, str]:
    status = app.get("status") or {}
    return (status.get("sync") or {}).get("status", ""), (status.get("health") or {}).get("status", "")
