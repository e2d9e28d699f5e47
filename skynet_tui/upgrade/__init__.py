"""Guided upgrades without a UI: the support matrix's paths (paths.py), the gates (gates.py), the live versions of
the nodes (live.py), the etcd snapshot (backup/catalog.py and plan/backup.py) and what a finished upgrade records in the workspace (record.py).

The plans that run them are in plan/upgrade_*.py; the CLI and the upgrade screen are front ends over both.
"""
