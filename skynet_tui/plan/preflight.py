"""Preflight of each machine before anything is written to it: its certificate, its link, its boot image.

Each check is a pure function of what talosctl printed (tested without a machine); `verify` runs them as the
per-node `verify-<host>` step. Errors stop the install before the first apply-config; warnings are shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from skynet_tui import discovery, versions
from skynet_tui.plan.steps import StepError, Transient
from skynet_tui.talos import certs, parse
from skynet_tui.talos import commands as talos

if TYPE_CHECKING:
    from skynet_tui.runner import Context
    from skynet_tui.spec import Cluster, Node


@dataclass
class Findings:
    """What a check found: errors stop the install, warnings are shown."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _where(cluster: Cluster, node: Node) -> str:
    index = cluster.spec.nodes.index(node)
    return f"spec.nodes[{index}]"


def _describe(link: discovery.Link) -> str:
    state = link.oper_state or "unknown"
    mac = f", MAC {link.mac}" if link.mac else ""
    return f"{link.name} ({state}{mac})"


# ---------------------------------------------------------------- link


def check_link(cluster: Cluster, node: Node, links: list[discovery.Link]) -> Findings:
    """The node's config names a link it has: by name (or alias), or by permanent MAC on exactly one physical
    link. A link config turns DHCP off on every link, so a missing link means no address after the reboot."""
    out = Findings()
    where = _where(cluster, node)
    physical = [link for link in links if link.physical]
    seen = ", ".join(_describe(link) for link in physical) or "no physical link"
    if node.interface:
        match = next((link for link in links if node.interface in (link.name, *link.names)), None)
        if match is None:
            out.errors.append(
                f"{node.hostname} ({node.maintenance_ip}) has no link {node.interface}; it has {seen}. "
                f"Fix {where}.interface in cluster.yaml (bare metal names links like eno1 or enp3s0): a config "
                "naming a missing link leaves the node without any address after its reboot"
            )
            return out
    else:
        wanted = (node.mac or "").lower()
        matches = [link for link in physical if link.mac.lower() == wanted]
        if not matches:
            current = [link for link in physical if link.current_mac.lower() == wanted]
            why = (
                f" ({current[0].name} has it as its current address, but its permanent address is "
                f"{current[0].mac or 'unknown'}: the selector matches the permanent one)"
                if current
                else ""
            )
            out.errors.append(
                f"{node.hostname} ({node.maintenance_ip}) has no physical link with the permanent MAC "
                f"{node.mac}{why}; it has {seen}. Fix {where}.mac in cluster.yaml"
            )
            return out
        if len(matches) > 1:
            names = ", ".join(link.name for link in matches)
            out.errors.append(
                f"{node.hostname}: {len(matches)} links ({names}) have the MAC {node.mac}; a MAC selector must "
                f"match exactly one. Name the link in {where}.interface instead"
            )
            return out
        match = matches[0]
    if not match.carrier:
        out.warnings.append(
            f"{node.hostname}: link {match.name} has no carrier ({match.oper_state or 'down'}): is its cable "
            f"plugged in? The node's address {node.ip} goes on it"
        )
    return out


# ---------------------------------------------------------------- boot image


def booted_schematic(extensions: list[dict[str, Any]]) -> tuple[str | None, list[str]]:
    """(the Image Factory schematic id the machine booted, its other system extensions) from
    `get extensions` (the factory adds a `schematic` entry whose version is the id)."""
    schematic, names = None, []
    for item in extensions:
        metadata = ((item.get("spec") or {}).get("metadata")) or {}
        name, version = str(metadata.get("name") or ""), str(metadata.get("version") or "")
        if name == "schematic":
            schematic = version
        elif name:
            names.append(f"{name} {version}".strip())
    return schematic, names


