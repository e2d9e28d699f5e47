"""Cluster status for the day-two console: watches and talosctl reads folded into immutable snapshots (no UI).

`Monitor` (monitor.py) runs it: one list+watch loop per resource kind (watch.py) through the kubernetes ApiClient
as raw JSON (client.py), slim projections (project.py) folded into `Snapshot`s (fold.py, model.py) with one health
line per layer (health.py), and the Talos layer read through talosctl on a slower cadence (talos.py). Where the
kubeconfig and talosconfig come from is source.py; one-off reads and the Argo CD sync are reads.py.
"""
