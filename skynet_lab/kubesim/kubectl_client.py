"""The HTTP client of the lab's fake kubectl and kubectl's error wording (standard library + PyYAML only: starts fast)."""

from __future__ import annotations

import http.client
import json
import os
import ssl
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

CLIENT_VERSION = "v1.36.3"
KUSTOMIZE_VERSION = "v5.7.1"
# The build the simulated kubectl and the mock API server both report after their version numbers.
BUILD_INFO = {
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-08-01T00:00:00Z",
    "goVersion": "go1.25.9",
    "compiler": "gc",
    "platform": "linux/amd64 (skynet lab, simulated)",
}


class KubectlError(Exception):
    """Printed as is to stderr (already in kubectl's words), exit code 1."""


# -- the API connection ----------------------------------------------------------------------------------------
class Api:
    """One HTTP connection to the server named by the kubeconfig, with kubectl's error wording."""

    def __init__(self, flags: Mapping[str, object]):
        """`flags`: the invocation's flags by long name (kubeconfig, context, namespace)."""
        explicit = str(flags.get("kubeconfig") or "")
        path = (
            explicit
            or (os.environ.get("KUBECONFIG", "").split(os.pathsep)[0])
            or str(Path.home() / ".kube" / "config")
        )
        try:
            config = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            if explicit:
                raise KubectlError(f"error: stat {path}: no such file or directory") from None
            config = {}
        except (OSError, yaml.YAMLError) as exc:
            raise KubectlError(f'error: error loading config file "{path}": {exc}') from None
        ctx_name = str(flags.get("context") or config.get("current-context", ""))
        contexts = {c.get("name"): c.get("context") or {} for c in config.get("contexts") or []}
        if flags.get("context") and ctx_name not in contexts:
            raise KubectlError(f'error: context "{ctx_name}" does not exist')
        context = contexts.get(ctx_name, {})
        clusters = {c.get("name"): c.get("cluster") or {} for c in config.get("clusters") or []}
        users = {u.get("name"): u.get("user") or {} for u in config.get("users") or []}
        server = (clusters.get(context.get("cluster")) or {}).get("server") or "http://localhost:8080"
        user = users.get(context.get("user")) or {}
        self.namespace = str(flags.get("namespace") or context.get("namespace") or "default")
        self.token = user.get("token") or ""
        if not self.token and user.get("tokenFile"):
            self.token = Path(user["tokenFile"]).read_text(encoding="utf-8").strip()
        url = urllib.parse.urlsplit(server)
        self.host = url.netloc
        self.base = url.path.rstrip("/")
        if url.scheme == "https":
            ctx = ssl.create_default_context()
            if (clusters.get(context.get("cluster")) or {}).get("insecure-skip-tls-verify"):
                ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
            self.conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                url.hostname or "", url.port or 443, timeout=32, context=ctx
            )
        else:
            self.conn = http.client.HTTPConnection(url.hostname or "", url.port or 80, timeout=32)
        self._discovery: list[dict[str, Any]] | None = None

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        hdrs = {
            "Accept": "application/json",
            "User-Agent": f"kubectl/{CLIENT_VERSION} (linux/amd64) skynet-lab",
        }
        if self.token:
            hdrs["Authorization"] = f"Bearer {self.token}"
        hdrs.update(headers or {})
        try:
            self.conn.request(method, self.base + path, body=body, headers=hdrs)
            resp = self.conn.getresponse()
            raw = resp.read()
        except ConnectionRefusedError:
            raise KubectlError(
                f"The connection to the server {self.host} was refused - did you specify the right host or port?"
            ) from None
        except OSError as exc:
            raise KubectlError(
                f"Unable to connect to the server: dial tcp {self.host}: {exc.strerror or exc}"
            ) from None
        try:
            return resp.status, json.loads(raw) if raw else {}
        except ValueError:
            return resp.status, {"message": raw.decode("utf-8", "replace")}

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        status, body = self.request("GET", path, headers=headers)
        if status >= 400:
            raise server_error(body, status)
        return body

    def resources(self) -> list[dict[str, Any]]:
        """Every served resource: [{group, version, name, kind, namespaced, shortNames, singularName, categories}]."""
        if self._discovery is None:
            out = []
            lists = [("", "v1", self.get("/api/v1"))]
            for group in self.get("/apis").get("groups") or []:
                gv = group["preferredVersion"]["groupVersion"]
                lists.append((group["name"], gv.split("/", 1)[1], self.get(f"/apis/{gv}")))
            for group, version, doc in lists:
                for res in doc.get("resources") or []:
                    if "/" not in res["name"]:
                        out.append({**res, "group": group, "version": version})
            self._discovery = out
        return self._discovery


def server_error(body: Any, status: int) -> KubectlError:
    reason = body.get("reason") if isinstance(body, dict) else ""
    message = body.get("message") if isinstance(body, dict) else str(body)
    label = reason or {401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict"}.get(
        status, "InternalError"
    )
    return KubectlError(f"Error from server ({label}): {message}")


def collection_path(res: dict[str, Any], namespace: str | None) -> str:
    base = f"/apis/{res['group']}/{res['version']}" if res["group"] else f"/api/{res['version']}"
    if res["namespaced"] and namespace:
        return f"{base}/namespaces/{namespace}/{res['name']}"
    return f"{base}/{res['name']}"


def qualified(res: dict[str, Any]) -> str:
    kind = res["kind"].lower()
    return f"{kind}.{res['group']}" if res["group"] else kind
