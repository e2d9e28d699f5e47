"""The lab's SIMULATED kubectl: `apply --server-side`, `get -o yaml|json`, `version --client`, against the mock API.

Output and errors follow kubectl 1.36. It imports only the standard library and PyYAML, so it starts fast.
"""

from __future__ import annotations

import json
import sys
import urllib.parse
from pathlib import Path
from typing import Any

import yaml

from skynet_lab import cli
from skynet_lab.bin import quiet_on_broken_pipe
from skynet_lab.cli import Flag, Invocation
from skynet_lab.kubesim.kubectl_client import (
    BUILD_INFO,
    CLIENT_VERSION,
    KUSTOMIZE_VERSION,
    Api,
    KubectlError,
    collection_path,
    qualified,
    server_error,
)

# kubectl's commands the lab does not simulate: named as such instead of "unknown command".
REAL_COMMANDS = (
    "annotate", "api-resources", "api-versions", "attach", "auth", "autoscale", "certificate", "cluster-info",
    "completion", "config", "cordon", "cp", "create", "debug", "delete", "describe", "diff", "drain", "edit",
    "events", "exec", "explain", "expose", "kustomize", "label", "logs", "patch", "plugin", "port-forward", "proxy",
    "replace", "rollout", "run", "scale", "set", "taint", "top", "uncordon", "wait",
)  # fmt: skip

OUTPUT = Flag("output", "o", "string")
# What the lab simulates: kubectl's global flags (on the root), then each simulated command's own flags.
KUBECTL = cli.Table(
    "kubectl",
    {
        "": tuple(
            Flag(name, short, kind, persistent=True)
            for name, short, kind in (
                ("kubeconfig", None, "string"),
                ("context", None, "string"),
                ("cluster", None, "string"),
                ("user", None, "string"),
                ("namespace", "n", "string"),
                ("request-timeout", None, "string"),
                ("v", "v", "int"),
            )
        ),
        "apply": (
            Flag("filename", "f", "strings"),
            Flag("server-side"),
            Flag("force-conflicts"),
            Flag("field-manager", None, "string"),
        ),
        "get": (OUTPUT, Flag("all-namespaces", "A")),
        "version": (OUTPUT, Flag("client")),
        **dict.fromkeys(REAL_COMMANDS),
    },
)


def _client_version() -> dict[str, str]:
    major, minor, _ = CLIENT_VERSION.lstrip("v").split(".", 2)
    return {"major": major, "minor": minor, "gitVersion": CLIENT_VERSION, **BUILD_INFO}


def cmd_version(inv: Invocation) -> int:
    if not inv.get("client"):
        raise KubectlError(
            "error: the Skynet lab's simulated kubectl reports its client version only: add --client"
        )
    output = inv.get("output", "")
    if output not in ("", "json", "yaml"):
        raise KubectlError("error: --output must be 'yaml' or 'json'")
    doc: dict[str, Any] = {"clientVersion": _client_version(), "kustomizeVersion": KUSTOMIZE_VERSION}
    if output == "json":
        print(json.dumps(doc, indent=2), flush=True)
    elif output == "yaml":
        print(yaml.safe_dump(doc, sort_keys=True), end="", flush=True)
    else:
        print(f"Client Version: {CLIENT_VERSION}\nKustomize Version: {KUSTOMIZE_VERSION}", flush=True)
    return 0


def _read_manifests(sources: list[str]) -> list[tuple[str, dict[str, Any]]]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    out: list[tuple[str, dict[str, Any]]] = []
    for source in sources:
        if source == "-":
            files = [("STDIN", sys.stdin.read())]
        else:
            path = Path(source)
            if path.is_dir():
                names = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
                files = [(str(p), p.read_text(encoding="utf-8")) for p in names]
            elif path.exists():
                files = [(source, path.read_text(encoding="utf-8"))]
            else:
                raise KubectlError(f'error: the path "{source}" does not exist')
        for name, text in files:
            try:
                docs = list(yaml.load_all(text, Loader=loader))
            except yaml.YAMLError as exc:
                raise KubectlError(
                    f"error: error parsing {name}: error converting YAML to JSON: yaml: {exc}"
                ) from None
            for doc in docs:
                if not doc:
                    continue
                if not isinstance(doc, dict):
                    raise KubectlError(
                        f"error: error parsing {name}: json: cannot unmarshal into Go value of type map[string]interface {{}}"
                    )
                items = (
                    doc.get("items")
                    if str(doc.get("kind", "")).endswith("List") and "items" in doc
                    else [doc]
                )
                out += [(name, item) for item in items or []]
    return out


