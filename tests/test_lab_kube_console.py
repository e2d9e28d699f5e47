"""What the console needs of the lab's mock API: pod logs, bookmarks, 410 after compaction, restarts on the same
port, resourceVersion preconditions on patches, and field selectors refused as a real API server refuses them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from skynet_lab.kube import PAGED_LISTS
from skynet_tui.status.client import ApiStatusError, KubeClient, Unreachable
from tests.console_helpers import Seeder, start_api
from tests.tools import require

pytestmark = pytest.mark.lab


@pytest.fixture
def api(tmp_path: Path):
    api, kubeconfig = start_api(tmp_path)
    client = KubeClient(kubeconfig)
    seed = Seeder(api.store)
    seed.node("worker-1", "10.5.0.21")
    seed.pod("apps", "web-1", "worker-1")
    seed.pod("apps", "crash-1", "worker-1", waiting="CrashLoopBackOff", restarts=3)
    seed.create("", "pods", "apps", {
        "metadata": {"name": "two"}, "spec": {"nodeName": "worker-1", "containers": [{"name": "a"}, {"name": "b"}]},
        "status": {"phase": "Running", "containerStatuses": [
            {"name": "a", "ready": True, "restartCount": 0, "state": {"running": {}}},
            {"name": "b", "ready": True, "restartCount": 0, "state": {"running": {}}}]}})  # fmt: skip
    seed.create("", "pods", "apps", {
        "metadata": {"name": "new"}, "spec": {"nodeName": "worker-1", "containers": [{"name": "main"}]},
        "status": {"phase": "Pending", "containerStatuses": [
            {"name": "main", "ready": False, "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}]}})  # fmt: skip
    try:
        yield api, client, kubeconfig, seed
    finally:
        client.close()
        api.stop()


def log(client: KubeClient, pod: str, **query: str) -> str:
    return client.get_text(f"/api/v1/namespaces/apps/pods/{pod}/log", list(query.items()))


def test_pod_logs_as_a_kubelet_answers(api) -> None:
    mock, client, kubeconfig, _ = api
    mock.set_log("apps", "web-1", "main", [f"line {i}" for i in range(10)])
    assert log(client, "web-1") == "".join(f"line {i}\n" for i in range(10))
    assert log(client, "web-1", tailLines="3") == "line 7\nline 8\nline 9\n"
    assert log(client, "web-1", tailLines="0") == ""
    assert "SIMULATED LAB" in log(client, "two", container="a")
    assert "exited with code 1 (Error)" in log(client, "crash-1", previous="true")
    refusals = [
        ("two", {}, "a container name must be specified for pod two, choose one of: [a b]"),
        ("two", {"container": "c"}, "container c is not valid for pod two"),
        ("new", {}, 'container "main" in pod "new" is waiting to start: ContainerCreating'),
        ("web-1", {"previous": "true"}, 'previous terminated container "main" in pod "web-1" not found'),
        ("web-1", {"tailLines": "x"}, "invalid tailLines 'x': must be a non-negative integer"),
        ("web-1", {"sinceSeconds": "5"}, "log option 'sinceSeconds' is not simulated by the Skynet lab"),
    ]
    for pod, query, message in refusals:
        with pytest.raises(ApiStatusError) as refused:
            log(client, pod, **query)
        assert (refused.value.code, refused.value.message) == (400, message)
    with pytest.raises(ApiStatusError) as missing:
        log(client, "ghost")
    assert missing.value.code == 404
    kubectl = require("kubectl", "the real kubectl reads pod logs from the mock API")
    out = subprocess.run([kubectl, "--kubeconfig", str(kubeconfig), "-n", "apps", "logs", "web-1", "--tail", "2"],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout == "line 8\nline 9\n"


def test_watch_bookmarks_carry_the_current_version_and_one_comes_before_the_close(api) -> None:
    mock, client, _, seed = api
    mock.bookmark_seconds = 0.3
    listed = client.get_json("/api/v1/nodes")
    version = listed["metadata"]["resourceVersion"]
    query = [
        ("watch", "1"),
        ("resourceVersion", version),
        ("allowWatchBookmarks", "true"),
        ("timeoutSeconds", "1"),
    ]
    stream = client.stream("/api/v1/nodes", query, (5, 10))
    seed.create("", "namespaces", "", {"metadata": {"name": "other"}})  # another kind moves the version on
    events = [json.loads(line) for line in stream]
    kinds = [e["type"] for e in events]
    assert kinds and set(kinds) == {"BOOKMARK"} and len(kinds) >= 2
    assert events[0]["object"] == {
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": mock.store.resource_version},
    }
    plain = client.stream(
        "/api/v1/nodes", [("watch", "1"), ("resourceVersion", version), ("timeoutSeconds", "1")], (5, 10)
    )
    assert list(plain) == []  # no bookmarks unless asked for


def test_an_old_resource_version_is_410_after_compaction_and_the_api_restarts_on_its_port(api) -> None:
    mock, client, _, seed = api
    old = client.get_json("/api/v1/pods")["metadata"]["resourceVersion"]
    seed.pod("apps", "web-2", "worker-1")
    mock.store.compact()
    events = [
        json.loads(line)
        for line in client.stream("/api/v1/pods", [("watch", "1"), ("resourceVersion", old)], (5, 10))
    ]
    assert events[0]["type"] == "ERROR" and events[0]["object"]["code"] == 410
    assert events[0]["object"]["reason"] == "Expired"

    url, port = mock.url, mock.port
    mock.stop()
    with pytest.raises(Unreachable, match="Connection refused"):
        client.get_json("/api/v1/pods")
    assert mock.start(port, exact=True) == url
    assert len(client.get_json("/api/v1/pods")["items"]) == 5  # the same store, the same objects


def test_a_patch_with_an_old_resource_version_is_a_conflict(api) -> None:
    _, client, _, _ = api
    path = "/api/v1/namespaces/apps/pods/web-1"
    version = client.get_json(path)["metadata"]["resourceVersion"]
    client.patch(path, {"metadata": {"resourceVersion": version, "labels": {"x": "1"}}})
    with pytest.raises(ApiStatusError) as stale:
        client.patch(path, {"metadata": {"resourceVersion": version, "labels": {"x": "2"}}})
    assert stale.value.code == 409 and "the object has been modified" in stale.value.message


def test_field_selectors_a_real_api_server_refuses(api) -> None:
    _, client, _, _ = api
    on_node = client.get_json("/api/v1/pods", [("fieldSelector", "spec.nodeName=worker-1")])
    assert len(on_node["items"]) == 4
    assert client.get_json("/api/v1/events", [("fieldSelector", "type=Warning")])["items"] == []
    with pytest.raises(ApiStatusError) as refused:
        client.get_json("/api/v1/pods", [("fieldSelector", "status.containerStatuses=x")])
    assert (refused.value.code, refused.value.message) == (
        400,
        "field label not supported: status.containerStatuses",
    )
    with pytest.raises(ApiStatusError):
        client.get_json("/api/v1/nodes", [("fieldSelector", "status.phase=Running")])


def test_pages_after_the_first_come_from_the_first_page_s_snapshot(api) -> None:
    mock, client, _, seed = api
    first = client.get_json("/api/v1/pods", [("limit", "2")])
    assert len(first["items"]) == 2 and first["metadata"]["remainingItemCount"] == 2
    seed.pod("apps", "aaa-new", "worker-1")  # created after the first page: not in this list
    rest = client.get_json("/api/v1/pods", [("limit", "2"), ("continue", first["metadata"]["continue"])])
    names = [p["metadata"]["name"] for p in first["items"] + rest["items"]]
    assert names == ["crash-1", "new", "two", "web-1"] and "continue" not in rest["metadata"]
    assert rest["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    for _ in range(PAGED_LISTS):  # newer paged lists: the oldest one's tokens expire
        client.get_json("/api/v1/pods", [("limit", "1")])
    with pytest.raises(ApiStatusError) as expired:
        client.get_json("/api/v1/pods", [("limit", "2"), ("continue", first["metadata"]["continue"])])
    assert expired.value.code == 410 and "too old" in expired.value.message
    with pytest.raises(ApiStatusError) as bad:
        client.get_json("/api/v1/pods", [("continue", "not-a-token")])
    assert bad.value.code == 400
