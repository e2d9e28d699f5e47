"""What "Write" will put in the workspace, for the review: every committed file's text, secrets by name only.

Pure Python (no Textual). The texts come from the same functions generate uses (cluster.yaml from spec,
Talos patches, the GitOps tree); files that hold secrets are listed without content.
"""

from __future__ import annotations

from dataclasses import dataclass

from skynet_tui import spec
from skynet_tui.spec import Cluster

SECRET_NOTE = "(secret, written by talosctl)"


@dataclass(frozen=True)
class PreviewFile:
    """A workspace-relative path and its text; `content` is None for secrets (never shown)."""

    path: str
    content: str | None
    note: str = ""

    @property
    def secret(self) -> bool:
        return self.content is None


def secret_files(cluster: Cluster) -> list[str]:
    """The files under secrets/ that generate creates with talosctl (git-ignored, 0600)."""
    names = ["secrets/secrets.yaml", "secrets/talosconfig"]
    names += ["secrets/generated/controlplane.yaml", "secrets/generated/worker.yaml"]
    names += [f"secrets/nodes/{node.hostname}.yaml" for node in cluster.spec.nodes]
    return names


def preview(cluster: Cluster) -> list[PreviewFile]:
    """Every file of the workspace the answers produce, sorted by path."""
    from skynet_tui import generate, gitops  # deferred: the renderers (Jinja2, ~70 ms) load on first use

    files = [PreviewFile("cluster.yaml", spec.dump(cluster))]
    files += [PreviewFile(path, text) for path, text in generate.patch_files(cluster).items()]
    prefix = cluster.spec.gitops.path
    files += [PreviewFile(f"{prefix}/{rel}", text) for rel, text in gitops.render_tree(cluster).items()]
    files += [PreviewFile(path, None, SECRET_NOTE) for path in secret_files(cluster)]
    return sorted(files, key=lambda f: f.path)


def language(path: str) -> str:
    """The syntax to highlight a file with."""
    if path.endswith((".yaml", ".yml")):
        return "yaml"
    if path.endswith(".json"):
        return "json"
    return "text"
