"""Runs every benchmark in bench/ (`make bench`), echoes its output and ends with each one's result line."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    scripts = sorted(
        p for p in HERE.glob("*.py") if p.name != Path(__file__).name and not p.name.startswith("_")
    )
    results: list[tuple[str, int, str, float]] = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        started = time.monotonic()
        proc = subprocess.run([sys.executable, str(script)], cwd=HERE.parent, capture_output=True, text=True)
        elapsed = time.monotonic() - started
        sys.stdout.write(proc.stdout)
        sys.stderr.write(proc.stderr)
        lines = [line for line in proc.stdout.splitlines() if line.strip()]
        results.append((script.stem, proc.returncode, lines[-1] if lines else "(no output)", elapsed))
    print("\n== summary")
    for name, code, last, elapsed in results:
        verdict = "ok" if code == 0 else f"MISSED (exit {code})"
        print(f"{name:<16} {verdict:<16} {elapsed:6.1f}s  {last}")
    return 0 if all(code == 0 for _, code, _, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
