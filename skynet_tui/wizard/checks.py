"""Checks of the answers per wizard step, all through spec: field errors, cross-field notes, issue locations.

Pure Python (no Textual). spec reports cross-field issues only once every field is valid, so sections the
cross-field rules never read are stood in for while the operator has not reached them yet.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from skynet_tui import spec, versions
from skynet_tui.wizard.catalog import FIELD_BY_PATH, FIELDS, NODE_FIELDS, StepId
from skynet_tui.wizard.state import Answers, get_value, set_value

_INDEX = re.compile(r"\[(\d+)\]")
_NODE_REF = re.compile(r"spec\.nodes\[\d+\] \(([^)]*)\)")
_PATH_REF = re.compile(r"\b(?:spec\.)?([a-zA-Z]+(?:\.[a-zA-Z0-9]+)+)(?:\[(\d+)\])?")
NODE_LABELS = {f.path.removeprefix("node."): f.label for f in NODE_FIELDS} | {
    "interface": "Link",
    "mac": "Link",
}

# ---------------------------------------------------------------- the operator's words


def operator_text(message: str) -> str:
    """spec's message with its internal references in the wizard's words: `spec.nodes[0] (cp-1)` → `node
    cp-1`, `spec.loadBalancer.addresses[1]` → `MetalLB pool entry 2`, `network.subnet` → `Node subnet`."""
    message = _NODE_REF.sub(r"node \1", message)

    def label(match: re.Match[str]) -> str:
        for candidate in (f"spec.{match[1]}", match[1]):
            if candidate in FIELD_BY_PATH:
                text = FIELD_BY_PATH[candidate].label
                return f"{text} entry {int(match[2]) + 1}" if match[2] else text
        return match[0]

    return _PATH_REF.sub(label, message)


def node_name(data: dict[str, Any], index: int) -> str:
    """A node as the operator knows it: `node cp-1`, else `node 3` while it has no hostname."""
    nodes = get_value(data, "spec.nodes") or []
    node = nodes[index] if 0 <= index < len(nodes) and isinstance(nodes[index], dict) else {}
    hostname = node.get("hostname")
    return f"node {hostname}" if isinstance(hostname, str) and hostname else f"node {index + 1}"


# ---------------------------------------------------------------- where an issue points


@dataclass(frozen=True)
class Location:
    """Where an issue path points in the wizard: a step, the field path there, and a node row for nodes."""

    step: StepId
    field: str
    node: int | None = None
    node_field: str | None = None


def locate(path: str) -> Location:
    """`spec.loadBalancer.addresses[0]` → network step, field `spec.loadBalancer.addresses`."""
    match = re.match(r"^spec\.nodes\[(\d+)\](?:\.(\w+))?", path)
    if match:
        return Location("nodes", "spec.nodes", int(match[1]), match[2])
    if path.startswith("spec.nodes"):
        return Location("nodes", "spec.nodes")
    bare = _INDEX.sub("", path)
    for candidate in _prefixes(bare):
        if candidate in FIELD_BY_PATH:
            return Location(FIELD_BY_PATH[candidate].step, candidate)
    # A whole missing object (`spec.network`) or a rule about one (`spec.gitops.credentials`):
    for spec_field in FIELDS:
        if spec_field.path.startswith(bare + "."):
            return Location(spec_field.step, spec_field.path)
    return Location("cluster", "metadata.name")


def _prefixes(path: str) -> Iterable[str]:
    parts = path.split(".")
    for end in range(len(parts), 0, -1):
        yield ".".join(parts[:end])


# ---------------------------------------------------------------- checks (all rules from spec)


@dataclass
class StepCheck:
    """Issues of one step: `errors` (field rules; they block Next) and `notes` (cross-field rules, listed on
    review, where they block writing), both keyed by field path; `nodes` keys node issues by row."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    node_errors: dict[int, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.node_errors


def classify(data: dict[str, Any]) -> tuple[list[spec.Issue], list[spec.Issue]]:
    """(field issues, cross-field issues) of the answers: spec reports cross-field ones only once every field
    passes, so a non-empty list from `spec.check` is one kind or the other."""
    issues = spec.check(data)
    if not issues:
        return [], []
    try:
        spec.Cluster.model_validate(data)
    except ValidationError:
        return issues, []
    return [], issues


# Valid stand-ins for sections the cross-field rules never read, so those rules can run before the
# operator reaches the later steps. Sections the rules do read are never replaced.
_STAND_INS: dict[str, Any] = {
    "metadata": {"name": "wizard"},
    "spec.ingress": {"domain": "example.com", "acme": {"email": "ops@example.com"}},
    "spec.gitops": {"repoURL": "file:///srv/wizard.git"},
    "spec.components": {},
    "spec.talos.schematic": versions.VANILLA_SCHEMATIC,
}


def _with_stand_ins(data: dict[str, Any], field_issues: list[spec.Issue], keep: StepId) -> dict[str, Any]:
    trial = copy.deepcopy(data)
    for section, stand_in in _STAND_INS.items():
        if any(_under(issue.path, section) for issue in field_issues) and not any(
            f.step == keep and _under(f.path, section) for f in FIELDS
        ):
            set_value(trial, section, copy.deepcopy(stand_in))
    return trial


def _under(path: str, section: str) -> bool:
    return path == section or path.startswith(section + ".") or path.startswith(section + "[")


def check_step(data: dict[str, Any], step: StepId) -> StepCheck:
    """What is wrong with the fields of one step, as spec sees the whole answers."""
    result = StepCheck()
    field_issues, cross = classify(data)
    if field_issues:
        trial = _with_stand_ins(data, field_issues, step)
        still, cross = classify(trial)
        if still:
            cross = []
    for issue in field_issues:
        _file(result, issue, step, blocking=True)
    for issue in cross:
        _file(result, issue, step, blocking=False)
    if step == "cluster":
        _check_versions(data, result)
    return result