def cmd_apply(inv: Invocation) -> int:
    sources = inv.strings("filename")
    if inv.args:
        raise KubectlError(
            f"error: Unexpected args: {inv.args}\nSee 'kubectl apply -h' for help and examples"
        )
    if not sources:
        raise KubectlError("error: must specify one of -f and -k")
    if not inv.get("server-side"):
        raise KubectlError(
            "error: the Skynet lab's simulated kubectl applies server-side only: add --server-side"
        )
    manager = str(inv.get("field-manager", "kubectl"))
    force = bool(inv.get("force-conflicts"))
    docs = _read_manifests(sources)
    if not docs:
        raise KubectlError("error: no objects passed to apply")
    api = Api(inv.flags)
    by_kind = {
        (f"{r['group']}/{r['version']}" if r["group"] else r["version"], r["kind"]): r
        for r in api.resources()
    }
    errors: list[str] = []
    for source, doc in docs:
        api_version, kind = str(doc.get("apiVersion") or ""), str(doc.get("kind") or "")
        meta = doc.get("metadata") or {}
        missing = [
            f"{field} not set" for field, value in (("apiVersion", api_version), ("kind", kind)) if not value
        ]
        if missing:
            errors.append(
                f'error: error validating "{source}": error validating data: [{", ".join(missing)}]; if you choose to ignore these errors, turn validation off with --validate=false'
            )
            continue
        res = by_kind.get((api_version, kind))
        if res is None:
            group_version = api_version if "/" in api_version else f"/{api_version}"
            errors.append(
                f'error: resource mapping not found for name: "{meta.get("name", "")}" namespace: "{meta.get("namespace", "")}" '
                f'from "{source}": no matches for kind "{kind}" in version "{group_version.lstrip("/")}"\nensure CRDs are installed first'
            )
            continue
        name = meta.get("name")
        if not name:
            errors.append(
                f'error: error when retrieving current configuration of:\nResource: "{res["name"]}", GroupVersionKind: "{api_version}, Kind={kind}"\nName: "", Namespace: "{api.namespace}"\nfrom server for: "{source}": resource name may not be empty'
            )
            continue
        namespace = meta.get("namespace") or api.namespace if res["namespaced"] else None
        if res["namespaced"] and inv.get("namespace") and meta.get("namespace") not in (None, namespace):
            errors.append(
                f'error: the namespace from the provided object "{meta["namespace"]}" does not match the namespace "{namespace}". You must pass \'--namespace={meta["namespace"]}\' to perform this operation.'
            )
            continue
        query = urllib.parse.urlencode({"fieldManager": manager, **({"force": "true"} if force else {})})
        path = f"{collection_path(res, namespace)}/{urllib.parse.quote(name)}?{query}"
        status, body = api.request(
            "PATCH", path, json.dumps(doc).encode(), {"Content-Type": "application/apply-patch+yaml"}
        )
        if status >= 400:
            err = server_error(
                {**body, "message": f'error when serverside-apply "{source}": {body.get("message", "")}'}
                if isinstance(body, dict)
                else body,
                status,
            )
            errors.append(str(err))
            continue
        print(f"{qualified(res)}/{name} serverside-applied", flush=True)
    for error in errors:
        print(error, file=sys.stderr, flush=True)
    return 1 if errors else 0


