"""etcd backups without a UI: the snapshots under backups/ with their manifests, retention and age (catalog.py),
what a restore finds before it starts (assess.py).

The plans that take and restore them are in plan/backup.py and plan/restore.py; `skynet backup`, `skynet
restore` and the console are front ends over both.
"""