def check_image(
    cluster: Cluster, node: Node, booted_version: str | None, extensions: list[dict[str, Any]]
) -> Findings:
    """The booted Talos minor is the answers' (a patch release only warns: the installer image decides what
    is installed), and the installer's schematic is the boot ISO's (Image Factory: they must match)."""
    out = Findings()
    want = cluster.spec.talos.version
    if booted_version is None:
        out.warnings.append(f"{node.hostname}: could not read its Talos version from `talosctl version`")
    elif versions.minor_of(booted_version) != versions.minor_of(want):
        out.errors.append(
            f"{node.hostname} ({node.maintenance_ip}) booted Talos {booted_version}, but the answers install "
            f"{want}: boot it from the {versions.minor_of(want)} ISO, or set spec.talos.version to "
            f"Talos {versions.minor_of(booted_version)}.x"
        )
    elif booted_version != want:
        out.warnings.append(
            f"{node.hostname} booted Talos {booted_version}; it installs {want} (the installer image decides)"
        )
    schematic, names = booted_schematic(extensions)
    wanted = cluster.spec.talos.schematic
    carried = f" with the system extensions {', '.join(names)}" if names else ""
    if schematic is not None and schematic != wanted:
        out.errors.append(
            f"{node.hostname} booted the Image Factory schematic {schematic}{carried}, but the installer image "
            f"is schematic {wanted} (spec.talos.schematic): the two must match, or the installed system "
            f"loses what the ISO has. Set spec.talos.schematic: {schematic}, or boot the ISO of {wanted}"
        )
    elif schematic is None and names and wanted == versions.VANILLA_SCHEMATIC:
        out.errors.append(
            f"{node.hostname} booted with the system extensions {', '.join(names)}, but the installer image is "
            "the vanilla schematic (spec.talos.schematic): the installed system would lack them. Set "
            "spec.talos.schematic to the schematic of the ISO"
        )
    return out


# ---------------------------------------------------------------- certificate


def check_fingerprint(cluster: Cluster, node: Node, presented: str) -> Findings:
    """The certificate the node presents is the pinned one (when the answers pin one)."""
    out = Findings()
    if node.cert_fingerprint is None:
        out.warnings.append(
            f"{node.hostname}: certificate fingerprint {presented} (not pinned: compare it with the node's "
            f"console and put it in {_where(cluster, node)}.certFingerprint to pin it)"
        )
    elif presented != node.cert_fingerprint:
        out.errors.append(
            f"{node.hostname} ({node.maintenance_ip}) presents the certificate fingerprint {presented}, not the "
            f"pinned fingerprint {node.cert_fingerprint}: another machine may answer at that address. Compare "
            "with the node's console (its latest `server certificate issued` line) and fix "
            f"{_where(cluster, node)}.certFingerprint; nothing was sent to it"
        )
    return out


# ---------------------------------------------------------------- the step


def commands(node: Node) -> list[Sequence[str] | str]:
    """What `verify` runs, for `skynet plan --commands`."""
    return [
        f"# reads the certificate at {node.maintenance_ip}:{certs.TALOS_API_PORT} (TLS, Python ssl) and checks "
        "its fingerprint",
        talos.get("links", node.maintenance_ip, insecure=True),
        talos.version_insecure(node.maintenance_ip),
        talos.get("extensions", node.maintenance_ip, insecure=True),
    ]


def _read(ctx: Context, argv: list[str]) -> str:
    result = ctx.run(argv, show_stdout=False)
    ctx.check(result)  # a transient line (the node not up yet) raises Transient
    return result.stdout


def verify(
    cluster: Cluster, node: Node, read_fingerprint: Callable[[str], str] | None = None
) -> Callable[[Context], None]:
    """The `verify-<host>` action: certificate, link, Talos version and schematic of a maintenance-mode node."""
    reader = read_fingerprint or certs.maintenance_fingerprint

    def action(ctx: Context) -> None:
        address = node.maintenance_ip
        try:
            presented = reader(address)
        except (OSError, certs.CertificateError) as exc:
            raise Transient(
                f"cannot read the certificate at {address}:{certs.TALOS_API_PORT}: {exc}"
            ) from None
        findings = [check_fingerprint(cluster, node, presented)]
        try:
            links = discovery.links_from(
                parse.json_stream(_read(ctx, talos.get("links", address, insecure=True)))
            )
            findings.append(check_link(cluster, node, links))
            version_text = _read(ctx, talos.version_insecure(address))
            tags = parse.server_versions(version_text)
            booted = tags.get(address) or next(iter(tags.values()), None)
            extensions = parse.json_stream(_read(ctx, talos.get("extensions", address, insecure=True)))
        except ValueError as exc:
            raise StepError(f"{node.hostname}: talosctl printed something unexpected: {exc}") from None
        findings.append(check_image(cluster, node, booted, extensions))
        for warning in (w for f in findings for w in f.warnings):
            ctx.line(f"! {warning}")
        errors = [e for f in findings for e in f.errors]
        if errors:
            raise StepError("; ".join(errors))
        link = node.interface or f"the link with MAC {node.mac}"
        ctx.line(f"{node.hostname}: link {link} present, Talos {booted}, certificate {presented}")

    return action
