"""Preflight of each machine before any write: its link, its boot image, its pinned certificate; and the
maintenance certificate's fingerprint read the way talosctl computes it."""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from skynet_tui import spec, versions
from skynet_tui.discovery import Link
from skynet_tui.plan import preflight, probes
from skynet_tui.talos import certs

FINGERPRINT = "j8iNuGT6IsHyWS0K8D5r5KJXy+ba0Tt3ZnsdDGgb/ec="
OTHER = "AAAAuGT6IsHyWS0K8D5r5KJXy+ba0Tt3ZnsdDGgb/ec="


def _cluster(example_data: dict, **node: object) -> spec.Cluster:
    example_data["spec"]["nodes"][4].update(node)
    return spec.parse(example_data)


def _links() -> list[Link]:
    return [
        Link("lo", type="loopback", oper_state="unknown"),
        Link("enp3s0", "ac:1f:6b:00:00:01", "ac:1f:6b:00:00:01", type="ether", oper_state="up", link_state=True,
             driver="igb"),
        Link("enp4s0", "ac:1f:6b:00:00:02", "02:00:00:00:00:09", type="ether", oper_state="down", driver="igb",
             alias="uplink"),
    ]  # fmt: skip


# ---------------------------------------------------------------- link


def test_the_named_link_is_present(example_data: dict) -> None:
    cluster = _cluster(example_data)  # worker-2: interface enp3s0
    found = preflight.check_link(cluster, cluster.spec.nodes[4], _links())
    assert found.errors == [] and found.warnings == []


def test_a_missing_link_is_an_error_naming_node_field_and_the_links_it_has(example_data: dict) -> None:
    cluster = _cluster(example_data, interface="eno1")
    (error,) = preflight.check_link(cluster, cluster.spec.nodes[4], _links()).errors
    assert error.startswith(
        "worker-2 (192.168.10.22) has no link eno1; it has enp3s0 (up, MAC ac:1f:6b:00:00:01)"
    )
    assert "spec.nodes[4].interface" in error and "without any address after its reboot" in error


def test_a_link_without_carrier_warns(example_data: dict) -> None:
    cluster = _cluster(example_data, interface="uplink")  # enp4s0 by its alias
    found = preflight.check_link(cluster, cluster.spec.nodes[4], _links())
    assert found.errors == []
    assert found.warnings == [
        "worker-2: link enp4s0 has no carrier (down): is its cable plugged in? The node's address 192.168.10.22 "
        "goes on it"
    ]


def test_a_mac_matches_the_permanent_address_only(example_data: dict) -> None:
    example_data["spec"]["nodes"][4].pop("interface")
    cluster = _cluster(example_data, mac="ac:1f:6b:00:00:02")
    assert preflight.check_link(cluster, cluster.spec.nodes[4], _links()).errors == []

    cluster = _cluster(example_data, mac="02:00:00:00:00:09")  # enp4s0's current, rewritten address
    (error,) = preflight.check_link(cluster, cluster.spec.nodes[4], _links()).errors
    assert "no physical link with the permanent MAC 02:00:00:00:00:09" in error
    assert "enp4s0 has it as its current address, but its permanent address is ac:1f:6b:00:00:02" in error
    assert "spec.nodes[4].mac" in error


def test_a_mac_on_two_links_is_refused(example_data: dict) -> None:
    example_data["spec"]["nodes"][4].pop("interface")
    cluster = _cluster(example_data, mac="ac:1f:6b:00:00:01")
    twins = [*_links(), Link("enp5s0", "ac:1f:6b:00:00:01", type="ether", oper_state="up", driver="igb")]
    (error,) = preflight.check_link(cluster, cluster.spec.nodes[4], twins).errors
    assert "2 links (enp3s0, enp5s0) have the MAC" in error and "spec.nodes[4].interface" in error


# ---------------------------------------------------------------- boot image


def _schematic(value: str, *names: str) -> list[dict]:
    layers = [{"spec": {"metadata": {"name": n, "version": "v1.0.0"}}} for n in names]
    return [*layers, {"spec": {"metadata": {"name": "schematic", "version": value}}}]


def test_another_talos_minor_is_an_error_a_patch_release_a_warning(example_data: dict) -> None:
    cluster = spec.parse(example_data)
    node = cluster.spec.nodes[0]
    (error,) = preflight.check_image(cluster, node, "v1.12.11", []).errors
    assert error.startswith("cp-1 (192.168.10.11) booted Talos v1.12.11, but the answers install v1.13.9")
    found = preflight.check_image(cluster, node, "v1.13.8", _schematic(versions.VANILLA_SCHEMATIC))
    assert found.errors == []
    assert found.warnings == ["cp-1 booted Talos v1.13.8; it installs v1.13.9 (the installer image decides)"]
    assert preflight.check_image(cluster, node, "v1.13.9", []).warnings == []
    assert "could not read its Talos version" in preflight.check_image(cluster, node, None, []).warnings[0]


