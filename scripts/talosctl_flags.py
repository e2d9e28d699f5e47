"""Writes skynet_lab/data/talosctl-<version>-flags.json, the fake talosctl's command table, from the CLI reference.

Run: python scripts/talosctl_flags.py PATH/talosctl-1.13.9-flags.json
The reference (JSON) lists every talosctl command with its flags: {"source": "siderolabs/talos <tag> <path>",
"commands": {"talosctl <path>": {<flag>: {"short": <shorthand or null>, "type": <pflag type or null>}}}}.
The table keeps the commands without the "talosctl" prefix, sorted, one flag a line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "skynet_lab" / "data"


def reshape(reference: dict[str, Any]) -> dict[str, Any]:
    """The lab's table: tool, version and source of the reference, then command path → flag → spec."""
    version = reference["source"].split()[1]
    commands = {
        path.removeprefix("talosctl").strip(): {
            name: {"short": spec["short"], "type": spec["type"]} for name, spec in sorted(flags.items())
        }
        for path, flags in sorted(reference["commands"].items())
    }
    return {"tool": "talosctl", "version": version, "source": reference["source"], "commands": commands}


def render(table: dict[str, Any]) -> str:
    lines = ["{"]
    lines += [f"  {json.dumps(key)}: {json.dumps(table[key])}," for key in ("tool", "version", "source")]
    lines.append('  "commands": {')
    commands = list(table["commands"].items())
    for i, (path, flags) in enumerate(commands):
        lines.append(f"    {json.dumps(path)}: {{")
        entries = [f"      {json.dumps(name)}: {json.dumps(spec)}" for name, spec in flags.items()]
        lines.append(",\n".join(entries))
        lines.append("    }" + ("," if i < len(commands) - 1 else ""))
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    table = reshape(json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    target = DATA / f"talosctl-{table['version'].removeprefix('v')}-flags.json"
    target.write_text(render(table), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
