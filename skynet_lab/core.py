"""The simulated lab: a subnet of fake Talos machines on 127.0.X.0/24, their fakes on PATH and a mock API."""

from __future__ import annotations

import contextlib
import os
import random
import socket
import ssl
import threading
import time
from pathlib import Path
from typing import Any

from skynet_lab import hardware, state, talos_etcd, talos_tls
from skynet_lab.bin import install_fakes, lab_path
from skynet_lab.kube import MockKubeAPI
from skynet_tui import api

APID_PORT = 50000
CP_BASE, WORKER_BASE = 11, 21  # control planes at .11+, workers at .21+
GATEWAY, VIP = 1, 10
POOL = (200, 220)
LEASE_BASE = 221  # machines booted on a DHCP lease answer maintenance mode at .221+ until their install
MAX_LEASES = 255 - LEASE_BASE
SYNC_INTERVAL = 0.25  # how often the listeners follow the machines' addresses (a reboot moves one)
SPARE = "spare"  # the planned role of a machine added to a running lab (Lab.add_machine)
MAX_CONTROL_PLANES = WORKER_BASE - CP_BASE
MAX_WORKERS = POOL[0] - WORKER_BASE

# Watchable timings for the demo (seconds); tests pass near-zero ones.
DEFAULT_LATENCY: dict[str, float] = {
    "install": 6.0,
    "reboot": 3.0,
    "bootstrap_ready": 2.0,
    "etcd": 3.0,
    "boot": 4.0,
    "health_check": 0.3,
    "get": 0.1,
    "apply-config": 0.8,
    "bootstrap": 0.5,
    "kubeconfig": 0.3,
    "version": 0.1,
    "etcd-cmd": 0.1,
    "service": 0.1,
}

FAULT_NAMES = (
    "unreachable",
    "apply_error",
    "bootstrap_not_ready",
    "health_timeout",
    "app_degraded",
    "kill_during",
    "kill_mid_apply",
    "node_notready",  # day-two faults (skynet_lab/faults.py): a running lab reads them from lab.json
    "cert_expiring",
    "api_down",
)


