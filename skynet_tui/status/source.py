"""Which cluster the console reads: a workspace's secrets, explicit files, or KUBECONFIG/TALOSCONFIG.

`--workspace DIR` means DIR/secrets/kubeconfig and DIR/secrets/talosconfig; `--kubeconfig F` and `--talosconfig F`
name files; without either, KUBECONFIG (its first existing file) and TALOSCONFIG, then the workspace in the
current folder. ~/.kube/config and ~/.talos/config are read only when named explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml


class SourceError(ValueError):
    """The cluster to read cannot be found from what was given (bad input: exit 2); says how to fix it."""


@dataclass(frozen=True)
class Source:
    kubeconfig: Path
    talosconfig: Path | None = None
    workspace: Path | None = None
    name: str = ""  # the cluster's name for titles

    def describe(self) -> str:
        where = f"workspace {self.workspace}" if self.workspace else f"kubeconfig {self.kubeconfig}"
        return f"{self.name} ({where})" if self.name else where


def _cluster_name(workspace: Path | None, kubeconfig: Path) -> str:
    """The name in the workspace's cluster.yaml, else the kubeconfig's current context's cluster."""
    try:
        if workspace is not None:
            doc = yaml.safe_load((workspace / "cluster.yaml").read_text(encoding="utf-8")) or {}
            name = (doc.get("metadata") or {}).get("name")
            if name:
                return str(name)
        doc = yaml.safe_load(kubeconfig.read_text(encoding="utf-8")) or {}
        current = doc.get("current-context")
        context = next((c for c in doc.get("contexts") or [] if c.get("name") == current), None)
        return str(((context or {}).get("context") or {}).get("cluster") or current or "")
    except (OSError, yaml.YAMLError, AttributeError, TypeError):
        return ""


def of_workspace(folder: Path) -> Source:
    """The Source of a workspace folder (its secrets/kubeconfig must exist)."""
    folder = Path(folder).expanduser().resolve()
    kubeconfig = folder / "secrets" / "kubeconfig"
    if not kubeconfig.is_file():
        raise SourceError(
            f"{kubeconfig} does not exist: the workspace's install has not fetched a kubeconfig yet "
            "(run `skynet install` first, or pass --kubeconfig)"
        )
    talosconfig = folder / "secrets" / "talosconfig"
    return Source(
        kubeconfig,
        talosconfig if talosconfig.is_file() else None,
        folder,
        _cluster_name(folder, kubeconfig),
    )


def resolve(
    *,
    workspace: str | Path | None = None,
    kubeconfig: str | Path | None = None,
    talosconfig: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Source:
    """The Source for the command line's flags; SourceError when nothing usable is given."""
    env = os.environ if env is None else env
    if workspace and (kubeconfig or talosconfig):
        raise SourceError("use --workspace DIR, or --kubeconfig FILE and --talosconfig FILE, not both")
    if workspace:
        return of_workspace(Path(workspace))
    tc = Path(talosconfig).expanduser() if talosconfig else None
    if tc is not None and not tc.is_file():
        raise SourceError(f"--talosconfig {tc}: no such file")
    if kubeconfig:
        kc = Path(kubeconfig).expanduser()
        if not kc.is_file():
            raise SourceError(f"--kubeconfig {kc}: no such file")
        return Source(kc, tc or _env_file(env, "TALOSCONFIG"), None, _cluster_name(None, kc))
    from_env = _env_file(env, "KUBECONFIG")
    if from_env is not None:
        return Source(from_env, tc or _env_file(env, "TALOSCONFIG"), None, _cluster_name(None, from_env))
    here = cwd or Path.cwd()
    if (here / "cluster.yaml").is_file() and (here / "secrets" / "kubeconfig").is_file():
        found = of_workspace(here)
        return Source(found.kubeconfig, tc or found.talosconfig, found.workspace, found.name)
    raise SourceError(
        "no cluster given: pass --workspace DIR (a Skynet workspace) or --kubeconfig FILE "
        "(KUBECONFIG is not set; ~/.kube/config is read only when named)"
    )


def _env_file(env: Mapping[str, str], name: str) -> Path | None:
    """The first existing file of a PATH-like variable (KUBECONFIG may list several)."""
    for part in (env.get(name) or "").split(os.pathsep):
        if part and Path(part).expanduser().is_file():
            return Path(part).expanduser()
    return None
