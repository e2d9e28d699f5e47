"""The support bundle: a redacted .tar.gz of logs, journal, answers and Application state, made on failure."""

from __future__ import annotations

import io
import os
import tarfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from skynet_tui import journal, launcher
from skynet_tui.redact import Redactor
from skynet_tui.workspace import Workspace

KUBECTL_TIMEOUT = 30.0


def _add(tar: tarfile.TarFile, name: str, text: str) -> None:
    data = text.encode("utf-8")
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
    tar.addfile(info, io.BytesIO(data))


def _redacted(text: str, redactor: Callable[[str], str]) -> str:
    return "\n".join(redactor(line) for line in text.splitlines()) + "\n"


def _overview(ws: Workspace) -> str:
    lines = ["Skynet support bundle: every file in it has passed the secret redactor.", ""]
    failed = [r for r in journal.read(ws.journal) if r.event == "end" and r.status is journal.Outcome.FAILED]
    if failed:
        lines.append("Failed steps (latest run last):")
        lines += [f"  {r.step}: {r.reason}" for r in failed[-10:]]
    return "\n".join(lines) + "\n"


def write_bundle(
    ws: Workspace, *, env: Mapping[str, str] | None = None, redactor: Redactor | None = None
) -> Path:
    """Write `support-bundle-<time>.tar.gz` into the workspace and return its path.

    Holds: logs/*.log, journal.jsonl, cluster.yaml, `kubectl get applications -A -o yaml` (when a kubeconfig
    exists and the API answers) and an overview of the failed steps. Nothing under secrets/ is included.
    """
    redact = redactor or ws.redactor()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = ws.root / f"support-bundle-{stamp}.tar.gz"
    tmp = path.with_suffix(".tmp")
    prefix = f"support-bundle-{stamp}"
    with tarfile.open(tmp, "w:gz") as tar:
        _add(tar, f"{prefix}/README.txt", _overview(ws))
        for log in sorted(ws.logs_dir.glob("*.log")) if ws.logs_dir.is_dir() else []:
            _add(tar, f"{prefix}/logs/{log.name}", _redacted(log.read_text(errors="replace"), redact))
        for source in (ws.journal, ws.cluster_yaml):
            if source.exists():
                _add(tar, f"{prefix}/{source.name}", _redacted(source.read_text(errors="replace"), redact))
        if ws.kubeconfig.exists():
            argv = ["kubectl", "--kubeconfig", str(ws.kubeconfig), "get", "applications", "-A", "-o", "yaml"]
            try:
                result = launcher.run(argv, env=env, redactor=redact, timeout=KUBECTL_TIMEOUT)
                text = (
                    result.stdout if result.ok else f"kubectl failed ({result.returncode}):\n{result.text()}"
                )
            except launcher.ToolNotFound as exc:
                text = str(exc)
            _add(tar, f"{prefix}/applications.yaml", _redacted(text, redact))
    os.replace(tmp, path)
    return path
