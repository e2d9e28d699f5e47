"""The command line: help is cheap to start, schema prints, bad input exits 2."""

from __future__ import annotations

import json
import subprocess
import sys

from skynet_tui.__main__ import main


def test_help_imports_no_heavy_module() -> None:
    code = (
        "import sys\nfrom skynet_tui.__main__ import _parser\n_parser().format_help()\n"
        "print(','.join(m for m in ('pydantic', 'textual', 'kubernetes', 'sh', 'jinja2', 'yaml') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_schema_is_json_with_the_contract_keys(capsys) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"].startswith("Skynet")
    assert {"apiVersion", "kind", "metadata", "spec"} <= set(schema["properties"])
