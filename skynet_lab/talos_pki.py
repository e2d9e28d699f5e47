"""The lab's Talos OS CA and client certificates, real X.509 as Talos makes them, so roles can be enforced.

Shapes follow siderolabs/talos v1.13.9 and siderolabs/crypto: the OS CA is self-signed Ed25519 with O=talos,
valid 10 years (`pkg/machinery/config/generate/secrets/ca.go`); a client certificate carries its roles in the
subject's Organization, KeyUsage DigitalSignature and ExtKeyUsage ClientAuth, valid 1 year by default
(`secrets.NewAdminCertificateAndKey`, `constants.TalosAPIDefaultCertificateValidityDuration`). Talos writes
Ed25519 keys as PKCS#8 under the non-standard PEM label "ED25519 PRIVATE KEY".

cryptography loads in ~0.2 s: only `gen secrets`, `gen config` and a first look at a client certificate
(talos_authz caches what it learned) import this module.
"""

from __future__ import annotations

import datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_VALIDITY = datetime.timedelta(hours=87600)
CLIENT_VALIDITY = datetime.timedelta(hours=8760)
KEY_LABEL = "ED25519 PRIVATE KEY"


def _key_pem(key: ed25519.Ed25519PrivateKey) -> str:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return pem.replace("PRIVATE KEY", KEY_LABEL)


def load_key(pem: str) -> Any:
    """A private key from PEM, whatever its label (Go's tls.X509KeyPair accepts any "… PRIVATE KEY")."""
    text = pem.replace(f"BEGIN {KEY_LABEL}", "BEGIN PRIVATE KEY").replace(
        f"END {KEY_LABEL}", "END PRIVATE KEY"
    )
    return serialization.load_pem_private_key(text.encode(), password=None)


def new_os_ca(now: datetime.datetime | None = None) -> tuple[str, str]:
    """(certificate PEM, key PEM) of a fresh OS CA."""
    now = now or datetime.datetime.now(datetime.UTC)
    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "talos")])
    usage = x509.KeyUsage(True, False, False, False, False, True, False, False, False)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(usage, critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, None)
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), _key_pem(key)


def client_certificate(
    ca_crt: str,
    ca_key: str,
    roles: list[str],
    validity: datetime.timedelta = CLIENT_VALIDITY,
    now: datetime.datetime | None = None,
) -> tuple[str, str]:
    """(certificate PEM, key PEM) of a client certificate signed by the OS CA, its roles in O, valid from `now`."""
    ca = x509.load_pem_x509_certificate(ca_crt.encode())
    signer = load_key(ca_key)
    key = ed25519.Ed25519PrivateKey.generate()
    now = now or datetime.datetime.now(datetime.UTC)
    usage = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, r) for r in roles]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + validity)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(signer, None)
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), _key_pem(key)


def verify_client(ca_crt: str, crt: str, key: str) -> dict[str, Any]:
    """What the node learns from a client's certificate: {"roles", "not_before", "not_after"} (Unix times), or
    {"error": <the TLS alert or talosctl's own error>} when it is not one this CA signed for this key."""
    try:
        cert = x509.load_pem_x509_certificate(crt.encode())
    except ValueError:
        return {"error": "client", "text": "tls: failed to find any PEM data in certificate input"}
    try:
        private = load_key(key)
    except (ValueError, TypeError):
        return {"error": "client", "text": "tls: failed to find any PEM data in key input"}
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if private.public_key().public_bytes(
        serialization.Encoding.DER, public
    ) != cert.public_key().public_bytes(serialization.Encoding.DER, public):
        return {"error": "client", "text": "tls: private key does not match public key"}
    try:
        ca = x509.load_pem_x509_certificate(ca_crt.encode())
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):  # a foreign issuer name or signature alike
        return {"error": "alert", "text": "unknown certificate authority"}
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usages = None
    if usages is not None and ExtendedKeyUsageOID.CLIENT_AUTH not in usages:
        return {"error": "alert", "text": "bad certificate"}
    roles = [str(a.value).strip() for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    return {
        "roles": [r for r in roles if r],
        "not_before": cert.not_valid_before_utc.timestamp(),
        "not_after": cert.not_valid_after_utc.timestamp(),
    }
