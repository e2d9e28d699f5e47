"""Platform controllers of the simulation: Service IPs and MetalLB, Ingress status, cert-manager, Argo CD secret."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import secrets
import string
from collections.abc import Callable, Iterator
from typing import Any

from skynet_lab.kubesim import renewal
from skynet_lab.kubesim.base import Sim, condition, labels_of, set_condition
from skynet_lab.kubesim.store import Obj

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
FAKE_PEM = "-----BEGIN {kind}-----\nU0lNVUxBVEVEIGJ5IHRoZSBTa3luZXQgbGFiOiBub3QgYSByZWFsIGtleQ==\n-----END {kind}-----\n"


def _ready_workload(sim: Sim, name: str, component: str, namespace: str | None = None) -> Obj | None:
    """A Deployment labelled app.kubernetes.io/name=`name` (+ component) with a ready replica."""
    selector = f"app.kubernetes.io/name={name}" + (
        f",app.kubernetes.io/component={component}" if component else ""
    )
    for dep in sim.items("apps", "deployments", namespace, selector):
        if (dep.get("status") or {}).get("readyReplicas", 0) >= 1:
            return dep
    return None


def _merging(key: str, patch: Obj) -> Callable[[Obj], None]:
    """A mutation for `Sim.mutate`: merge `patch` into the object's `key` (created when absent)."""
    return lambda obj: obj.setdefault(key, {}).update(patch)


def pool_addresses(pool: Obj) -> Iterator[str]:
    """Every address of a MetalLB IPAddressPool (`a-b` ranges and CIDRs)."""
    for entry in (pool.get("spec") or {}).get("addresses") or []:
        entry = str(entry)
        if "-" in entry:
            first, last = (ipaddress.ip_address(x.strip()) for x in entry.split("-", 1))
            for value in range(int(first), int(last) + 1):
                yield str(ipaddress.ip_address(value))
        else:
            net = ipaddress.ip_network(entry, strict=False)
            hosts = list(net.hosts()) or [net.network_address]
            for addr in hosts:
                yield str(addr)


