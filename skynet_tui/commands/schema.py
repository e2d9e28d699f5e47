"""`skynet schema`: the JSON schema of cluster.yaml."""

from __future__ import annotations

import argparse
import json

from skynet_tui import spec


def run(args: argparse.Namespace) -> int:
    print(json.dumps(spec.json_schema(), indent=2))
    return 0