def _check_versions(data: dict[str, Any], result: StepCheck) -> None:
    """Both versions sit on the cluster step: their range rule (from spec) blocks Next there, as typed."""
    paths = ("spec.talos.version", "spec.kubernetes.version")
    if any(path in result.errors for path in paths):
        return
    talos = get_value(data, paths[0]) or versions.DEFAULT_TALOS
    kubernetes = get_value(data, paths[1]) or versions.DEFAULT_KUBERNETES
    for issue in spec.version_issues(str(talos), str(kubernetes)):
        result.notes.pop(issue.path, None)
        result.errors.setdefault(issue.path, []).append(issue.message)


def _file(result: StepCheck, issue: spec.Issue, step: StepId, *, blocking: bool) -> None:
    where = locate(issue.path)
    if where.step != step and step != "review":
        return
    text = operator_text(issue.message)
    if where.node is not None and blocking:
        name = NODE_LABELS.get(where.node_field or "", "node")
        result.node_errors.setdefault(where.node, []).append(f"{name}: {text}")
        return
    target = result.errors if blocking else result.notes
    if where.node is not None:
        who = f"node {issue.subject}" if issue.subject else f"node {where.node + 1}"
        field_label = NODE_LABELS.get(where.node_field or "")
        text = f"{who}{' ' + field_label if field_label else ''}: {text}"
    target.setdefault(where.field, []).append(text)


def _with_node(data: dict[str, Any], index: int, node: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """A copy of the answers with `node` at `index` (appended when index is past the end), and its index."""
    trial = copy.deepcopy(data)
    nodes = trial.setdefault("spec", {}).setdefault("nodes", [])
    if index < len(nodes):
        nodes[index] = node
        return trial, index
    nodes.append(node)
    return trial, len(nodes) - 1


def check_node(data: dict[str, Any], index: int, node: dict[str, Any]) -> dict[str, list[str]]:
    """Field errors of one node (as it would sit at `index`), keyed by node key (hostname, ip, …)."""
    trial, index = _with_node(data, index, node)
    out: dict[str, list[str]] = {}
    field_issues, _cross = classify(trial)
    for issue in field_issues:
        where = locate(issue.path)
        if where.node == index:
            out.setdefault(where.node_field or "node", []).append(operator_text(issue.message))
    return out


def node_cross_issues(data: dict[str, Any], index: int, node: dict[str, Any]) -> dict[str, list[str]]:
    """Cross-field issues of one node (duplicates, outside the subnet), when the rest can be checked."""
    trial, index = _with_node(data, index, node)
    field_issues, cross = classify(trial)
    if field_issues:
        trial = _with_stand_ins(trial, field_issues, "nodes")
        still, cross = classify(trial)
        if still:
            return {}
    out: dict[str, list[str]] = {}
    mention = f"spec.nodes[{index}] ("
    for issue in cross:
        where = locate(issue.path)
        if where.node == index:
            out.setdefault(where.node_field or "node", []).append(operator_text(issue.message))
        elif where.node is None and mention in issue.message:
            # The gateway, the endpoint/VIP or the MetalLB pool on this node's IP: said under its IP.
            label = FIELD_BY_PATH[where.field].label if where.field in FIELD_BY_PATH else where.field
            out.setdefault("ip", []).append(f"{label}: {operator_text(issue.message)}")
    return out


def review_issues(data: dict[str, Any]) -> list[spec.Issue]:
    """Every error of the answers, field and cross-field, each with its path."""
    field_issues, cross = classify(data)
    return field_issues or cross


def check_workspace(answers: Answers) -> tuple[list[str], list[str]]:
    """(errors, notes) about the workspace folder: it must be a folder (or not exist yet)."""
    folder = answers.workspace
    if folder is None:
        return ["name the cluster, or type a folder"], []
    if folder.exists() and not folder.is_dir():
        return [f"{folder} is a file, not a folder"], []
    existing = folder / "cluster.yaml"
    if existing.is_file():
        try:
            other = spec.read_answers(existing) or {}  # hostile input too: bounded, no aliases
        except spec.SpecError:
            other = {}
        other_name = get_value(other, "metadata.name") if isinstance(other, dict) else None
        if other_name and other_name != answers.name:
            return [], [
                f"{folder} holds the workspace of cluster {other_name!r}; writing replaces its answers"
            ]
    return [], []


def kubernetes_help(data: dict[str, Any]) -> str:
    """The supported range for the Talos version typed, from the support matrix."""
    talos = str(get_value(data, "spec.talos.version") or "")
    release = versions.release_for(talos)
    if release is None:
        return "the supported range depends on the Talos version"
    low, high = versions.kubernetes_range(talos) or ("?", "?")
    which = f"Talos v{release.minor}" + (" (release candidate)" if release.prerelease else "")
    return f"{which} supports {low} – {high} (default {release.k8s_default})"


def talos_help(data: dict[str, Any]) -> str:
    """The release channel of the Talos version typed: the stable release, or a release candidate."""
    talos = str(get_value(data, "spec.talos.version") or versions.DEFAULT_TALOS)
    candidates = [versions.TALOS_RELEASES[m] for m in versions.INSTALLABLE_MINORS]
    candidate = next((r.latest for r in candidates if r.prerelease), None)
    if versions.is_release_candidate(talos):
        return f"{talos} is a release candidate: a pre-release, for trying out, not for production"
    offer = f"; {candidate} is a release candidate (type it to opt in)" if candidate else ""
    return f"{versions.DEFAULT_TALOS} is stable{offer}"
