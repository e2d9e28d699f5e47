"""The maintenance-mode API's certificate fingerprint, read with Python's `ssl`, in talosctl's format.

A machine booted from the Talos ISO serves its API on port 50000 with a self-signed certificate and prints
its fingerprint on the console (`server certificate issued`, field `fingerprint`). talosctl's
`--cert-fingerprint` takes the same value: base64 (standard alphabet) of the SHA-256 of the leaf certificate's
SubjectPublicKeyInfo (siderolabs/crypto `x509/fingerprint.go` `SPKIFingerprint`/`String`, the version talos
v1.13.9 pins; used by talosctl in `cmd/talosctl/pkg/talos/global/client.go` `WithClientMaintenance`, and by
machined in `internal/app/machined/pkg/controllers/runtime/maintenance_service_inform.go`).
"""

from __future__ import annotations

import base64
import hashlib
import socket
import ssl

TALOS_API_PORT = 50000


class CertificateError(ValueError):
    """The bytes are not an X.509 certificate this module can read."""


def _element(data: bytes, offset: int) -> tuple[int, int, int]:
    """One DER element at `offset`: (tag, start of its content, end of the element)."""
    if offset + 2 > len(data):
        raise CertificateError("truncated DER")
    tag, first = data[offset], data[offset + 1]
    position = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or position + count > len(data):
            raise CertificateError("bad DER length")
        length = int.from_bytes(data[position : position + count], "big")
        position += count
    end = position + length
    if end > len(data):
        raise CertificateError("truncated DER")
    return tag, position, end


def spki(der: bytes) -> bytes:
    """The DER SubjectPublicKeyInfo of a DER certificate (RFC 5280: the 7th field of tbsCertificate, or the
    6th when the optional [0] version is absent)."""
    tag, start, _ = _element(der, 0)
    if tag != 0x30:
        raise CertificateError("not a certificate: no outer SEQUENCE")
    tag, position, tbs_end = _element(der, start)
    if tag != 0x30:
        raise CertificateError("not a certificate: no tbsCertificate SEQUENCE")
    fields: list[tuple[int, int, int]] = []
    while position < tbs_end and len(fields) < 7:
        tag, _, end = _element(der, position)
        fields.append((tag, position, end))
        position = end
    if fields and fields[0][0] == 0xA0:  # [0] EXPLICIT version
        fields = fields[1:]
    # serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
    if len(fields) < 6 or fields[5][0] != 0x30:
        raise CertificateError("not a certificate: no subjectPublicKeyInfo")
    _, begin, end = fields[5]
    return der[begin:end]


def fingerprint(der: bytes) -> str:
    """talosctl's certificate fingerprint of a DER certificate: base64(SHA-256(SPKI))."""
    return base64.b64encode(hashlib.sha256(spki(der)).digest()).decode("ascii")


def peer_certificate(host: str, port: int = TALOS_API_PORT, timeout: float = 5.0) -> bytes:
    """The DER leaf certificate the server at host:port presents (not verified: it is self-signed).

    Raises OSError (connection refused, timeout, TLS failure) when it cannot be read."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])  # apid speaks gRPC
    with (
        socket.create_connection((host, port), timeout=timeout) as raw,
        context.wrap_socket(raw, server_hostname=None) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise ssl.SSLError(f"{host}:{port} presented no certificate")
    return der


def maintenance_fingerprint(host: str, port: int = TALOS_API_PORT, timeout: float = 5.0) -> str:
    """The fingerprint of the certificate a maintenance-mode node presents at host:port."""
    return fingerprint(peer_certificate(host, port, timeout))