class Platform:
    """Service addresses, Ingress status, certificates and Argo CD's initial admin Secret."""

    def __init__(self, sim: Sim):
        self.sim = sim

    def step(self) -> None:
        self._services()
        self._ingresses()
        self._cert_manager()
        self._argocd_admin_secret()

    # -- Services and MetalLB -----------------------------------------------------------------------------
    def _services(self) -> None:
        sim = self.sim
        services = sim.items("", "services")
        used = {s["spec"].get("clusterIP") for s in services}
        used_ports = {p.get("nodePort") for s in services for p in s["spec"].get("ports") or []}
        lb_used = {
            i.get("ip")
            for s in services
            for i in ((s.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        }
        pools = sim.items("metallb.io", "ipaddresspools")
        metallb = _ready_workload(sim, "metallb", "controller")
        for svc in services:
            spec = svc["spec"]
            kind = spec.get("type", "ClusterIP")
            patch: dict[str, Any] = {}
            if not spec.get("clusterIP"):
                cluster_ip = next(
                    str(a)
                    for a in SERVICE_CIDR.hosts()
                    if str(a) not in used and int(a) > int(SERVICE_CIDR.network_address) + 10
                )
                used.add(cluster_ip)
                patch.update(
                    clusterIP=cluster_ip,
                    clusterIPs=[cluster_ip],
                    ipFamilies=["IPv4"],
                    ipFamilyPolicy="SingleStack",
                    sessionAffinity="None",
                    internalTrafficPolicy="Cluster",
                )
            if kind in ("NodePort", "LoadBalancer") and any(
                not p.get("nodePort") for p in spec.get("ports") or []
            ):
                ports = []
                for p in spec.get("ports") or []:
                    if not p.get("nodePort"):
                        port = next(n for n in range(30000, 32768) if n not in used_ports)
                        used_ports.add(port)
                        p = {**p, "nodePort": port}
                    ports.append(p)
                patch["ports"] = ports
            if patch:
                svc = sim.mutate(svc, _merging("spec", patch)) or svc
            if kind != "LoadBalancer" or ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress"):
                continue
            if metallb is None or not pools:
                continue
            uid = svc["metadata"]["uid"]
            if not sim.timers.due(("lb", uid), sim.lat("lb_assign")):
                continue
            wanted = (svc["metadata"].get("annotations") or {}).get("metallb.io/loadBalancerIPs") or spec.get(
                "loadBalancerIP"
            )
            ip = self._allocate(svc, pools, lb_used, wanted)
            if ip is None:
                continue
            lb_used.add(ip)
            new = sim.mutate(
                svc, _merging("status", {"loadBalancer": {"ingress": [{"ip": ip, "ipMode": "VIP"}]}})
            )
            if new is not None:
                sim.event(new, "IPAllocated", f'Assigned IP ["{ip}"]', component="metallb-controller")
                if sim.items("metallb.io", "l2advertisements"):
                    node = next(
                        (
                            n["metadata"]["name"]
                            for n in sim.items("", "nodes")
                            if "node.kubernetes.io/exclude-from-external-load-balancers" not in labels_of(n)
                        ),
                        None,
                    )
                    if node:
                        sim.event(
                            new,
                            "nodeAssigned",
                            f'announcing from node "{node}" with protocol "layer2"',
                            component="metallb-speaker",
                        )

    def _allocate(self, svc: Obj, pools: list[Obj], used: set[str], wanted: str | None) -> str | None:
        name = f"{svc['metadata']['namespace']}/{svc['metadata']['name']}"
        if wanted:
            for ip in str(wanted).split(","):
                ip = ip.strip()
                if any(ip in set(pool_addresses(p)) for p in pools) and ip not in used:
                    return ip
            self.sim.event(
                svc,
                "AllocationFailed",
                f'Failed to allocate IP for "{name}": ["{wanted}"] is not allowed in config',
                type_="Warning",
                component="metallb-controller",
            )
            return None
        for pool in pools:
            if (pool.get("spec") or {}).get("autoAssign", True) is False:
                continue
            for ip in pool_addresses(pool):
                if ip not in used:
                    return ip
        self.sim.event(
            svc,
            "AllocationFailed",
            f'Failed to allocate IP for "{name}": no available IPs',
            type_="Warning",
            component="metallb-controller",
        )
        return None

    # -- Ingress ------------------------------------------------------------------------------------------
    def _ingresses(self) -> None:
        sim = self.sim
        classes = {c["metadata"]["name"]: c for c in sim.items("networking.k8s.io", "ingressclasses")}
        default = next(
            (
                n
                for n, c in classes.items()
                if (c["metadata"].get("annotations") or {}).get("ingressclass.kubernetes.io/is-default-class")
                == "true"
            ),
            None,
        )
        traefik = _ready_workload(sim, "traefik", "")
        address = None
        if traefik is not None:
            for svc in sim.items(
                "", "services", traefik["metadata"]["namespace"], "app.kubernetes.io/name=traefik"
            ):
                ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress")
                if ingress:
                    address = ingress
        for ing in sim.items("networking.k8s.io", "ingresses"):
            cls = classes.get(ing["spec"].get("ingressClassName") or default or "")
            if cls is None or cls["spec"].get("controller") != "traefik.io/ingress-controller" or not address:
                continue
            sim.mutate(
                ing, _merging("status", {"loadBalancer": {"ingress": [{"ip": x["ip"]} for x in address]}})
            )

    # -- cert-manager -------------------------------------------------------------------------------------
    def _cert_manager(self) -> None:
        sim = self.sim
        if (
            _ready_workload(sim, "cert-manager", "controller") is None
            or _ready_workload(sim, "webhook", "webhook") is None
        ):
            return
        issuers: dict[tuple[str, str, str], Obj] = {}
        for kind, plural in (("ClusterIssuer", "clusterissuers"), ("Issuer", "issuers")):
            for issuer in sim.items("cert-manager.io", plural):
                issuers[(kind, issuer["metadata"].get("namespace", ""), issuer["metadata"]["name"])] = (
                    self._issuer(issuer)
                )
        self._ingress_shim()
        for cert in sim.items("cert-manager.io", "certificates"):
            self._certificate(cert, issuers)
        renewal.step(sim)

    def _issuer(self, issuer: Obj) -> Obj:
        sim = self.sim
        if condition(issuer, "Ready").get("status") == "True":
            return issuer
        if not sim.timers.due(("issuer", issuer["metadata"]["uid"]), sim.lat("cert_issue")):
            return issuer
        acme = (issuer.get("spec") or {}).get("acme")

        def ready(i: Obj) -> None:
            st = i.setdefault("status", {})
            if acme:
                st["acme"] = {
                    "uri": f"{acme.get('server', '').rsplit('/', 1)[0]}/acme/acct/{secrets.randbelow(10**9)}",
                    "lastRegisteredEmail": acme.get("email", ""),
                }
                st["conditions"] = set_condition(
                    st.get("conditions") or [],
                    "Ready",
                    "True",
                    "ACMEAccountRegistered",
                    "The ACME account was registered with the ACME server",
                )
            else:
                st["conditions"] = set_condition(
                    st.get("conditions") or [], "Ready", "True", "IsReady", "Signing CA verified"
                )

        return sim.mutate(issuer, ready) or issuer

    def _ingress_shim(self) -> None:
        """Certificates for Ingresses annotated with an issuer, as cert-manager's ingress-shim makes them."""
        sim = self.sim
        for ing in sim.items("networking.k8s.io", "ingresses"):
            annotations = ing["metadata"].get("annotations") or {}
            kind, name = (
                ("ClusterIssuer", annotations.get("cert-manager.io/cluster-issuer"))
                if annotations.get("cert-manager.io/cluster-issuer")
                else ("Issuer", annotations.get("cert-manager.io/issuer"))
            )
            if not name:
                continue
            for tls in ing["spec"].get("tls") or []:
                if not tls.get("secretName"):
                    continue
                cert: Obj = {
                    "apiVersion": "cert-manager.io/v1",
                    "kind": "Certificate",
                    "metadata": {
                        "name": tls["secretName"],
                        "namespace": ing["metadata"]["namespace"],
                        "ownerReferences": [
                            {
                                "apiVersion": "networking.k8s.io/v1",
                                "kind": "Ingress",
                                "name": ing["metadata"]["name"],
                                "uid": ing["metadata"]["uid"],
                                "controller": True,
                                "blockOwnerDeletion": True,
                            }
                        ],
                    },
                    "spec": {
                        "secretName": tls["secretName"],
                        "dnsNames": list(tls.get("hosts") or []),
                        "issuerRef": {"group": "cert-manager.io", "kind": kind, "name": name},
                        "usages": ["digital signature", "key encipherment"],
                    },
                }
                res = sim.res("cert-manager.io", "certificates")
                missing = (
                    res is not None
                    and sim.store.find(res, cert["metadata"]["namespace"], tls["secretName"]) is None
                )
                if missing and sim.ensure(cert, manager="cert-manager-ingress-shim") is not None:
                    sim.event(
                        ing,
                        "CreateCertificate",
                        f'Successfully created Certificate "{tls["secretName"]}"',
                        component="cert-manager-ingress-shim",
                    )

    def _certificate(self, cert: Obj, issuers: dict[tuple[str, str, str], Obj]) -> None:
        sim = self.sim
        if condition(cert, "Ready").get("status") == "True":
            return
        spec = cert.get("spec") or {}
        ref = spec.get("issuerRef") or {}
        kind = ref.get("kind", "Issuer")
        issuer = issuers.get(
            (kind, "" if kind == "ClusterIssuer" else cert["metadata"]["namespace"], ref.get("name", ""))
        )
        issuer_ready = issuer is not None and condition(issuer, "Ready").get("status") == "True"
        uid = cert["metadata"]["uid"]
        if not (cert.get("status") or {}).get("conditions"):

            def issuing(c: Obj) -> None:
                st = c.setdefault("status", {})
                conds = set_condition(
                    st.get("conditions") or [],
                    "Ready",
                    "False",
                    "DoesNotExist",
                    "Issuing certificate as Secret does not exist",
                )
                st["conditions"] = set_condition(
                    conds, "Issuing", "True", "DoesNotExist", "Issuing certificate as Secret does not exist"
                )

            cert = sim.mutate(cert, issuing) or cert
            sim.event(
                cert,
                "Issuing",
                "Issuing certificate as Secret does not exist",
                component="cert-manager-certificates-trigger",
            )
        if not issuer_ready:
            sim.timers.forget(("cert", uid))
            return
        if not sim.timers.due(("cert", uid), sim.lat("cert_issue")):
            return
        secret_res = sim.core("secrets")
        namespace, secret_name = cert["metadata"]["namespace"], spec.get("secretName", "")
        if secret_name and sim.store.find(secret_res, namespace, secret_name) is None:
            data = {
                k: base64.b64encode(FAKE_PEM.format(kind=v).encode()).decode()
                for k, v in (
                    ("tls.crt", "CERTIFICATE"),
                    ("tls.key", "PRIVATE KEY"),
                    ("ca.crt", "CERTIFICATE"),
                )
            }
            secret = {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "kubernetes.io/tls",
                "metadata": {
                    "name": secret_name,
                    "namespace": namespace,
                    "annotations": {
                        "cert-manager.io/certificate-name": cert["metadata"]["name"],
                        "cert-manager.io/issuer-name": ref.get("name", ""),
                        "cert-manager.io/issuer-kind": kind,
                        "cert-manager.io/common-name": (spec.get("dnsNames") or [""])[0],
                    },
                },
                "data": data,
            }
            sim.ensure(secret, manager="cert-manager-certificates-issuing")
        now = dt.datetime.now(dt.UTC)
        stamp = lambda d: (now + dt.timedelta(days=d)).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731

        def issued(c: Obj) -> None:
            st = c.setdefault("status", {})
            conds = [x for x in st.get("conditions") or [] if x.get("type") != "Issuing"]
            st.update(
                conditions=set_condition(
                    conds, "Ready", "True", "Ready", "Certificate is up to date and has not expired"
                ),
                notBefore=stamp(0),
                notAfter=stamp(90),
                renewalTime=stamp(60),
                revision=1,
            )

        new = sim.mutate(cert, issued)
        if new is not None:
            sim.event(
                new,
                "Issuing",
                "The certificate has been successfully issued",
                component="cert-manager-certificates-issuing",
            )

    # -- Argo CD ------------------------------------------------------------------------------------------
    def _argocd_admin_secret(self) -> None:
        """argocd-server writes argocd-initial-admin-secret on its first start unless a password was set."""
        sim = self.sim
        for dep in sim.items(
            "apps", "deployments", None, "app.kubernetes.io/component=server,app.kubernetes.io/part-of=argocd"
        ):
            if not (dep.get("status") or {}).get("readyReplicas"):
                continue
            ns = dep["metadata"]["namespace"]
            res = sim.core("secrets")
            main = sim.store.find(res, ns, "argocd-secret")
            if main is not None and "admin.password" in (main.get("data") or {}):
                continue
            if sim.store.find(res, ns, "argocd-initial-admin-secret") is not None:
                continue
            password = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(16))
            sim.ensure(
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "type": "Opaque",
                    "metadata": {"name": "argocd-initial-admin-secret", "namespace": ns},
                    "data": {"password": base64.b64encode(password.encode()).decode()},
                },
                manager="argocd-server",
            )
