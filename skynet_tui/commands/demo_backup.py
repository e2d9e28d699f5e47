"""`skynet demo --scenario backup-restore`: after the lab's install, a marker object, `skynet backup`, a second
marker, etcd lost on every control plane, `skynet restore` of the backup; then the first marker is there and the
second is not, as a restore brings every object back to the snapshot. Headless, through the same code as a cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from skynet_tui import kube
from skynet_tui.backup import catalog
from skynet_tui.workspace import Workspace

NAMESPACE = "default"
MARKERS = ("skynet-demo-before-backup", "skynet-demo-after-backup")


def _core(ws: Workspace) -> Any:
    from kubernetes import client  # loads with the scenario, once the install is done

    return client.CoreV1Api(kube.client(ws.kubeconfig))


def _mark(ws: Workspace, name: str, when: str) -> None:
    body = {"metadata": {"name": name, "namespace": NAMESPACE}, "data": {"created": when}}
    _core(ws).create_namespaced_config_map(NAMESPACE, body)
    print(f"SIMULATED LAB: ConfigMap {NAMESPACE}/{name} created ({when})", flush=True)


def _present(ws: Workspace) -> dict[str, bool]:
    names = {
        c["metadata"]["name"]
        for c in kube.items(kube.client(ws.kubeconfig), "", "v1", "configmaps", NAMESPACE)
    }
    return {marker: marker in names for marker in MARKERS}


def backup_restore_scenario(ws: Workspace, env: dict[str, str], lose_etcd: Callable[[], None]) -> int:
    """Back up, lose etcd, restore; exit 0 when the objects are the snapshot's."""
    # The backup and restore front ends (rich, the kubernetes client) load once the install is done.
    from skynet_tui.commands.backup import run_backup
    from skynet_tui.commands.restore import run_restore

    _mark(ws, MARKERS[0], "before the backup")
    code = run_backup(ws, env=env, simulated=True)
    newest = catalog.newest(ws.root)
    if code or newest is None:
        return code or 1
    _mark(ws, MARKERS[1], "after the backup")
    lose_etcd()
    print(
        "SIMULATED LAB: etcd's data is lost on every control plane; the Kubernetes API stops answering",
        flush=True,
    )
    code = run_restore(ws, newest.path, assume_yes=True, env=env, simulated=True)
    if code:
        return code
    found = _present(ws)
    print(f"marker {MARKERS[0]}: {'present' if found[MARKERS[0]] else 'MISSING'} (created before the backup)")
    print(f"marker {MARKERS[1]}: {'present' if found[MARKERS[1]] else 'absent'} (created after the backup)")
    return 0 if found[MARKERS[0]] and not found[MARKERS[1]] else 1
