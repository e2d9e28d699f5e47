"""talosctl 1.13.9 output in its real formats, for the Talos layer's parsers and a stand-in talosctl.

`get <type> -o json` prints one 4-space-indented JSON object per resource and node, keys sorted, concatenated
(cmd/talosctl/cmd/talos/output/json.go); `etcd status` prints a tabwriter table with 3 spaces of padding, the
NODE column first when nodes are named, member IDs as 16 hex digits, sizes as humanize.Bytes
(cmd/talosctl/cmd/talos/etcd.go at v1.13.9).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# A literal sample of `talosctl get members -o json` (two of the members).
MEMBERS = """\
{
    "metadata": {
        "created": "2026-03-01T08:00:12Z",
        "id": "cp-1",
        "namespace": "cluster",
        "owner": "cluster.MemberController",
        "phase": "running",
        "type": "Members.cluster.talos.dev",
        "updated": "2026-03-01T08:02:40Z",
        "version": 4
    },
    "node": "10.5.0.11",
    "spec": {
        "addresses": [
            "10.5.0.11"
        ],
        "controlPlane": {
            "port": 6443
        },
        "hostname": "cp-1",
        "machineType": "controlplane",
        "nodeId": "hX6Qf3dAbgJtKZ8CwLmPq1rSvT7uYxN2eB4iG9oH5jK",
        "operatingSystem": "Talos (v1.13.9)"
    }
}
{
    "metadata": {
        "created": "2026-03-01T08:00:12Z",
        "id": "worker-1",
        "namespace": "cluster",
        "owner": "cluster.MemberController",
        "phase": "running",
        "type": "Members.cluster.talos.dev",
        "updated": "2026-03-01T08:03:02Z",
        "version": 3
    },
    "node": "10.5.0.11",
    "spec": {
        "addresses": [
            "10.5.0.21"
        ],
        "hostname": "worker-1",
        "machineType": "worker",
        "nodeId": "Qm8pLr2TxV5yZa7Bc9Dd1Ee3Ff4Gg6Hh8Ii0Jj2Kk4L",
        "operatingSystem": "Talos (v1.13.9)"
    }
}
"""

# A literal sample of `talosctl get services -o json` (two services of one node).
SERVICES = """\
{
    "metadata": {
        "created": "2026-03-01T08:00:05Z",
        "id": "etcd",
        "namespace": "runtime",
        "owner": "v1alpha1.ServiceController",
        "phase": "running",
        "type": "Services.v1alpha1.talos.dev",
        "updated": "2026-03-01T08:01:30Z",
        "version": 6
    },
    "node": "10.5.0.11",
    "spec": {
        "healthy": true,
        "running": true,
        "unknown": false
    }
}
{
    "metadata": {
        "created": "2026-03-01T08:00:05Z",
        "id": "udevd",
        "namespace": "runtime",
        "owner": "v1alpha1.ServiceController",
        "phase": "running",
        "type": "Services.v1alpha1.talos.dev",
        "updated": "2026-03-01T08:00:09Z",
        "version": 2
    },
    "node": "10.5.0.11",
    "spec": {
        "healthy": false,
        "running": true,
        "unknown": true
    }
}
"""

# A literal sample of `talosctl get versions -o json`.
VERSIONS = """\
{
    "metadata": {
        "created": "2026-03-01T08:00:03Z",
        "id": "version",
        "namespace": "runtime",
        "owner": "",
        "phase": "running",
        "type": "Versions.runtime.talos.dev",
        "updated": "2026-03-01T08:00:03Z",
        "version": 1
    },
    "node": "10.5.0.11",
    "spec": {
        "name": "Talos",
        "version": "v1.13.9"
    }
}
"""

# A literal sample of `talosctl etcd status --nodes 10.5.0.11,10.5.0.12,10.5.0.13` (trailing spaces kept).
ETCD_STATUS = (
    "NODE        MEMBER             DB SIZE   IN USE            LEADER             RAFT INDEX   RAFT TERM   "
    "RAFT APPLIED INDEX   LEARNER   PROTOCOL   STORAGE   ERRORS\n"
    "10.5.0.11   6f2c9b4e1a7d3c58   25 MB     8.2 MB (32.71%)   6f2c9b4e1a7d3c58   184213       3           "
    "184213               false     3.6.0      3.6.0     \n"
    "10.5.0.12   0a41d7c2e95b8f16   25 MB     8.1 MB (32.40%)   6f2c9b4e1a7d3c58   184213       3           "
    "184213               false     3.6.0      3.6.0     \n"
    "10.5.0.13   b3e8015f6c2a9d47   24 MB     8.2 MB (34.17%)   6f2c9b4e1a7d3c58   184212       3           "
    "184212               false     3.6.0      3.6.0     \n"
)


# -- generated output in the same formats, for a whole cluster ------------------------------------------------
def _resource(node: str, rtype: str, namespace: str, rid: str, spec: dict[str, Any]) -> str:
    doc = {
        "metadata": {
            "created": "2026-03-01T08:00:03Z",
            "id": rid,
            "namespace": namespace,
            "owner": "",
            "phase": "running",
            "type": rtype,
            "updated": "2026-03-01T08:00:09Z",
            "version": 2,
        },
        "node": node,
        "spec": spec,
    }
    return json.dumps(doc, indent=4, sort_keys=True) + "\n"


def tabwriter(rows: list[list[str]], padding: int = 3) -> str:
    """Go's text/tabwriter with flags 0: each cell but the last of a line padded to its column's width."""
    widths = [max(len(r[i]) for r in rows if i < len(r) - 1) for i in range(max(len(r) for r in rows) - 1)]
    return "".join(
        "".join(cell.ljust(widths[i] + padding) for i, cell in enumerate(row[:-1])) + row[-1] + "\n"
        for row in rows
    )


def cluster_outputs(
    nodes: list[tuple[str, str, bool]], *, down: tuple[str, str] | None = None
) -> dict[str, str]:
    """talosctl's stdout per command for a cluster of (hostname, ip, control plane); `down`: a (node ip,
    service) that is not running."""
    members = "".join(
        _resource(
            nodes[0][1],
            "Members.cluster.talos.dev",
            "cluster",
            host,
            {
                "addresses": [ip],
                **({"controlPlane": {"port": 6443}} if cp else {}),
                "hostname": host,
                "machineType": "controlplane" if cp else "worker",
                "nodeId": f"id-{host}",
                "operatingSystem": "Talos (v1.13.9)",
            },
        )  # fmt: skip
        for host, ip, cp in nodes
    )
    services = ""
    for _, ip, cp in nodes:
        for sid in [
            "apid",
            "containerd",
            "cri",
            *(["etcd"] if cp else []),
            "kubelet",
            "machined",
            *(["trustd"] if cp else []),
        ]:
            running = (ip, sid) != down
            services += _resource(ip, "Services.v1alpha1.talos.dev", "runtime", sid,
                                  {"healthy": running, "running": running, "unknown": False})  # fmt: skip
    versions = "".join(
        _resource(
            ip, "Versions.runtime.talos.dev", "runtime", "version", {"name": "Talos", "version": "v1.13.9"}
        )
        for _, ip, _ in nodes
    )
    cps = [(host, ip) for host, ip, cp in nodes if cp]
    member_ids = {ip: f"{index + 1:x}".rjust(16, "0") for index, (_, ip) in enumerate(cps)}
    leader = member_ids[cps[0][1]]
    rows = [["NODE", "MEMBER", "DB SIZE", "IN USE", "LEADER", "RAFT INDEX", "RAFT TERM", "RAFT APPLIED INDEX",
             "LEARNER", "PROTOCOL", "STORAGE", "ERRORS"]]  # fmt: skip
    rows += [[ip, member_ids[ip], "25 MB", "8.2 MB (32.71%)", leader, "184213", "3", "184213", "false", "3.6.0", "3.6.0", ""]
             for _, ip in cps]  # fmt: skip
    return {"members": members, "services": services, "versions": versions, "etcd": tabwriter(rows)}


STANDIN = """\
#!{python}
# talosctl for tests: prints what {responses} holds for `get <type>` and `etcd status`, in talosctl's formats.
import json, sys
args = sys.argv[1:]
out = json.load(open({responses!r}))
key = args[1] if args[:1] == ["get"] else "etcd" if args[:2] == ["etcd", "status"] else None
if key is None or key not in out:
    print(f"talosctl {{' '.join(args[:2])}} is not in this stand-in", file=sys.stderr)
    sys.exit(1)
sys.stdout.write(out[key])
"""


def install_standin(folder: Path, outputs: dict[str, str]) -> Path:
    """A `talosctl` in `folder` that prints `outputs`; returns the folder (to put first on PATH)."""
    folder.mkdir(parents=True, exist_ok=True)
    responses = folder / "talosctl-responses.json"
    responses.write_text(json.dumps(outputs))
    script = folder / "talosctl"
    script.write_text(STANDIN.format(python=sys.executable, responses=str(responses)))
    script.chmod(0o755)
    return folder


def talosconfig(path: Path, nodes: list[str], endpoints: list[str]) -> Path:
    """A talosconfig (its certificates are placeholders: only the stand-in talosctl reads it)."""
    path.write_text(
        json.dumps(
            {
                "context": "lab",
                "contexts": {"lab": {"endpoints": endpoints, "nodes": nodes, "ca": "", "crt": "", "key": ""}},
            }
        )
    )
    return path