def _resolve(api: Api, word: str) -> list[dict[str, Any]]:
    name, _, group = word.lower().partition(".")
    found = []
    for res in api.resources():
        if group and res["group"] != group and not res["group"].startswith(group + "."):
            continue
        if name == "all" and not group:
            if "all" in (res.get("categories") or []):
                found.append(res)
        elif name in (
            res["name"],
            res.get("singularName"),
            res["kind"].lower(),
            *(res.get("shortNames") or []),
        ):
            found.append(res)
    if not found:
        raise KubectlError(f'error: the server doesn\'t have a resource type "{word}"')
    if name == "all":
        return found
    return [sorted(found, key=lambda r: (r["group"] != "", r["group"] == "metrics.k8s.io"))[0]]


def _clean(obj: dict[str, Any], res: dict[str, Any]) -> dict[str, Any]:
    obj = dict(obj)
    obj.setdefault("apiVersion", f"{res['group']}/{res['version']}" if res["group"] else res["version"])
    obj.setdefault("kind", res["kind"])
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    obj["metadata"] = meta
    return {"apiVersion": obj.pop("apiVersion"), "kind": obj.pop("kind"), **obj}


def cmd_get(inv: Invocation) -> int:
    args = inv.args
    if not args:
        raise KubectlError(
            'You must specify the type of resource to get. Use "kubectl api-resources" for a complete list of supported resources.\n\nerror: Required resource not specified.\nUse "kubectl explain <resource>" for a detailed description of that resource (e.g. kubectl explain pods).\nSee \'kubectl get -h\' for help and examples'
        )
    output = inv.get("output", "")
    if output not in ("json", "yaml"):
        raise KubectlError(
            "error: the Skynet lab's simulated kubectl prints objects only: add -o yaml or -o json"
        )
    all_ns = bool(inv.get("all-namespaces"))
    names = args[1:]
    if all_ns and names:
        raise KubectlError("error: a resource cannot be retrieved by name across all namespaces")
    api = Api(inv.flags)
    kinds = [r for word in args[0].split(",") if word for r in _resolve(api, word)]
    namespace = None if all_ns else api.namespace
    items: list[tuple[dict[str, Any], dict[str, Any]]] = []
    errors: list[str] = []
    for res in kinds:
        base = collection_path(res, namespace if res["namespaced"] else None)
        if not names:
            items += [(res, o) for o in api.get(base).get("items") or []]
        for name in names:
            status, body = api.request("GET", f"{base}/{urllib.parse.quote(name)}")
            if status >= 400:
                errors.append(str(server_error(body, status)))
            else:
                items.append((res, body))
    objs = [_clean(o, r) for r, o in items]
    if len(names) == 1 and len(kinds) == 1 and len(objs) == 1:
        doc: Any = objs[0]
    else:
        doc = {"apiVersion": "v1", "items": objs, "kind": "List", "metadata": {"resourceVersion": ""}}
    if output == "json":
        print(json.dumps(doc, indent=4), flush=True)
    else:
        print(
            yaml.safe_dump(doc, sort_keys=True, default_flow_style=False, width=1_000_000), end="", flush=True
        )
    for error in errors:
        print(error, file=sys.stderr, flush=True)
    return 1 if errors else 0


COMMANDS = {"apply": cmd_apply, "get": cmd_get, "version": cmd_version}


def main(argv: list[str]) -> int:
    """Entry point; a closed stdout (`| head`) ends quietly, as a Go tool dies of SIGPIPE."""
    return quiet_on_broken_pipe(_main, argv)


def _main(argv: list[str]) -> int:
    """Entry point of the fake `kubectl` executable."""
    try:
        inv = cli.parse(KUBECTL, argv)
        handler = COMMANDS.get(inv.command[0])
        if handler is None:
            raise KubectlError(
                f'error: "{inv.path}" is not simulated by the Skynet lab '
                "(simulated: apply --server-side, get -o yaml|json, version --client)"
            )
        return handler(inv)
    except cli.HelpRequested as exc:
        print(cli.usage(KUBECTL, exc.command), end="", flush=True)
        return 0
    except cli.CliError as exc:
        where = (
            f"See '{' '.join(('kubectl', *exc.command))} --help'" if exc.command else "Run 'kubectl --help'"
        )
        print(f"error: {exc.message}\n{where} for usage.", file=sys.stderr, flush=True)
        return 1
    except KubectlError as exc:
        print(exc, file=sys.stderr, flush=True)
        return 1
