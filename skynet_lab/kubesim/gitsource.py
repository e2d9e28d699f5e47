"""The lab's Argo CD repo-server: reads Application sources from `file://` Git repositories and renders them.

Git is read through the project's launcher (`git rev-parse`, `ls-tree`, `cat-file --batch`). Helm charts are
rendered from the simulated chart table (kubesim/helm.py); values files come from the Git sources (`$ref/...`).
A kustomize folder of a public repository (kubelet-serving-cert-approver) is built from charts_addons.MANIFESTS.
"""

from __future__ import annotations

import posixpath
import time
import urllib.parse
from typing import Any

import yaml

from skynet_lab.kubesim.charts import Ctx
from skynet_lab.kubesim.charts_addons import MANIFESTS
from skynet_lab.kubesim.helm import render as helm_template
from skynet_tui import api

Obj = dict[str, Any]


MIN_REFRESH = 0.5  # seconds: even a zero-latency lab polls Git at most this often


class SourceError(Exception):
    """The manifests of an Application cannot be generated; the message is Argo CD's ComparisonError text."""


class GitRepos:
    """Cached reads of local bare repositories by URL."""

    def __init__(self, refresh: float = 3.0):
        self.refresh = refresh
        self._revs: dict[tuple[str, str], tuple[float, str]] = {}
        self._trees: dict[tuple[str, str], list[str]] = {}
        self._blobs: dict[tuple[str, str, str], str] = {}

    @staticmethod
    def local_path(url: str) -> str | None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme == "file":
            return urllib.parse.unquote(parts.path)
        if not parts.scheme and url.startswith("/"):
            return url
        return None

    def _git(self, path: str, *args: str, stdin: str | None = None) -> str:
        result = api.run(["git", "--git-dir", path, *args], stdin=stdin, timeout=20)
        if not result.ok:
            raise SourceError(result.tail(2) or f"git {args[0]} failed")
        return result.stdout

    def resolve(self, url: str, revision: str) -> str:
        """The commit SHA of `revision` (branch, tag, HEAD or SHA), re-read every `refresh` seconds."""
        path = self.local_path(url)
        if path is None:
            raise SourceError(
                f"failed to list refs: repository not found: the simulated lab reaches file:// repositories only ({url})"
            )
        key = (url, revision or "HEAD")
        cached = self._revs.get(key)
        if cached and time.monotonic() - cached[0] < max(self.refresh, MIN_REFRESH):
            return cached[1]
        try:
            sha = self._git(
                path, "rev-parse", "--verify", "--quiet", f"{revision or 'HEAD'}^{{commit}}"
            ).strip()
        except SourceError:
            raise SourceError(f"unable to resolve '{revision or 'HEAD'}' to a commit SHA") from None
        self._revs[key] = (time.monotonic(), sha)
        return sha

    def files(self, url: str, sha: str) -> list[str]:
        key = (url, sha)
        if key not in self._trees:
            out = self._git(self.local_path(url) or "", "ls-tree", "-r", "--name-only", sha)
            self._trees[key] = [line for line in out.splitlines() if line]
        return self._trees[key]

    def read(self, url: str, sha: str, names: list[str]) -> dict[str, str]:
        """Contents of `names` at `sha`, one `git cat-file --batch` for all the missing ones."""
        missing = [n for n in names if (url, sha, n) not in self._blobs]
        if missing:
            raw = self._git(
                self.local_path(url) or "",
                "cat-file",
                "--batch",
                stdin="".join(f"{sha}:{n}\n" for n in missing),
            )
            data = raw.encode("utf-8")
            pos = 0
            for name in missing:
                end = data.index(b"\n", pos)
                header = data[pos:end].decode().split()
                pos = end + 1
                if len(header) < 3 or header[1] == "missing":
                    self._blobs[(url, sha, name)] = ""
                    continue
                size = int(header[2])
                self._blobs[(url, sha, name)] = data[pos : pos + size].decode("utf-8", "replace")
                pos += size + 1
        return {n: self._blobs[(url, sha, n)] for n in names}


