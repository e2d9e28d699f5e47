"""The lab's mock Kubernetes API: an aiohttp server in its own thread and event loop, on 127.0.0.1:<port 0>.

It answers the real kubernetes Python client and kubectl: discovery (/api, /apis, /version), list (labelSelector,
fieldSelector, limit/continue, resourceVersion), get, create, update, delete, merge/strategic/JSON patches,
server-side apply (`application/apply-patch+yaml`, merged field by field: fields an applier drops are kept) and
watch (`?watch=1`: ADDED/MODIFIED/DELETED JSON lines from a resourceVersion, 410 Expired when it is too old,
closed after timeoutSeconds), plus server-side `Table` rendering for kubectl. Any bearer token is accepted.
Kinds: core and apps workloads, RBAC, networking, storage, CRDs and every kind the stored CRDs define.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import socket
import threading
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from skynet_lab import argo
from skynet_lab.kubesim import metrics
from skynet_lab.kubesim.kubectl_client import BUILD_INFO
from skynet_lab.kubesim.resources import BUILTIN, Resource
from skynet_lab.kubesim.store import ApiError, Store
from skynet_lab.kubesim.table import table

DEFAULT_WATCH_SECONDS = 1800
SERVER_VERSION = "v1.36.3"


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _error(exc: ApiError) -> web.Response:
    return web.Response(status=exc.code, body=_dump(exc.status()), content_type="application/json")


def _ok(obj: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=_dump(obj), content_type="application/json")


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


def _page_token(obj: dict) -> str:
    meta = obj["metadata"]
    return base64.urlsafe_b64encode(json.dumps([meta.get("namespace", ""), meta["name"]]).encode()).decode()


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
        self.server_version = SERVER_VERSION
        self._simulate = simulate and self.root is not None
        self._tick = tick
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.simulation: Any = None

    # -- lifecycle
    def start(self, port: int = 0) -> str:
        """Bind 127.0.0.1:`port` (the previous run's, so kubeconfigs stay valid; else any free one), serve in a
        daemon thread, start the simulation; returns the URL."""
        if self._simulate and self.root is not None:
            self.simulation = argo.Simulation(self.root, self.store, tick=self._tick)
            self.simulation.load()
        argo.seed(self.store)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
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

    def _list(self, request: web.Request, route: _Route) -> web.Response:
        q = request.query
        items, rv = self.store.list(
            route.res, route.namespace, q.get("labelSelector", ""), q.get("fieldSelector", "")
        )
        meta: dict[str, Any] = {"resourceVersion": rv}
        if q.get("continue"):
            try:
                after = tuple(json.loads(base64.urlsafe_b64decode(q["continue"].encode())))
            except ValueError as exc:
                raise ApiError(400, "BadRequest", "continue key is not valid") from exc
            items = [o for o in items if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > after]
        limit = int(q.get("limit") or 0)
        if limit and len(items) > limit:
            meta["remainingItemCount"] = len(items) - limit
            items = items[:limit]
            meta["continue"] = _page_token(items[-1])
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

    async def _watch(self, request: web.Request, route: _Route) -> web.StreamResponse:
        q = request.query
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
            while (remaining := deadline - loop.time()) > 0:
                try:
                    item = await asyncio.wait_for(queue.get(), remaining)
                except TimeoutError:
                    break
                if item is None:
                    break
                kind, obj = item
                await response.write(_dump({"type": kind, "object": obj}) + b"\n")
            await response.write_eof()
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.store.unwatch(watcher)
        return response
