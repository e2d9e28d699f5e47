"""`skynet schema`: the JSON schema of cluster.yaml."""

from __future__ import annotations

import argparse
import json


def run(args: argparse.Namespace) -> int:
    from skynet_tui import spec

    print(json.dumps(spec.json_schema(), indent=2))
    return 0