def _docs(text: str, name: str) -> list[Obj]:
    try:
        docs = list(yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    except yaml.YAMLError as exc:
        raise SourceError(f"Failed to unmarshal {posixpath.basename(name)}: {exc}") from None
    out: list[Obj] = []
    for doc in docs:
        if isinstance(doc, dict) and str(doc.get("kind", "")).endswith("List") and "items" in doc:
            out += [d for d in doc["items"] if isinstance(d, dict)]
        elif isinstance(doc, dict) and doc.get("kind") and doc.get("apiVersion"):
            out.append(doc)
    return out


def sources(app: Obj) -> list[Obj]:
    spec = app.get("spec") or {}
    return list(spec.get("sources") or ([spec["source"]] if spec.get("source") else []))


class RepoServer:
    """Generates an Application's target manifests and the revisions they came from."""

    def __init__(self, repos: GitRepos):
        self.repos = repos
        self._cache: dict[str, tuple[list[str], list[Obj], str]] = {}

    def manifests(self, app: Obj) -> tuple[list[str], list[Obj], str]:
        """(revisions, manifests, sourceType) for `app`; raises SourceError."""
        srcs = sources(app)
        if not srcs:
            raise SourceError("Application has no sources")
        revisions = [self._revision(s) for s in srcs]
        key = repr((app.get("spec"), revisions))
        if key not in self._cache:
            refs = {
                s["ref"]: (s["repoURL"], rev) for s, rev in zip(srcs, revisions, strict=True) if s.get("ref")
            }
            objs: list[Obj] = []
            kinds = []
            for index, (src, rev) in enumerate(zip(srcs, revisions, strict=True)):
                if src.get("ref") and not src.get("chart") and not src.get("path"):
                    continue
                try:
                    kind, docs = self._render(app, src, rev, refs)
                except SourceError as exc:
                    prefix = (
                        f"failed to generate manifest for source {index + 1} of {len(srcs)}: "
                        if len(srcs) > 1
                        else ""
                    )
                    raise SourceError(
                        f"Failed to load target state: {prefix}rpc error: code = Unknown desc = {exc}"
                    ) from None
                kinds.append(kind)
                objs += docs
            self._cache[key] = (revisions, objs, kinds[0] if kinds else "Directory")
            if len(self._cache) > 200:
                self._cache.pop(next(iter(self._cache)))
        return self._cache[key]

    def _revision(self, src: Obj) -> str:
        if src.get("chart"):
            return str(src.get("targetRevision") or "")
        if self.repos.local_path(src.get("repoURL", "")) is None and src.get("path"):
            return str(
                src.get("targetRevision") or "HEAD"
            )  # a remote chart repository: rendered from the table
        return self.repos.resolve(src.get("repoURL", ""), str(src.get("targetRevision") or "HEAD"))

    def _render(
        self, app: Obj, src: Obj, rev: str, refs: dict[str, tuple[str, str]]
    ) -> tuple[str, list[Obj]]:
        url, path = src.get("repoURL", ""), str(src.get("path") or "").strip("/")
        local = self.repos.local_path(url) is not None
        repository = posixpath.basename(url.rstrip("/")).removesuffix(".git")
        if path and not local and repository in MANIFESTS:  # a remote repository's kustomize folder
            return "Kustomize", self._manifests(app, repository, rev)
        if src.get("chart") or (path and not local):
            chart = src.get("chart") or posixpath.basename(path)
            return "Helm", self._helm(app, src, chart, url, rev, path, refs)
        files = self.repos.files(url, rev)
        prefix = f"{path}/" if path and path != "." else ""
        if prefix and not any(f.startswith(prefix) for f in files):
            raise SourceError(f"{path}: app path does not exist")
        recurse = bool((src.get("directory") or {}).get("recurse"))
        chosen = [
            f
            for f in files
            if f.startswith(prefix)
            and (recurse or "/" not in f[len(prefix) :])
            and f.endswith((".yaml", ".yml", ".json"))
        ]
        kustomization = next(
            (f for f in chosen if posixpath.basename(f) in ("kustomization.yaml", "kustomization.yml")), None
        )
        if kustomization is not None:
            text = self.repos.read(url, rev, [kustomization])[kustomization]
            listed = (yaml.safe_load(text) or {}).get("resources") or []
            chosen = [posixpath.normpath(posixpath.join(path, str(r))) for r in listed]
            kind = "Kustomize"
        else:
            kind = "Directory"
        texts = self.repos.read(url, rev, chosen)
        docs: list[Obj] = []
        for name in chosen:
            docs += _docs(texts[name], name)
        return kind, docs

    def _manifests(self, app: Obj, repository: str, rev: str) -> list[Obj]:
        dest = (app.get("spec") or {}).get("destination") or {}
        ctx = Ctx(app["metadata"]["name"], repository, dest.get("namespace") or "default", rev, {})
        return MANIFESTS[repository](ctx, True)

    def _helm(
        self, app: Obj, src: Obj, chart: str, url: str, rev: str, path: str, refs: dict[str, tuple[str, str]]
    ) -> list[Obj]:
        helm = src.get("helm") or {}
        values: dict[str, Any] = {}
        for entry in helm.get("valueFiles") or []:
            entry = str(entry)
            if entry.startswith("$"):
                ref, _, rel = entry[1:].partition("/")
                if ref not in refs:
                    raise SourceError(f"failed to find source with ref '{ref}'")
                ref_url, ref_rev = refs[ref]
                text = self.repos.read(ref_url, ref_rev, [rel])[rel]
                if not text and not helm.get("ignoreMissingValueFiles"):
                    raise SourceError(f"open {rel}: no such file or directory")
            elif self.repos.local_path(url) is not None:
                name = posixpath.join(path, entry)
                text = self.repos.read(url, rev, [name])[name]
            else:
                continue
            values = _merge(values, yaml.safe_load(text) or {})
        if helm.get("values"):
            values = _merge(values, yaml.safe_load(helm["values"]) or {})
        if helm.get("valuesObject"):
            values = _merge(values, helm["valuesObject"])
        for param in helm.get("parameters") or []:
            values = _merge(values, _dotted(param.get("name", ""), param.get("value")))
        dest = (app.get("spec") or {}).get("destination") or {}
        release = helm.get("releaseName") or app["metadata"]["name"]
        rendered = helm_template(
            release,
            chart,
            namespace=dest.get("namespace") or "default",
            version=str(src.get("targetRevision") or ""),
            values=values,
            include_crds=not helm.get("skipCrds"),
        )
        return [doc for _, doc in rendered]


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in (over or {}).items():
        out[key] = (
            _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        )
    return out


def _dotted(name: str, value: Any) -> dict[str, Any]:
    out: Any = value
    for part in reversed(name.split(".")):
        out = {part: out}
    return out
