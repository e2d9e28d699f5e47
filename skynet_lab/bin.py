"""The lab's fake executables (talosctl, kubectl, helm): their wrapper scripts and their shared entry guard."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

FAKES = {
    "talosctl": "skynet_lab.fake_talosctl",
    "kubectl": "skynet_lab.fake_kubectl",
    "helm": "skynet_lab.fake_helm",
}


def install_fakes(folder: Path) -> Path:
    """Write one wrapper script per fake tool, run by this interpreter; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, module in FAKES.items():
        script = folder / name
        script.write_text(
            f"#!{sys.executable} -u\n"
            f"# Skynet lab: a SIMULATED {name}. It talks to simulated machines only.\n"
            f"import sys\nfrom {module} import main\nsys.exit(main(sys.argv[1:]))\n"
        )
        os.chmod(script, 0o755)
    return folder


def lab_path(folder: Path, base_path: str | None = None) -> str:
    """PATH with the fakes first."""
    return f"{folder}{os.pathsep}{base_path if base_path is not None else os.environ.get('PATH', '')}"


def quiet_on_broken_pipe(entry: Callable[[list[str]], int], argv: list[str]) -> int:
    """Run a fake tool's entry point; a closed stdout (`| head`) ends quietly, as a Go tool dies of SIGPIPE."""
    try:
        return entry(argv)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
