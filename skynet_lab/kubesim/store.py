"""The mock API's object store: resourceVersions, create/apply/patch/delete, selectors and watch streams."""

from __future__ import annotations

import base64
import datetime as dt
import re
import secrets
import threading
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

from skynet_lab.kubesim.patches import (
    PatchError,
    clone,
    json_patch,
    match_fields,
    match_labels,
    merge_patch,
    parse_field_selector,
    parse_label_selector,
)
from skynet_lab.kubesim.resources import Registry, Resource, resource_from_crd

Obj = dict[str, Any]
Key = tuple[str, str, str, str]  # group, plural, namespace ("" when cluster-scoped), name
CRD_KEY = ("apiextensions.k8s.io", "customresourcedefinitions")
NAMESPACE_KEY = ("", "namespaces")
HISTORY = 20000
NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


def now_rfc3339() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ApiError(Exception):
    """A failed API call, rendered as a `Status` object like a real API server's."""

    def __init__(
        self, code: int, reason: str, message: str, *, name: str = "", kind: str = "", group: str = ""
    ):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.details: dict[str, Any] = {
            k: v for k, v in (("name", name), ("group", group), ("kind", kind)) if v
        }

    def status(self) -> Obj:
        out: Obj = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            out["details"] = self.details
        return out


def _plural_name(res: Resource) -> str:
    return f"{res.plural}.{res.group}" if res.group else res.plural


def not_found(res: Resource, name: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'{_plural_name(res)} "{name}" not found',
        name=name,
        kind=res.plural,
        group=res.group,
    )


def _conflict(res: Resource, name: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {_plural_name(res)} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        name=name,
        kind=res.plural,
        group=res.group,
    )


def _same(old: Obj, new: Obj) -> bool:
    """Equal but for resourceVersion and managedFields."""
    if old.keys() != new.keys():
        return False
    skip = ("resourceVersion", "managedFields")
    for key, value in old.items():
        if key == "metadata":
            if {k: v for k, v in value.items() if k not in skip} != {
                k: v for k, v in new["metadata"].items() if k not in skip
            }:
                return False
        elif value != new[key]:
            return False
    return True


