"""The lab's mock Kubernetes API: an aiohttp server in its own thread and event loop, on 127.0.0.1:<port 0>.

It answers the real kubernetes Python client and kubectl: discovery (/api, /apis, /version), list (labelSelector,
fieldSelector, limit/continue, resourceVersion), get, create, update, delete, merge/strategic/JSON patches,
server-side apply (`application/apply-patch+yaml`, merged field by field: fields an applier drops are kept) and
watch (`?watch=1`: ADDED/MODIFIED/DELETED JSON lines from a resourceVersion, 410 Expired when it is too old,
BOOKMARK events with `allowWatchBookmarks`, closed after timeoutSeconds; `limit`/`continue` pages come from the
first page's snapshot, a token too old is 410 Expired), pod logs (`pods/{name}/log`), plus
server-side `Table` rendering for kubectl. Any bearer token is accepted. Field selectors name only the fields a real
API server indexes for the kind. Kinds: core and apps workloads, RBAC, networking, storage, CRDs and every kind the
stored CRDs define. `restart()` stops serving and serves the same store again on the same port (an API outage).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import socket
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from skynet_lab import argo
from skynet_lab.kubesim import eviction, metrics
from skynet_lab.kubesim.kubectl_client import BUILD_INFO
from skynet_lab.kubesim.resources import BUILTIN, Resource
from skynet_lab.kubesim.store import ApiError, Store
from skynet_lab.kubesim.table import table

DEFAULT_WATCH_SECONDS = 1800
BOOKMARK_SECONDS = (
    60.0  # a real API server sends a bookmark about once a minute, and one before it closes a watch
)
SERVER_VERSION = "v1.36.3"
# Field labels a real API server accepts in fieldSelector, beside metadata.name and metadata.namespace (each kind's
# SelectableFields in kubernetes/pkg/registry); anything else is "field label not supported".
FIELD_LABELS: dict[tuple[str, str], frozenset[str]] = {
    ("", "pods"): frozenset(
        {
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.podIPs",
            "status.nominatedNodeName",
        }
    ),
    ("", "events"): frozenset(
        {
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        }
    ),
    ("", "nodes"): frozenset({"spec.unschedulable"}),
    ("", "namespaces"): frozenset({"status.phase"}),
    ("", "secrets"): frozenset({"type"}),
    ("", "services"): frozenset({"spec.clusterIP", "spec.type"}),
    ("", "replicationcontrollers"): frozenset({"status.replicas"}),
    ("apps", "replicasets"): frozenset({"status.replicas"}),
    ("batch", "jobs"): frozenset({"status.successful"}),
}
LOG_PARAMS = frozenset({"container", "tailLines", "previous", "timestamps", "pretty"})


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _error(exc: ApiError) -> web.Response:
    return web.Response(status=exc.code, body=_dump(exc.status()), content_type="application/json")


def _ok(obj: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=_dump(obj), content_type="application/json")


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


def _check_fields(res: Resource, selector: str) -> None:
    """400 for a field a real API server does not index for this kind (CRDs: metadata only)."""
    allowed = FIELD_LABELS.get(res.key, frozenset()) | {"metadata.name", "metadata.namespace"}
    for term in (selector or "").split(","):
        label = term.split("!=")[0].split("=")[0].strip()
        if label and label not in allowed:
            raise ApiError(400, "BadRequest", f"field label not supported: {label}")


PAGED_LISTS = 32  # lists kept for their continue tokens, the oldest forgotten first
CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new list "
    "without the continue parameter."
)


def _page_token(list_id: int, offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([list_id, offset]).encode()).decode()


def _read_token(token: str) -> tuple[int, int]:
    try:
        list_id, offset = json.loads(base64.urlsafe_b64decode(token.encode()))
        return int(list_id), int(offset)
    except (ValueError, TypeError) as exc:
        raise ApiError(400, "BadRequest", "continue key is not valid") from exc


class _Route:
    """What a request path names: a resource, maybe a namespace, an object name and a subresource."""

    def __init__(self, res: Resource, namespace: str | None, name: str, sub: str):
        self.res, self.namespace, self.name, self.sub = res, namespace, name, sub


class MockKubeAPI:
    """The simulated cluster of the lab under `root`, served over HTTP; `start()` returns its URL.

    `simulate=False` (or no root) serves the store alone (no Nodes, controllers or Argo CD); `tick` is the
    simulation period in seconds. `store` is the object store, shared with the simulation.
    """

    def __init__(self, root: Path | str | None = None, *, simulate: bool = True, tick: float = 0.1):
        self.root = Path(root) if root is not None else None
        self.store = Store()
        self.url = ""
        self.port = 0
        self.bookmark_seconds = BOOKMARK_SECONDS
        self.logs: dict[tuple[str, str, str], list[str]] = {}  # (namespace, pod, container) -> its log lines
        # A paged list's items, kept for its continue tokens: the pages after the first come from the same
        # snapshot, as a real API server serves them from the list's resourceVersion (and cost a slice).
        self._pages: OrderedDict[int, tuple[list[Any], str]] = OrderedDict()
        self._next_list = 0
        self.server_version = SERVER_VERSION
        self._simulate = simulate and self.root is not None
        self._tick = tick
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.simulation: Any = None

    # -- lifecycle
    def start(self, port: int = 0, *, exact: bool = False) -> str:
        """Bind 127.0.0.1:`port` (the previous run's, so kubeconfigs stay valid; else any free one, unless `exact`),
        serve in a daemon thread, start the simulation; returns the URL."""
        if self._simulate and self.root is not None:
            self.simulation = argo.Simulation(self.root, self.store, tick=self._tick)
            self.simulation.load()
        argo.seed(self.store)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            if exact:
                sock.close()
                raise
            sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._serve, args=(sock, ready, failure), name="lab-kube-api", daemon=True
        )
        self._thread.start()
        ready.wait(10)
        if failure:
            raise RuntimeError(f"mock Kubernetes API failed to start: {failure[0]}")
        if self.simulation is not None:
            self.server_version = self.simulation.kubernetes_version()
            self.simulation.start()
        return self.url

    def stop(self) -> None:
        if self.simulation is not None:
            self.simulation.stop()
            self.simulation = None
        self.store.close_watches()
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=5)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
        self._loop = self._thread = None

    def restart(self) -> str:
        """Stop serving and serve again on the same port: clients see the API go away and come back (the store,
        and so every object and resourceVersion, is kept; a simulated lab reloads its saved objects)."""
        port = self.port
        self.stop()
        return self.start(port, exact=True)

    def set_log(self, namespace: str, pod: str, container: str, lines: list[str]) -> None:
        """What `pods/{pod}/log?container=` answers for this container (tests and the lab's faults set it)."""
        self.logs[(namespace, pod, container)] = list(lines)

    def __enter__(self) -> MockKubeAPI:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, sock: socket.socket, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            app = web.Application(client_max_size=64 * 1024 * 1024)
            app.router.add_route("*", "/{path:.*}", self._handle)
            self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
            loop.run_until_complete(self._runner.setup())
            loop.run_until_complete(web.SockSite(self._runner, sock).start())
        except BaseException as exc:  # reported to start()
            failure.append(exc)
            ready.set()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- routing
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._dispatch(request)
        except ApiError as exc:
            return _error(exc)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.path.split("/") if p]
        reg = self.store.registry
        if not parts or parts[0] in ("healthz", "livez", "readyz"):
            return web.Response(text="ok")
        if parts == ["version"]:
            return _ok(self._version())
        if parts == ["skynet-lab", "etcd-snapshot"] and request.method == "GET":
            return _ok(self.store.snapshot())  # what the lab's etcd holds: its snapshots copy it
        if parts == ["api"]:
            return _ok(reg.api_versions(self.url.removeprefix("http://")))
        if parts == ["apis"]:
            groups = reg.api_group_list()
            if metrics.registered(self.store):  # an aggregated API: listed while its APIService exists
                groups["groups"].append(
                    {k: v for k, v in metrics.group_doc().items() if k not in ("kind", "apiVersion")}
                )
            return _ok(groups)
        if parts[:2] == ["apis", metrics.GROUP] and metrics.registered(self.store):
            return self._metrics(request, parts[2:])
        if parts[0] == "apis" and len(parts) == 2:
            group_doc = reg.api_group(parts[1])
            return _ok(group_doc) if group_doc else self._not_found()
        if parts[0] == "api" and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[0] == "apis" and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return self._not_found()
        if not rest:
            doc = reg.api_resource_list(group, version)
            return _ok(doc) if doc else self._not_found()
        route = self._route(group, version, rest)
        if route is None:
            return self._not_found()
        return await self._serve_resource(request, route)

    def _metrics(self, request: web.Request, rest: list[str]) -> web.Response:
        """GET /apis/metrics.k8s.io[/v1beta1[/namespaces/<ns>]/<nodes|pods>[/<name>]]."""
        if not rest:
            return _ok(metrics.group_doc())
        if rest[0] != metrics.VERSION or request.method != "GET":
            return self._not_found()
        rest = rest[1:]
        if not rest:
            return _ok(metrics.resource_list())
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        if len(rest) > 2:
            return self._not_found()
        q = request.query
        name = rest[1] if len(rest) > 1 else ""
        return _ok(
            metrics.serve(
                self.store, namespace, rest[0], name, q.get("labelSelector", ""), q.get("fieldSelector", "")
            )
        )

    def _route(self, group: str, version: str, rest: list[str]) -> _Route | None:
        reg = self.store.registry
        if rest[0] == "namespaces" and len(rest) >= 3 and not group and rest[2] in ("status", "finalize"):
            res = reg.by_path("", "v1", "namespaces")
            return _Route(res, None, rest[1], rest[2]) if res and len(rest) == 3 else None
        if rest[0] == "namespaces" and len(rest) >= 3:
            res = reg.by_path(group, version, rest[2])
            if res is None or not res.namespaced or len(rest) > 5:
                return None
            return _Route(res, rest[1], rest[3] if len(rest) > 3 else "", rest[4] if len(rest) > 4 else "")
        res = reg.by_path(group, version, rest[0])
        if res is None or len(rest) > 3 or (res.namespaced and len(rest) > 1):
            return None
        return _Route(res, None, rest[1] if len(rest) > 1 else "", rest[2] if len(rest) > 2 else "")

    def _not_found(self) -> web.Response:
        return _error(ApiError(404, "NotFound", "the server could not find the requested resource"))

    def _version(self) -> dict:
        major, minor, _ = self.server_version.lstrip("v").split(".", 2)
        return {
            "major": major,
            "minor": minor,
            "emulationMajor": major,
            "emulationMinor": minor,
            "gitVersion": self.server_version,
            **BUILD_INFO,
        }

    # -- resources
    async def _serve_resource(self, request: web.Request, route: _Route) -> web.StreamResponse:
        q = request.query
        store, res = self.store, route.res
        method = request.method
        ns = route.namespace or ""
        if route.sub == "log" and res.key == ("", "pods") and method == "GET" and route.name:
            return self._log(request, route)
        if route.sub == "eviction" and res.key == ("", "pods") and method == "POST" and route.name:
            await self._body(request)  # a policy/v1 Eviction naming the pod (and maybe deleteOptions)
            return _ok(eviction.evict(store, ns, route.name), 201)
        if route.sub and route.sub != "status" and route.sub != "finalize":
            return self._not_found()
        if method == "GET":
            if not route.name:
                if _truthy(q.get("watch")):
                    return await self._watch(request, route)
                return self._list(request, route)
            obj = store.get(res, ns, route.name)
            if "as=Table" in request.headers.get("Accept", ""):
                return _ok(
                    table(
                        res,
                        [obj],
                        obj["metadata"]["resourceVersion"],
                        include_object=q.get("includeObject", "Metadata"),
                    )
                )
            return _ok(obj)
        manager = q.get("fieldManager", "")
        if method == "POST" and not route.name:
            body = await self._body(request)
            body_ns = (body.get("metadata") or {}).get("namespace")
            if res.namespaced and body_ns and body_ns != ns:
                raise ApiError(
                    400,
                    "BadRequest",
                    "the namespace of the provided object does not match the namespace sent on the request",
                )
            if q.get("dryRun"):
                return _ok(body, 201)
            return _ok(store.create(res, ns, body, manager=manager), 201)
        if not route.name:
            raise ApiError(
                405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
            )
        if method == "PUT":
            return _ok(
                store.replace(
                    res, ns, route.name, await self._body(request), manager=manager, subresource=route.sub
                )
            )
        if method == "PATCH":
            ctype = request.headers.get("Content-Type", "")
            body = await self._body(request)
            if "apply-patch" in ctype:
                if not manager:
                    raise ApiError(
                        400,
                        "BadRequest",
                        "PATCH, application/apply-patch+yaml requires fieldManager parameter",
                    )
                if route.sub:
                    obj = store.patch(
                        res, ns, route.name, body, ctype, manager=manager, subresource=route.sub
                    )
                    return _ok(obj)
                obj, created = store.apply(res, ns, route.name, body, manager=manager)
                return _ok(obj, 201 if created else 200)
            return _ok(store.patch(res, ns, route.name, body, ctype, manager=manager, subresource=route.sub))
        if method == "DELETE":
            return _ok(store.delete(res, ns, route.name))
        raise ApiError(
            405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
        )

    async def _body(self, request: web.Request) -> Any:
        raw = await request.read()
        try:
            if "yaml" in request.headers.get("Content-Type", ""):
                return yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
            return json.loads(raw or b"{}")
        except Exception as exc:
            raise ApiError(
                400, "BadRequest", f"the body of the request was in an unknown format: {exc}"
            ) from exc

    def _log(self, request: web.Request, route: _Route) -> web.Response:
        """`GET pods/{name}/log`: the container's lines as text/plain; what a kubelet refuses is refused here."""
        q = request.query
        for param in q:
            if param not in LOG_PARAMS:
                raise ApiError(400, "BadRequest", f"log option {param!r} is not simulated by the Skynet lab")
        pod = self.store.get(route.res, route.namespace or "", route.name)
        name = route.name
        containers = [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or []]
        container = q.get("container") or ""
        if not container:
            if len(containers) != 1:
                raise ApiError(
                    400,
                    "BadRequest",
                    f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]",
                )
            container = containers[0]
        if container not in containers:
            raise ApiError(400, "BadRequest", f"container {container} is not valid for pod {name}")
        tail = q.get("tailLines")
        if tail is not None and (not tail.isdigit()):
            raise ApiError(400, "BadRequest", f"invalid tailLines {tail!r}: must be a non-negative integer")
        statuses = {s.get("name"): s for s in (pod.get("status") or {}).get("containerStatuses") or []}
        status = statuses.get(container) or {}
        restarts = int(status.get("restartCount") or 0)
        waiting = ((status.get("state") or {}).get("waiting") or {}).get("reason", "")
        if _truthy(q.get("previous")):
            if not restarts:
                raise ApiError(
                    400,
                    "BadRequest",
                    f'previous terminated container "{container}" in pod "{name}" not found',
                )
        elif not status or (waiting and not restarts):
            raise ApiError(
                400,
                "BadRequest",
                f'container "{container}" in pod "{name}" is waiting to start: {waiting or "ContainerCreating"}',
            )
        lines = self.logs.get((route.namespace or "", name, container))
        if lines is None:
            lines = [
                f"SIMULATED LAB: no process runs in container {container} of pod {route.namespace}/{name}"
            ]
            last = (status.get("lastState") or {}).get("terminated") or {}
            if last:
                lines.append(f"exited with code {last.get('exitCode', 1)} ({last.get('reason', 'Error')})")
        if tail is not None:
            lines = lines[len(lines) - int(tail) :] if int(tail) else []
        text = "".join(f"{line}\n" for line in lines)
        return web.Response(text=text, content_type="text/plain")

    def _list(self, request: web.Request, route: _Route) -> web.Response:
        q = request.query
        _check_fields(route.res, q.get("fieldSelector", ""))
        offset, list_id = 0, None
        if q.get("continue"):
            list_id, offset = _read_token(q["continue"])
            cached = self._pages.get(list_id)
            if cached is None:
                raise ApiError(410, "Expired", CONTINUE_EXPIRED)
            everything, rv = cached
        else:
            everything, rv = self.store.list(
                route.res, route.namespace, q.get("labelSelector", ""), q.get("fieldSelector", "")
            )
        items = everything[offset:]
        meta: dict[str, Any] = {"resourceVersion": rv}
        limit = int(q.get("limit") or 0)
        if limit and len(items) > limit:
            if list_id is None:
                list_id = self._keep_pages(everything, rv)
            meta["remainingItemCount"] = len(items) - limit
            items = items[:limit]
            meta["continue"] = _page_token(list_id, offset + limit)
        if "as=Table" in request.headers.get("Accept", ""):
            doc = table(route.res, items, rv, include_object=q.get("includeObject", "Metadata"))
            doc["metadata"].update({k: v for k, v in meta.items() if k != "resourceVersion"})
            return _ok(doc)
        if route.res in BUILTIN:  # a real API server omits kind/apiVersion on the items of built-in lists
            items = [{k: v for k, v in o.items() if k not in ("apiVersion", "kind")} for o in items]
        return _ok(
            {
                "kind": f"{route.res.kind}List",
                "apiVersion": route.res.api_version,
                "metadata": meta,
                "items": items,
            }
        )

    def _keep_pages(self, items: list[Any], rv: str) -> int:
        self._next_list += 1
        self._pages[self._next_list] = (items, rv)
        while len(self._pages) > PAGED_LISTS:
            self._pages.popitem(last=False)
        return self._next_list

    async def _watch(self, request: web.Request, route: _Route) -> web.StreamResponse:
        q = request.query
        _check_fields(route.res, q.get("fieldSelector", ""))
        bookmarks = _truthy(q.get("allowWatchBookmarks"))
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()

        def sink(item: Any) -> None:
            with contextlib.suppress(RuntimeError):  # loop already closed: the server is stopping
                loop.call_soon_threadsafe(queue.put_nowait, item)

        watcher = self.store.watch(
            route.res,
            route.namespace,
            q.get("labelSelector", ""),
            q.get("fieldSelector", ""),
            q.get("resourceVersion", ""),
            sink,
        )
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        try:
            await response.prepare(request)
            timeout = float(q.get("timeoutSeconds") or DEFAULT_WATCH_SECONDS)
            deadline = loop.time() + timeout
            next_bookmark = loop.time() + self.bookmark_seconds
            closing = False
            while True:
                now = loop.time()
                if now >= deadline and not closing:
                    if not bookmarks:
                        break
                    closing = True  # the last bookmark goes through the queue, after every event before it
                    self.store.bookmark(watcher)
                elif bookmarks and now >= next_bookmark and not closing:
                    next_bookmark = now + self.bookmark_seconds
                    self.store.bookmark(watcher)
                wait = min(deadline, next_bookmark if bookmarks else deadline) - loop.time()
                try:
                    item = await asyncio.wait_for(queue.get(), max(wait, 0.0) if not closing else 1.0)
                except TimeoutError:
                    if closing:
                        break
                    continue
                if item is None:
                    break
                kind, obj = item
                if kind == "BOOKMARK":
                    obj = {
                        "kind": route.res.kind,
                        "apiVersion": route.res.api_version,
                        "metadata": {"resourceVersion": obj},
                    }
                await response.write(_dump({"type": kind, "object": obj}) + b"\n")
                if kind == "BOOKMARK" and closing:
                    break
            await response.write_eof()
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.store.unwatch(watcher)
        return response
