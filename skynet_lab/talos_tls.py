"""The lab machines' maintenance-mode TLS: a self-signed CA and server certificate per machine, as Talos makes.

Talos in maintenance mode serves its API with a fresh self-signed CA (Ed25519, siderolabs/crypto's default) and
a server certificate it signs (`internal/app/machined/pkg/controllers/secrets/maintenance_root.go`, `api.go`
at v1.13.9), and prints the server certificate's fingerprint on the console. The lab makes the same shape with
the `cryptography` package, so the product's fingerprint reader and talosctl's `--cert-fingerprint` check
meet a real TLS handshake.

The fingerprint is computed here independently of the product (which parses DER itself): base64 of the
SHA-256 of the leaf's SubjectPublicKeyInfo (siderolabs/crypto `x509/fingerprint.go` `SPKIFingerprint`).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import socket
import ssl
from pathlib import Path

from skynet_tui import api

TLS_DIR = "tls"  # under the lab root: <ip>.pem (certificate chain) and <ip>.key, per machine
VALIDITY = datetime.timedelta(days=365)


def paths(root: Path, ip: str) -> tuple[Path, Path]:
    """(certificate chain, private key) of the machine whose planned address is `ip`."""
    folder = Path(root) / TLS_DIR
    return folder / f"{ip}.pem", folder / f"{ip}.key"


def issue(root: Path, ip: str, addresses: list[str]) -> str:
    """A new maintenance CA and server certificate for the machine (SANs: its addresses); returns the
    server certificate's fingerprint, the one its console prints."""
    # cryptography takes ~0.15 s to load: imported here and in fingerprint(), so that the fake talosctl, which
    # imports this module on each call, pays it only for a pinned apply-config.
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ed25519.Ed25519PrivateKey.generate()
    ca_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "talos")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, None)
    )
    key = ed25519.Ed25519PrivateKey.generate()
    sans = [x509.IPAddress(ipaddress.ip_address(a)) for a in dict.fromkeys(addresses)]
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "talos")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, None)
    )
    chain, key_path = paths(root, ip)
    chain.parent.mkdir(parents=True, exist_ok=True)
    pem = leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    api.atomic_write(chain, pem.decode(), 0o644)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    api.atomic_write(key_path, private.decode(), 0o600)
    return fingerprint(leaf.public_bytes(serialization.Encoding.DER))


def fingerprint(der: bytes) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)) of a DER certificate, as Talos prints and talosctl checks it."""
    from cryptography import x509  # on first use: see issue()
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_der_x509_certificate(der)
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def server_context(root: Path, ip: str) -> ssl.SSLContext:
    """The TLS server side of the machine's maintenance API (no client certificates asked, as Talos)."""
    chain, key = paths(root, ip)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_cert_chain(chain, key)
    context.set_alpn_protocols(["h2"])
    return context


def presented_fingerprint(address: str, port: int, timeout: float = 5.0) -> str:
    """Connect as talosctl's maintenance client does (no verification) and fingerprint the leaf presented."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    with (
        socket.create_connection((address, port), timeout=timeout) as raw,
        context.wrap_socket(raw) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise ssl.SSLError("no peer certificate")
    return fingerprint(der)