def _spec_part(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


# -- watches --------------------------------------------------------------------------------------------------
class Watcher:
    """One watch stream: matching events go to `sink` (thread-safe callable), `None` ends the stream."""

    def __init__(
        self, res: Resource, namespace: str | None, labels: str, fields: str, sink: Callable[[Any], None]
    ):
        self.key = res.key
        self.namespace = namespace
        self.labels = parse_label_selector(labels)
        self.fields = parse_field_selector(fields)
        self.sink = sink

    def matches(self, obj: Obj | None) -> bool:
        if obj is None:
            return False
        meta = obj.get("metadata") or {}
        if self.namespace and meta.get("namespace") != self.namespace:
            return False
        return match_labels(self.labels, meta.get("labels") or {}) and match_fields(self.fields, obj)

    def event(self, old: Obj | None, new: Obj | None, deleted: Obj | None) -> tuple[str, Obj] | None:
        was, now = self.matches(old), self.matches(new)
        if deleted is not None:
            return ("DELETED", deleted) if was else None
        if new is None:
            return None
        if now:
            return ("MODIFIED" if was else "ADDED", new)
        if was:
            return ("DELETED", new)  # no longer selected
        return None


# -- the store ------------------------------------------------------------------------------------------------
class Store:
    """Thread-safe object store. Stored dicts are never mutated in place (copy on write), so readers may keep them."""

    def __init__(self) -> None:
        self.registry = Registry()
        self.lock = threading.RLock()
        self._objects: dict[Key, Obj] = {}
        self._by_resource: dict[tuple[str, str], dict[Key, Obj]] = {}  # the same objects, per resource
        self._rv = 1
        self._history: deque[tuple[int, tuple[str, str], Obj | None, Obj | None, Obj | None]] = deque()
        self._compacted = 0
        self._watchers: set[Watcher] = set()

    @property
    def resource_version(self) -> str:
        return str(self._rv)

    # -- reads
    def get(self, res: Resource, namespace: str, name: str) -> Obj:
        with self.lock:
            obj = self._objects.get((*res.key, namespace if res.namespaced else "", name))
            if obj is None:
                raise not_found(res, name)
            return obj

    def find(self, res: Resource, namespace: str, name: str) -> Obj | None:
        with self.lock:
            return self._objects.get((*res.key, namespace if res.namespaced else "", name))

    def list(
        self, res: Resource, namespace: str | None = None, labels: str = "", fields: str = ""
    ) -> tuple[list[Obj], str]:
        """Matching objects (shared, do not mutate) sorted by namespace/name, and the list's resourceVersion."""
        try:
            lreqs, freqs = parse_label_selector(labels), parse_field_selector(fields)
        except ValueError as exc:
            raise ApiError(400, "BadRequest", str(exc)) from exc
        with self.lock:
            out = [
                obj
                for (_, _, ns, _), obj in self._by_resource.get(res.key, {}).items()
                if (not namespace or ns == namespace)
                and match_labels(lreqs, obj["metadata"].get("labels") or {})
                and match_fields(freqs, obj)
            ]
            rv = str(self._rv)
        out.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        return out, rv

    # -- writes
    def create(
        self, res: Resource, namespace: str, obj: Obj, *, manager: str = "", internal: bool = False
    ) -> Obj:
        obj = clone(obj)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + secrets.token_hex(3)[:5]
        name = meta.get("name") or ""
        with self.lock:
            key = self._key(res, namespace, name)
            if key in self._objects:
                raise ApiError(
                    409,
                    "AlreadyExists",
                    f'{_plural_name(res)} "{name}" already exists',
                    name=name,
                    kind=res.plural,
                    group=res.group,
                )
            if res.status_subresource and not internal:
                obj.pop("status", None)
            return self._put(res, key, None, obj, manager, "Update")

    def apply(
        self, res: Resource, namespace: str, name: str, applied: Obj, *, manager: str, internal: bool = False
    ) -> tuple[Obj, bool]:
        """Server-side apply (approximated as a merge of the applied config); returns (object, created)."""
        if applied.get("kind") not in (None, res.kind) or applied.get("apiVersion") not in (
            None,
            res.api_version,
        ):
            raise ApiError(
                400,
                "BadRequest",
                f"the API version in the data ({applied.get('apiVersion')}) does not match the expected API version ({res.api_version})",
            )
        if (applied.get("metadata") or {}).get("name") not in (None, name):
            raise ApiError(400, "BadRequest", "the name of the object does not match the name on the URL")
        with self.lock:
            key = self._key(res, namespace, name)
            old = self._objects.get(key)
            body = clone(applied)
            body.setdefault("metadata", {})["name"] = name
            if res.status_subresource and not internal:
                body.pop("status", None)
            new = merge_patch(old, body) if old is not None else body
            return self._put(res, key, old, new, manager, "Apply"), old is None

    def patch(
        self,
        res: Resource,
        namespace: str,
        name: str,
        body: Any,
        content_type: str,
        *,
        manager: str = "",
        subresource: str = "",
    ) -> Obj:
        with self.lock:
            key, old = self._existing(res, namespace, name)
            wanted = ((body.get("metadata") or {}) if isinstance(body, dict) else {}).get("resourceVersion")
            if wanted and wanted != old["metadata"]["resourceVersion"]:
                raise _conflict(
                    res, name
                )  # a resourceVersion in a patch is a precondition, as on a real server
            try:
                new = json_patch(old, body) if "json-patch" in content_type else merge_patch(old, body)
            except PatchError as exc:
                raise ApiError(
                    422, "Invalid", f"the server rejected our request due to an error in our request: {exc}"
                ) from exc
            return self._put(res, key, old, self._subresource(res, old, new, subresource), manager, "Update")

    def replace(
        self, res: Resource, namespace: str, name: str, obj: Obj, *, manager: str = "", subresource: str = ""
    ) -> Obj:
        with self.lock:
            key, old = self._existing(res, namespace, name)
            wanted = (obj.get("metadata") or {}).get("resourceVersion")
            if wanted and wanted != old["metadata"]["resourceVersion"]:
                raise _conflict(res, name)
            return self._put(
                res, key, old, self._subresource(res, old, clone(obj), subresource), manager, "Update"
            )

    def mutate(
        self, res: Resource, namespace: str, name: str, fn: Callable[[Obj], None], *, manager: str = ""
    ) -> Obj | None:
        """Internal read-modify-write (status included); no event or new resourceVersion when nothing changed."""
        with self.lock:
            key = self._key(res, namespace, name, check_namespace=False)
            old = self._objects.get(key)
            if old is None:
                return None
            new = clone(old)
            fn(new)
            if new == old:
                return old
            return self._put(res, key, old, new, manager, "Update")

    def delete(self, res: Resource, namespace: str, name: str) -> Obj:
        with self.lock:
            key, old = self._existing(res, namespace, name, check_namespace=False)
            if res.key == NAMESPACE_KEY:
                for other in [k for k in self._objects if k[2] == name and k[:2] != NAMESPACE_KEY]:
                    other_res = self.registry.by_key(*other[:2])
                    if other_res is not None:
                        self.delete(other_res, other[2], other[3])
            if res.key == CRD_KEY:
                gone = self._crd_resource(old)
                if gone is not None:
                    for other in list(self._by_resource.get(gone.key, {})):
                        self.delete(gone, other[2], other[3])
            del self._objects[key]
            del self._by_resource[res.key][key]
            self._rv += 1
            final = clone(old)
            final["metadata"]["resourceVersion"] = str(self._rv)
            self._record(res.key, old, None, final)
            if res.key == CRD_KEY:
                self._refresh_registry()
            return final

    # -- watches
    def watch(
        self,
        res: Resource,
        namespace: str | None,
        labels: str,
        fields: str,
        since: str,
        sink: Callable[[Any], None],
    ) -> Watcher:
        """Register a watch; events after `since` (or ADDED for every current object when `since` is 0/empty)."""
        try:
            watcher = Watcher(res, namespace, labels, fields, sink)
        except ValueError as exc:
            raise ApiError(400, "BadRequest", str(exc)) from exc
        with self.lock:
            if since in ("", "0"):
                items, _ = self.list(res, namespace, labels, fields)
                for obj in items:
                    sink(("ADDED", obj))
            else:
                try:
                    start = int(since)
                except ValueError as exc:
                    raise ApiError(400, "BadRequest", f"invalid resource version {since!r}") from exc
                if start < self._compacted:
                    sink(
                        (
                            "ERROR",
                            ApiError(
                                410, "Expired", f"too old resource version: {start} ({self._compacted})"
                            ).status(),
                        )
                    )
                    sink(None)
                    return watcher
                for rv, key, old, new, deleted in self._history:
                    if rv > start and key == res.key and (ev := watcher.event(old, new, deleted)):
                        sink(ev)
            self._watchers.add(watcher)
        return watcher

    def unwatch(self, watcher: Watcher) -> None:
        with self.lock:
            self._watchers.discard(watcher)

    def bookmark(self, watcher: Watcher) -> None:
        """Send the watcher a BOOKMARK at the current resourceVersion, in order after every event sent so far."""
        with self.lock:
            if watcher in self._watchers:
                watcher.sink(("BOOKMARK", str(self._rv)))

    def compact(self) -> None:
        """Forget the event history, as an API server does when etcd compacts: older watches get 410 Expired."""
        with self.lock:
            self._history.clear()
            self._compacted = self._rv

    # -- persistence (a lab reopened later finds its cluster as it left it)
    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"resourceVersion": self._rv, "objects": [o for o in self._objects.values()]}

    def restore(self, data: dict[str, Any]) -> None:
        """Load a snapshot: CRDs first (they define the other kinds); watches older than it get 410 Expired."""
        objects = sorted(data.get("objects") or [], key=lambda o: o.get("kind") != "CustomResourceDefinition")
        with self.lock:
            for obj in objects:
                res = self.registry.by_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
                if res is None:
                    continue
                meta = obj["metadata"]
                key = (*res.key, meta.get("namespace", "") if res.namespaced else "", meta["name"])
                self._objects[key] = obj
                self._by_resource.setdefault(res.key, {})[key] = obj
                if res.key == CRD_KEY:
                    self._refresh_registry()
            self._rv = max(self._rv, int(data.get("resourceVersion") or 0)) + 1
            self._compacted = self._rv
            self._history.clear()

    def clear(self) -> None:
        """Forget every object (the lab's etcd is recovered from a snapshot, whose objects are loaded next)."""
        with self.lock:
            self._objects.clear()
            self._by_resource.clear()
            self._history.clear()
            self._compacted = self._rv
            self._refresh_registry()

    def close_watches(self) -> None:
        with self.lock:
            for watcher in list(self._watchers):
                watcher.sink(None)
            self._watchers.clear()

    # -- internals
    def _key(self, res: Resource, namespace: str, name: str, check_namespace: bool = True) -> Key:
        if not name:
            raise ApiError(
                422,
                "Invalid",
                f'{res.kind} in version "{res.version}" cannot be handled: metadata.name: Required value: name is required',
            )
        rbac = res.group == "rbac.authorization.k8s.io"  # RBAC names are path segments (system:…, a:b)
        valid = name not in (".", "..") and not set("/%") & set(name) if rbac else NAME_RE.match(name)
        if not valid and res.key != ("", "events"):
            raise ApiError(
                422,
                "Invalid",
                f'{res.kind} "{name}" is invalid: metadata.name: Invalid value: "{name}": a lowercase RFC 1123 subdomain '
                "must consist of lower case alphanumeric characters, '-' or '.'",
                name=name,
                kind=res.kind,
            )
        ns = namespace if res.namespaced else ""
        if res.namespaced and not ns:
            raise ApiError(
                400,
                "BadRequest",
                "the namespace of the provided object does not match the namespace sent on the request",
            )
        if ns and check_namespace and ("", "namespaces", "", ns) not in self._objects:
            raise ApiError(404, "NotFound", f'namespaces "{ns}" not found', name=ns, kind="namespaces")
        return (*res.key, ns, name)

    def _existing(
        self, res: Resource, namespace: str, name: str, check_namespace: bool = True
    ) -> tuple[Key, Obj]:
        """The key and stored object a write targets (under the lock); NotFound when there is none."""
        key = self._key(res, namespace, name, check_namespace)
        old = self._objects.get(key)
        if old is None:
            raise not_found(res, name)
        return key, old

    def _subresource(self, res: Resource, old: Obj, new: Obj, subresource: str) -> Obj:
        if subresource == "status":
            out = clone(old)
            if "status" in new:
                out["status"] = new["status"]
            else:
                out.pop("status", None)
            return out
        if res.status_subresource:
            new = dict(new)
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)
        return new

    def _put(self, res: Resource, key: Key, old: Obj | None, new: Obj, manager: str, operation: str) -> Obj:
        """Store `new` (a dict the caller no longer uses; it may share parts with `old`, never mutated)."""
        new["apiVersion"], new["kind"] = res.api_version, res.kind
        if res.kind == "Secret" and "stringData" in new:  # write-only field, folded into data as the API does
            data = dict(new.get("data") or {})
            for k, v in (new.pop("stringData") or {}).items():
                data[k] = base64.b64encode(str(v).encode()).decode()
            new["data"] = data
        meta = new.setdefault("metadata", {})
        meta["name"] = key[3]
        if res.namespaced:
            meta["namespace"] = key[2]
        else:
            meta.pop("namespace", None)
        now = now_rfc3339()
        if old is None:
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now
            meta["generation"] = 1
        else:
            for kept in ("uid", "creationTimestamp", "generation"):
                if kept in old["metadata"]:
                    meta[kept] = old["metadata"][kept]
            if _spec_part(old) != _spec_part(new):
                meta["generation"] = old["metadata"].get("generation", 1) + 1
            if _same(old, new):
                return old  # a no-op write: no new resourceVersion, no event
        if manager:
            fields = [f for f in meta.get("managedFields") or [] if f.get("manager") != manager]
            fields.append(
                {
                    "manager": manager,
                    "operation": operation,
                    "apiVersion": res.api_version,
                    "time": now,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {},
                }
            )
            meta["managedFields"] = fields
        self._rv += 1
        meta["resourceVersion"] = str(self._rv)
        if res.key == CRD_KEY:
            self._crd_status(new)
        self._objects[key] = new
        self._by_resource.setdefault(res.key, {})[key] = new
        self._record(res.key, old, new, None)
        if res.key == CRD_KEY:
            self._refresh_registry()
        return new

    def _record(self, key: tuple[str, str], old: Obj | None, new: Obj | None, deleted: Obj | None) -> None:
        self._history.append((self._rv, key, old, new, deleted))
        while len(self._history) > HISTORY:
            self._compacted = self._history.popleft()[0]
        for watcher in list(self._watchers):
            if watcher.key == key and (ev := watcher.event(old, new, deleted)):
                watcher.sink(ev)

    def _crd_resource(self, crd: Obj) -> Resource | None:
        return resource_from_crd(crd)

    def _crd_status(self, crd: Obj) -> None:
        names = (crd.get("spec") or {}).get("names") or {}
        now = now_rfc3339()
        crd["status"] = {
            "acceptedNames": names,
            "storedVersions": [
                v["name"] for v in (crd.get("spec") or {}).get("versions") or [] if v.get("storage")
            ],
            "conditions": [
                {
                    "type": "NamesAccepted",
                    "status": "True",
                    "reason": "NoConflicts",
                    "message": "no conflicts found",
                    "lastTransitionTime": now,
                },
                {
                    "type": "Established",
                    "status": "True",
                    "reason": "InitialNamesAccepted",
                    "message": "the initial names have been accepted",
                    "lastTransitionTime": now,
                },
            ],
        }

    def _refresh_registry(self) -> None:
        self.registry.set_crds(list(self._by_resource.get(CRD_KEY, {}).values()))
