"""Run-time checks of a rendered GitOps tree that need no schema files: shape, names, references."""

from __future__ import annotations

import posixpath
from typing import Any

import yaml

VALUES_PREFIX = "$values/"
# libyaml when PyYAML has it: the tree is a few hundred documents, parsed on every generate.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def _mapping(value: object) -> dict[str, Any]:
    """`value` when it is a mapping, else an empty one: parsed YAML may hold anything."""
    return value if isinstance(value, dict) else {}


def _describe(doc: dict[str, Any]) -> str:
    meta = _mapping(doc.get("metadata"))
    namespace = meta.get("namespace")
    name = meta.get("name", "?")
    return f"{doc.get('kind', '?')} {namespace + '/' if namespace else ''}{name}"


def _check_kustomization(path: str, doc: Any, files: dict[str, str]) -> list[str]:
    folder = posixpath.dirname(path)
    if not isinstance(doc, dict) or doc.get("kind") != "Kustomization":
        return [f"{path}: not a Kustomization"]
    listed = doc.get("resources") or []
    problems = [
        f"{path}: resources lists {name}, which is not in {folder}/"
        for name in listed
        if posixpath.join(folder, name) not in files
    ]
    siblings = sorted(
        posixpath.basename(other)
        for other in files
        if posixpath.dirname(other) == folder and other != path and other.endswith((".yaml", ".yml"))
    )
    problems += [
        f"{path}: {name} is in {folder}/ but not in resources" for name in siblings if name not in listed
    ]
    return problems


def _check_application(where: str, doc: dict[str, Any], files: dict[str, str]) -> list[str]:
    spec = _mapping(doc.get("spec"))
    sources = list(spec.get("sources") or []) + (
        [spec["source"]] if isinstance(spec.get("source"), dict) else []
    )
    if not sources:
        return [f"{where}: Application has no source"]
    problems = []
    for source in sources:
        if not isinstance(source, dict):
            continue
        for value_file in _mapping(source.get("helm")).get("valueFiles") or []:
            ref = str(value_file).removeprefix(VALUES_PREFIX)
            if not any(ref == rel or ref.endswith("/" + rel) for rel in files):
                problems.append(f"{where}: value file {value_file} is not in the tree")
        path = str(source.get("path") or "")
        if "/config/" in f"/{path}":
            folder = "config/" + path.split("config/", 1)[1].strip("/")
            if f"{folder}/kustomization.yaml" not in files:
                problems.append(f"{where}: source path {path} has no {folder}/kustomization.yaml in the tree")
    return problems


def check_tree(files: dict[str, str]) -> list[str]:
    """Problems with a rendered tree (relative path → text); empty when fine. Each names file and document."""
    problems: list[str] = []
    seen: dict[tuple[str, str, str, str], str] = {}
    for path, text in sorted(files.items()):
        if not path.endswith((".yaml", ".yml")):
            continue
        try:
            documents = [doc for doc in yaml.load_all(text, Loader=SAFE_LOADER) if doc is not None]
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark else ""
            problems.append(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}")
            continue
        if path.startswith("values/"):
            if len(documents) > 1 or (documents and not isinstance(documents[0], dict)):
                problems.append(f"{path}: Helm values must be a single mapping")
            continue
        if posixpath.basename(path) == "kustomization.yaml":
            problems += _check_kustomization(path, documents[0] if documents else None, files)
            continue
        if not documents:
            problems.append(f"{path}: holds no Kubernetes object")
        for index, doc in enumerate(documents, start=1):
            where = f"{path}: document {index}"
            if not isinstance(doc, dict):
                problems.append(f"{where}: not a mapping")
                continue
            missing = [
                key for key in ("apiVersion", "kind") if not isinstance(doc.get(key), str) or not doc[key]
            ]
            meta = _mapping(doc.get("metadata"))
            if not isinstance(meta.get("name"), str) or not meta["name"]:
                missing.append("metadata.name")
            if missing:
                problems.append(f"{where}: missing {', '.join(missing)}")
                continue
            where = f"{where} ({_describe(doc)})"
            key = (_group(doc["apiVersion"]), doc["kind"], str(meta.get("namespace") or ""), meta["name"])
            if key in seen:
                problems.append(f"{where}: {_describe(doc)} is also defined in {seen[key]}")
            seen.setdefault(key, where)
            if path.startswith("apps/") and doc["kind"] != "Application":
                problems.append(f"{where}: apps/ holds Argo CD Applications only")
            if doc["kind"] == "Application" and _group(doc["apiVersion"]) == "argoproj.io":
                problems += _check_application(where, doc, files)
    return problems