def subnet_claimed(prefix: str) -> bool:
    """Whether a running lab holds <prefix>.0/24 (its claim: <prefix>.1:50000 is bound)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((f"{prefix}.{GATEWAY}", APID_PORT))
    except OSError:
        return True
    finally:
        sock.close()
    return False


OWNER_LOCK = "owner.lock"  # held by the process running the lab (flock; names its PID, start time, host)


class LabError(RuntimeError):
    """The lab cannot start (no free subnet, state in use by another process, bad sizes)."""


class LabBusy(LabError):  # noqa: N818 - a LabError that says who holds the lab
    """Another process runs this lab; `holder` names it."""

    def __init__(self, root: Path, holder: Any):
        self.holder = holder
        who = str(holder) if holder else "PID not recorded yet"
        super().__init__(f"the lab in {root} is in use by another skynet ({who}); wait for it or stop it")


class Lab:
    """N simulated Talos machines with state under `root`; a context manager (start on enter, stop on exit)."""

    def __init__(
        self,
        root: str | Path,
        control_planes: int = 3,
        workers: int = 2,
        *,
        latency: dict[str, float] | None = None,
        faults: dict[str, Any] | None = None,
        talos_version: str = "v1.13.9",
        leases: int = 0,
    ):
        if not 1 <= control_planes <= MAX_CONTROL_PLANES:
            raise LabError(f"a lab has 1 to {MAX_CONTROL_PLANES} control planes, not {control_planes}")
        if not 0 <= workers <= MAX_WORKERS:
            raise LabError(f"a lab has 0 to {MAX_WORKERS} workers, not {workers}")
        if not 0 <= leases <= min(MAX_LEASES, control_planes + workers):
            raise LabError(f"a lab has 0 to {MAX_LEASES} machines on a DHCP lease, at most one per machine")
        self.leases = leases
        self.root = Path(root).resolve()
        self.control_planes = control_planes
        self.workers = workers
        self.talos_version = talos_version
        self._latency = {**DEFAULT_LATENCY, **(latency or {})}
        self._faults = dict(faults or {})
        self._check_faults(self._faults)
        self.prefix = ""
        self.api_url: str | None = None
        self._reservation: socket.socket | None = None
        self._listeners: dict[str, _Listener] = {}  # machine (planned ip) → its listener at its address now
        self._kube: Any = None
        self._started = False
        self._api_up = False
        self._restores = 0  # etcd recoveries whose objects the API serves (talos_etcd.restores)
        self._lock = threading.Lock()
        self._owner = api.LockFile(self.root / OWNER_LOCK)
        self._stop_sync = threading.Event()
        self._sync_thread: threading.Thread | None = None

    # ------------------------------------------------------------ addresses

    @property
    def subnet(self) -> str:
        return f"{self.prefix}.0/24"

    def address(self, host: int) -> str:
        return f"{self.prefix}.{host}"

    @property
    def control_plane_ips(self) -> list[str]:
        return [self.address(CP_BASE + i) for i in range(self.control_planes)]

    @property
    def worker_ips(self) -> list[str]:
        return [self.address(WORKER_BASE + i) for i in range(self.workers)]

    @property
    def node_ips(self) -> list[str]:
        return self.control_plane_ips + self.worker_ips

    @property
    def bin_dir(self) -> Path:
        return self.root / "bin"

    @property
    def repo_path(self) -> Path:
        return self.root / "gitops.git"

    # ------------------------------------------------------------ lifecycle

    def __enter__(self) -> Lab:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Lab:
        """Reserve a subnet, write the state, install the fakes, listen, start the mock API.

        When `root` already holds a lab, it is reopened as it was (its subnet, machines, latencies and faults;
        the sizes and latencies given to the constructor are ignored), so an interrupted demo resumes.
        """
        with self._lock:
            if self._started:
                return self
            self.root.mkdir(parents=True, exist_ok=True)
            try:
                self._owner.acquire()  # first: two demos on one folder are refused, naming the one running
            except api.LockBusy as exc:
                raise LabBusy(self.root, exc.holder) from None
            try:
                existing = (self.root / state.LAB_FILE).exists()
                if existing:
                    self._reopen()
                else:
                    self._reserve_free_subnet()
                    self._write_state()
                install_fakes(self.bin_dir)
                self._init_repo()
                self._started = True
                self._sync_listeners()
                self._start_kube()
                self._stop_sync.clear()
                self._sync_thread = threading.Thread(target=self._follow, name="lab-addresses", daemon=True)
                self._sync_thread.start()
            except BaseException:
                self._release()
                raise
        return self

    def _release(self) -> None:
        if self._reservation is not None:
            self._reservation.close()
            self._reservation = None
        self._started = False
        self._owner.release()

    def stop(self) -> None:
        """Close the listeners and the mock API; the state stays on disk (a new Lab on `root` resumes it)."""
        self._stop_sync.set()
        if self._sync_thread is not None and self._sync_thread is not threading.current_thread():
            self._sync_thread.join(timeout=10)
            self._sync_thread = None
        with self._lock:
            for listener in self._listeners.values():
                listener.close()
            self._listeners.clear()
            if self._kube is not None:
                with contextlib.suppress(Exception):
                    self._kube.stop()
                self._kube = None
                self._api_up = False
            if self._started:
                self._release()

    def env(self) -> dict[str, str]:
        """os.environ with the fakes first on PATH and SKYNET_LAB_DIR set: pass it to every launcher call."""
        env = dict(os.environ)
        env["PATH"] = lab_path(self.bin_dir, env.get("PATH", ""))
        env[state.ENV_DIR] = str(self.root)
        return env

    # ------------------------------------------------------------ faults

    def inject(self, **faults: Any) -> None:
        """Set faults (see FAULT_NAMES; `latency={op: s}` merges latencies); re-setting a fault resets its count."""
        latency = faults.pop("latency", None)
        self._check_faults(faults)

        def apply(lab: dict[str, Any]) -> None:
            lab.setdefault("faults", {}).update(faults)
            used = lab.setdefault("fault_used", {})
            for name in faults:
                used.pop(name, None)
            if latency:
                lab.setdefault("latency", {}).update(latency)

        state.update_lab(self.root, apply)
        if "apply_error" in faults:
            for ip in self.node_ips:
                state.update_node(
                    self.root, ip, lambda n: n.setdefault("fault_used", {}).pop("apply_error", None)
                )
        with self._lock:
            if self._started:
                self._sync_listeners()

    def boot_iso(
        self,
        ip: str,
        *,
        talos_version: str | None = None,
        schematic: str | None = None,
        extensions: list[dict[str, str]] | None = None,
    ) -> str:
        """Boot a machine still in maintenance mode again, from another ISO: its Talos version, Image Factory
        schematic and system extensions ({name, version}) become the ISO's, and like every boot it makes a new
        maintenance certificate. Returns that certificate's fingerprint (what its console prints)."""

        def reboot(node: dict[str, Any]) -> None:
            if node.get("applied_at"):
                raise LabError(f"{ip} is installed: only a machine in maintenance mode boots from an ISO")
            if talos_version is not None:
                node["versions"] = {**(node.get("versions") or {}), "talos": talos_version}
            boot = dict(node.get("boot") or {})
            if schematic is not None:
                boot["schematic"] = schematic
            if extensions is not None:
                boot["extensions"] = [dict(e) for e in extensions]
            node["boot"] = boot
            node["fingerprint"] = talos_tls.issue(self.root, ip, [node.get("lease") or ip, ip])

        stored = state.update_node(self.root, ip, reboot)
        with self._lock:
            if self._started and ip in self._listeners:
                self._listeners.pop(ip).close()  # the new certificate: a new listener serves it
                self._sync_listeners()
        return str(stored["fingerprint"])

    def add_machine(self) -> str:
        """Boot one more machine from the ISO into the running lab, as an operator racks a new or replacement
        one: in maintenance mode on the next free DHCP lease, with hardware and a certificate of its own and no
        planned role. Returns the address it answers at (discovery finds it there)."""
        stored = state.load_stored_nodes(self.root)
        taken = {n["ip"] for n in stored} | {n.get("lease") for n in stored}
        free = [self.address(h) for h in range(LEASE_BASE, 255) if self.address(h) not in taken]
        if not free:
            raise LabError(f"no free DHCP lease left in {self.subnet} for another machine")
        ip, index = free[0], max((int(n["index"]) for n in stored), default=-1) + 1
        state.write_node(self.root, self._fresh_machine(ip, ip, index, SPARE, "", time.time()))
        with self._lock:
            if self._started:
                self._sync_listeners()
        return ip

    def nodes(self) -> list[dict[str, Any]]:
        """Every node with its derived stage (see skynet_lab/state.py)."""
        return state.load_nodes(self.root)

    # ------------------------------------------------------------ answers

    def cluster_data(self, name: str = "lab") -> dict[str, Any]:
        """Valid answers (cluster.yaml as a dict) for this lab's machines."""
        release = api.release_for(self.talos_version)
        kubernetes = release.k8s_default if release else api.DEFAULT_KUBERNETES
        nodes = []
        for stored in state.load_stored_nodes(self.root):
            if stored["planned_role"] == SPARE:
                continue
            hw = stored["hardware"]
            disk = hardware.install_candidate(hw)
            link = hardware.primary_link(hw)
            entry: dict[str, Any] = {
                "hostname": stored["planned_hostname"],
                "ip": stored["ip"],
                "role": stored["planned_role"],
            }
            if stored.get("lease") and stored["lease"] != stored["ip"]:
                entry["maintenanceAddress"] = stored["lease"]  # as discovery records it
            # One worker is addressed by disk serial and MAC, as a user of a heterogeneous fleet would.
            if stored["planned_role"] == "worker" and stored["index"] == self.control_planes:
                entry["installDisk"] = {"serial": disk["serial"]}
                entry["mac"] = link["permanentAddr"]
            else:
                entry["installDisk"] = disk["dev_path"]
                entry["interface"] = link["id"]
            if stored.get("fingerprint"):
                entry["certFingerprint"] = stored[
                    "fingerprint"
                ]  # as discovery reads it (and the console shows)
            nodes.append(entry)
        return {
            "apiVersion": "skynet.dev/v1alpha1",
            "kind": "Cluster",
            "metadata": {"name": name},
            "spec": {
                "talos": {"version": self.talos_version},
                "kubernetes": {"version": kubernetes},
                "network": {
                    "subnet": self.subnet,
                    "gateway": self.address(GATEWAY),
                    "nameservers": [self.address(GATEWAY)],
                    "ntp": [self.address(GATEWAY)],
                },
                "controlPlane": {"endpoint": self.address(VIP), "vip": True},
                "nodes": nodes,
                "loadBalancer": {"addresses": [f"{self.address(POOL[0])}-{self.address(POOL[1])}"]},
                "ingress": {
                    "domain": f"{name}.skynet-lab.test",
                    "acme": {"email": "ops@skynet-lab.test", "server": "staging", "challenge": "http01"},
                },
                "gitops": {"repoURL": self.repo_path.as_uri(), "branch": "main", "path": "gitops"},
            },
        }

    # ------------------------------------------------------------ internals

    @staticmethod
    def _check_faults(faults: dict[str, Any]) -> None:
        unknown = sorted(set(faults) - set(FAULT_NAMES))
        if unknown:
            raise LabError(f"unknown lab fault(s) {', '.join(unknown)}; known: {', '.join(FAULT_NAMES)}")

    def _reserve(self, third_octet: int) -> bool:
        """Bind <prefix>.1:50000 (never listened on) as the lab's claim on the /24; False when taken."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((f"127.0.{third_octet}.{GATEWAY}", APID_PORT))
        except OSError:
            sock.close()
            return False
        self._reservation = sock
        self.prefix = f"127.0.{third_octet}"
        return True

    def _reserve_free_subnet(self) -> None:
        candidates = list(range(16, 255))
        start = random.randrange(len(candidates))
        for third in candidates[start:] + candidates[:start]:
            if self._reserve(third):
                return
        raise LabError("no free 127.0.X.0/24 for a lab: every candidate subnet is in use")

    def _fresh_machine(
        self, ip: str, lease: str, index: int, role: str, hostname: str, created_at: float
    ) -> dict[str, Any]:
        """A machine just booted from the ISO: in maintenance mode at `lease`, with its own certificate and
        hardware; `role` and `hostname` are what the lab plans for it (SPARE and "" for one racked later)."""
        return {
            "ip": ip,
            "lease": lease,
            "fingerprint": talos_tls.issue(self.root, ip, [lease, ip]),
            "boot": {"schematic": api.VANILLA_SCHEMATIC, "extensions": []},
            "index": index,
            "planned_role": role,
            "role": role,
            "planned_hostname": hostname,
            "maintenance_hostname": hardware.maintenance_hostname(ip),
            "node_id": hardware.node_id(ip),
            "created_at": created_at,
            "hardware": hardware.machine_hardware(index, ip),
            "applied_at": None,
            "config": None,
            "etcd_bootstrapped": False,
            "versions": {"talos": self.talos_version, "kubernetes": None},
            "fault_used": {},
        }

    def _reopen(self) -> None:
        lab = state.load_lab(self.root)
        third = int(lab["prefix"].split(".")[2])
        if not self._reserve(third):
            raise LabError(f"the lab in {self.root} is in use by another process ({lab['subnet']})")
        stored = state.load_stored_nodes(self.root)
        self.control_planes = sum(1 for n in stored if n["planned_role"] == "controlplane")
        self.workers = sum(1 for n in stored if n["planned_role"] == "worker")  # not the machines added later
        self.talos_version = lab.get("versions", {}).get("talos", self.talos_version)
        self._latency = {**lab.get("latency", {})}

    def _write_state(self) -> None:
        release = api.release_for(self.talos_version)
        now = time.time()
        planned = [(ip, "controlplane", f"cp-{i + 1}") for i, ip in enumerate(self.control_plane_ips)]
        planned += [(ip, "worker", f"worker-{i + 1}") for i, ip in enumerate(self.worker_ips)]
        for index, (ip, role, hostname) in enumerate(planned):
            lease = self.address(LEASE_BASE + index) if index < self.leases else ip
            state.write_node(self.root, self._fresh_machine(ip, lease, index, role, hostname, now))
        state.write_lab(
            self.root,
            {
                "simulated": True,
                "subnet": self.subnet,
                "prefix": self.prefix,
                "nodes": [{"ip": ip, "role": role, "hostname": hostname} for ip, role, hostname in planned],
                "latency": self._latency,
                "faults": self._faults,
                "fault_used": {},
                "bootstrap": None,
                "api_url": None,
                "versions": {
                    "talos": self.talos_version,
                    "kubernetes": release.k8s_default if release else api.DEFAULT_KUBERNETES,
                },
                "repo": str(self.repo_path),
                "created_at": now,
            },
        )

    def _init_repo(self) -> None:
        if (self.repo_path / "HEAD").exists():
            return
        result = api.run(["git", "init", "--bare", "--quiet", "--initial-branch=main", str(self.repo_path)])
        if not result.ok:
            raise LabError(f"cannot create the lab's GitOps repository: {result.tail(3)}")

    def _sync_api(self, down: bool, restores: int = 0) -> None:
        """The api_down fault and a lost etcd: stop serving (the store is kept) and serve again on the same port
        once cleared; after an etcd recovery, the objects of the snapshot instead (talos_etcd.py)."""
        kube = self._kube
        if kube is None or down != self._api_up:
            return
        if down:
            kube.stop()
            self._api_up = False
            return
        if restores != self._restores:
            kube.store.clear()  # start() loads the recovered objects the fake talosctl wrote
            self._restores = restores
        try:
            kube.start(kube.port, exact=True)
        except OSError:  # the port is not free yet: the next poll tries again
            return
        self._api_up = True

    def _sync_listeners(self) -> None:
        """Listen on <address>:50000 for every reachable machine, at the address it answers at now (its lease,
        then its configured address; none when its config named a link it lacks or under the `unreachable`
        fault); close the others."""
        try:
            machines = state.load_nodes(self.root)
        except state.LabStateError:
            return
        wanted = {n["ip"]: n["address"] for n in machines if n["reachable"] and n["address"]}
        for ip, listener in list(self._listeners.items()):
            if wanted.get(ip) != listener.address[0]:
                self._listeners.pop(ip).close()
        for ip, address in wanted.items():
            if ip not in self._listeners:
                self._listeners[ip] = _Listener(address, APID_PORT, talos_tls.server_context(self.root, ip))

    def _follow(self) -> None:
        """Move the listeners as the machines reboot onto their configured addresses (or lose them), and apply
        the faults another process writes to lab.json (`skynet demo --fault`): listeners and the API."""
        while not self._stop_sync.wait(SYNC_INTERVAL):
            with self._lock:
                if not self._started:
                    return
                with contextlib.suppress(LabError, OSError, ValueError, KeyError):
                    self._sync_listeners()
                    lab = state.load_lab(self.root)
                    down = bool((lab.get("faults") or {}).get("api_down")) or talos_etcd.api_down(lab)
                    self._sync_api(down, talos_etcd.restores(lab))

    def _start_kube(self) -> None:
        previous = state.load_lab(self.root).get("api_url") or ""
        kube = MockKubeAPI(self.root)
        # A restarted lab keeps its API address, so the workspace's kubeconfig stays valid on resume.
        self.api_url = kube.start(int(previous.rsplit(":", 1)[1]) if previous.count(":") == 2 else 0)
        self._kube = kube
        self._api_up = True
        self._restores = talos_etcd.restores(state.load_lab(self.root))
        url = self.api_url
        state.update_lab(self.root, lambda lab: lab.update(api_url=url))


class _Listener:
    """A machine's apid port: accepts TCP connections and completes a TLS handshake with the machine's
    maintenance certificate on each (a port scan just connects and leaves), then closes them."""

    def __init__(self, host: str, port: int, tls: ssl.SSLContext):
        self.address = (host, port)
        self._tls = tls
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._sock.bind(self.address)
        except OSError as exc:
            self._sock.close()
            raise LabError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"lab-apid-{host}", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handshake, args=(conn,), daemon=True).start()

    def _handshake(self, conn: socket.socket) -> None:
        conn.settimeout(2.0)
        try:
            with self._tls.wrap_socket(conn, server_side=True):
                pass  # the client has the certificate; the lab answers no gRPC
        except (OSError, ValueError):
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() at once on Linux
        self._thread.join(timeout=2)
        self._sock.close()
