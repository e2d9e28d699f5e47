"""The Kubernetes API as raw JSON through the kubernetes client's ApiClient: GETs, watch line streams, patches, text.

Requests go through `ApiClient.param_serialize` and `call_api`, the path under every generated method, with the
response left unread (`_preload_content=False` in the generated methods' terms): bodies are decoded with
`json.loads`, never into the client's model classes. The client is built for one kubeconfig only, without the
process-wide default configuration and without writing the file back.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

REQUEST_TIMEOUT = (5.0, 30.0)  # (connect, read) seconds for a single request
POOL_SIZE = 32  # one connection per watched kind stays open; one-off reads need a few more

Query = Sequence[tuple[str, str]]


class Unreachable(Exception):
    """The API could not be reached or the connection broke; the message is safe to show."""


class ApiStatusError(Exception):
    """The API answered with an error Status (404 for a kind it does not serve, 410 Expired, 409 Conflict, …)."""

    def __init__(self, code: int, reason: str, message: str):
        super().__init__(message or reason or f"HTTP {code}")
        self.code, self.reason, self.message = code, reason, message or reason or f"HTTP {code}"


class Lines(Protocol):
    """A watch response: its lines as they arrive; `close()` may be called from another thread."""

    def __iter__(self) -> Iterator[bytes]: ...

    def close(self) -> None: ...


class Transport(Protocol):
    """What the watch loops need from the API (tests script it)."""

    def get_json(self, path: str, query: Query = (), timeout: Any = REQUEST_TIMEOUT) -> dict[str, Any]: ...

    def stream(self, path: str, query: Query, timeout: Any) -> Lines: ...


_POOL = re.compile(r"\w+\(host='([^']*)', port=(\d+)\): (?:Failed to establish a new connection: )?")
_ERRNO = re.compile(r"\[Errno -?\d+\] ")


def _short(exc: BaseException, limit: int = 160) -> str:
    """What went wrong in one line: `127.0.0.1:6443: Connection refused`, `ReadTimeoutError: …`."""
    reason = getattr(exc, "reason", None)  # urllib3's MaxRetryError wraps the error that says what happened
    inner: BaseException = reason if isinstance(reason, BaseException) else exc
    text = str(inner).splitlines()[0] if str(inner) else type(inner).__name__
    match = _POOL.search(text)
    if match:
        return f"{match[1]}:{match[2]}: {_ERRNO.sub('', text[match.end() :])}"[:limit]
    return f"{type(inner).__name__}: {text}"[:limit]


def status_error(code: int, body: bytes) -> ApiStatusError:
    """An error response as the API's Status says it (reason, message), or the bare HTTP code."""
    try:
        status = json.loads(body)
    except ValueError:
        status = {}
    if not isinstance(status, dict):
        status = {}
    return ApiStatusError(code, str(status.get("reason") or ""), str(status.get("message") or ""))


class _Stream:
    """The lines of a chunked watch response; `close()` shuts the socket so a blocked reader returns."""

    def __init__(self, response: Any):
        self._response = response
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        buffer = b""
        try:
            for chunk in self._response.stream(65536, decode_content=False):
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if line.strip():
                        yield line
        except Exception as exc:  # urllib3's read timeouts and protocol errors: the connection is gone
            if self._closed:
                return
            raise Unreachable(_short(exc)) from None
        if buffer.strip():
            yield buffer

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(Exception):
            self._response.shutdown()
        with contextlib.suppress(Exception):
            self._response.release_conn()


class KubeClient:
    """An ApiClient for one kubeconfig (never ~/.kube/config unless that is the file given)."""

    def __init__(self, kubeconfig: Path, *, pool_size: int = POOL_SIZE):
        # ~0.3 s to import: loaded when the console or `status` starts, not by `skynet --help`.
        from kubernetes import client as k8s
        from kubernetes import config as k8s_config

        self.kubeconfig = Path(kubeconfig)
        configuration = k8s.Configuration()
        try:
            k8s_config.load_kube_config(
                config_file=str(kubeconfig), client_configuration=configuration, persist_config=False
            )
        except (
            Exception
        ) as exc:  # missing file, bad YAML, no current context: say which file, not its contents
            raise ValueError(f"cannot use kubeconfig {kubeconfig}: {type(exc).__name__}: {exc}") from None
        configuration.connection_pool_maxsize = pool_size
        configuration.retries = 0  # a refused connection is reported at once; the watch loops back off
        self.server = configuration.host
        self.api = k8s.ApiClient(configuration)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.api.close()

    def _call(
        self,
        method: str,
        path: str,
        query: Query = (),
        *,
        body: Any = None,
        accept: str = "application/json",
        content_type: str | None = None,
        timeout: Any = REQUEST_TIMEOUT,
    ) -> Any:
        headers = {"Accept": accept}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            request = self.api.param_serialize(
                method=method,
                resource_path=path,
                query_params=list(query),
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
            )
            return self.api.call_api(*request, _request_timeout=timeout)
        except Exception as exc:  # connection refused, DNS, TLS, timeouts: never credentials in the text
            raise Unreachable(_short(exc)) from None

    def _read(self, response: Any) -> bytes:
        try:
            data: bytes = response.read()
        except Exception as exc:
            raise Unreachable(_short(exc)) from None
        if response.status >= 300:
            raise status_error(response.status, data)
        return data

    def get_json(self, path: str, query: Query = (), timeout: Any = REQUEST_TIMEOUT) -> dict[str, Any]:
        data = self._read(self._call("GET", path, query, timeout=timeout))
        try:
            out = json.loads(data)
        except ValueError:
            raise ApiStatusError(
                502, "BadResponse", f"GET {path} answered with something that is not JSON"
            ) from None
        return out if isinstance(out, dict) else {}

    def get_text(self, path: str, query: Query = (), timeout: Any = REQUEST_TIMEOUT) -> str:
        data = self._read(self._call("GET", path, query, accept="*/*", timeout=timeout))
        return data.decode("utf-8", "replace")

    def stream(self, path: str, query: Query, timeout: Any) -> Lines:
        response = self._call("GET", path, query, timeout=timeout)
        if response.status >= 300:
            raise status_error(response.status, self._read_error(response))
        return _Stream(response.response)

    def _read_error(self, response: Any) -> bytes:
        try:
            return bytes(response.read())
        except Exception:
            return b""

    def patch(
        self, path: str, body: dict[str, Any], content_type: str = "application/merge-patch+json"
    ) -> dict[str, Any]:
        data = self._read(self._call("PATCH", path, body=body, content_type=content_type))
        try:
            out = json.loads(data)
        except ValueError:
            return {}
        return out if isinstance(out, dict) else {}

    def send(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """Any request with a JSON body: (HTTP status, the answer as a dict), errors included (an eviction's 429
        carries its causes); Unreachable when the API does not answer."""
        response = self._call(method, path, body=body, content_type="application/json" if body else None)
        try:
            data: bytes = response.read()
        except Exception as exc:
            raise Unreachable(_short(exc)) from None
        try:
            out = json.loads(data) if data else {}
        except ValueError:
            out = {}
        return int(response.status), out if isinstance(out, dict) else {}