def test_the_booted_schematic_must_be_the_installers(example_data: dict) -> None:
    cluster = spec.parse(example_data)
    node = cluster.spec.nodes[0]
    other = "a" * 64
    (error,) = preflight.check_image(cluster, node, "v1.13.9", _schematic(other, "iscsi-tools")).errors
    assert (
        f"booted the Image Factory schematic {other} with the system extensions iscsi-tools v1.0.0" in error
    )
    assert f"Set spec.talos.schematic: {other}" in error
    # Extensions without a factory schematic (a hand-built ISO) while the installer is vanilla: they would be lost.
    (error,) = preflight.check_image(cluster, node, "v1.13.9", _schematic("", "iscsi-tools")[:1]).errors
    assert "installed system would lack them" in error

    example_data["spec"]["talos"]["schematic"] = other
    cluster = spec.parse(example_data)
    assert (
        preflight.check_image(cluster, cluster.spec.nodes[0], "v1.13.9", _schematic(other, "x")).errors == []
    )


# ---------------------------------------------------------------- certificate


def test_the_presented_certificate_must_be_the_pinned_one(example_data: dict) -> None:
    cluster = _cluster(example_data, certFingerprint=FINGERPRINT)
    node = cluster.spec.nodes[4]
    assert preflight.check_fingerprint(cluster, node, FINGERPRINT).errors == []
    (error,) = preflight.check_fingerprint(cluster, node, OTHER).errors
    assert f"presents the certificate fingerprint {OTHER}, not the pinned fingerprint {FINGERPRINT}" in error
    assert "nothing was sent to it" in error

    example_data["spec"]["nodes"][4].pop("certFingerprint")
    unpinned = spec.parse(example_data)
    (warning,) = preflight.check_fingerprint(unpinned, unpinned.spec.nodes[4], OTHER).warnings
    assert "not pinned" in warning and "spec.nodes[4].certFingerprint" in warning


def _certificate(key: object) -> bytes:
    """A self-signed DER certificate with an IP SAN (and so a v3 [0] version field) for `key`."""
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "talos")])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())  # type: ignore[attr-defined]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("10.0.0.1"))]), False)
    )
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(key, algorithm).public_bytes(serialization.Encoding.DER)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "key",
    [
        ed25519.Ed25519PrivateKey.generate(),
        ec.generate_private_key(ec.SECP256R1()),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
    ],
    ids=["ed25519", "ecdsa", "rsa"],
)
def test_fingerprint_is_base64_sha256_of_the_spki(key: object) -> None:
    der = _certificate(key)
    spki = (
        x509.load_der_x509_certificate(der)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert certs.spki(der) == spki
    expected = base64.b64encode(hashlib.sha256(spki).digest()).decode()
    assert certs.fingerprint(der) == expected
    assert spec.check_cert_fingerprint(expected) == expected  # the answers accept what is read


@pytest.mark.parametrize("der", [b"", b"\x30\x03\x02\x01\x01", b"\x04\x02ab", b"\x30\x84\xff\xff\xff\xff"])
def test_bytes_that_are_no_certificate_are_refused(der: bytes) -> None:
    with pytest.raises(certs.CertificateError):
        certs.fingerprint(der)


@pytest.mark.parametrize("text", ["", "abc", FINGERPRINT[:-1], FINGERPRINT.replace("=", "A"), "x" * 43 + "="])
def test_a_malformed_fingerprint_is_refused_in_the_answers(text: str) -> None:
    with pytest.raises(ValueError, match="not a certificate fingerprint"):
        spec.check_cert_fingerprint(text)


# ---------------------------------------------------------------- the wait names the link


def test_a_node_silent_after_its_reboot_names_its_link(example_data: dict) -> None:
    cluster = _cluster(example_data, interface="eno1", maintenanceAddress="192.168.10.143")
    text = probes.unreachable_after_reboot(cluster, cluster.spec.nodes[4], 900)
    assert text.startswith(
        "worker-2 did not come back after its reboot: nothing answered at 192.168.10.22 nor "
    )
    assert "192.168.10.143 for 900s" in text
    assert "puts 192.168.10.22/24 on the link eno1 (spec.nodes[4].interface)" in text
    assert "turns DHCP off on every link" in text
