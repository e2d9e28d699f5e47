"""Issue a role-based Talos client certificate from the secrets bundle's OS CA, as a talosconfig.

Talos reads a client's roles from its certificate's subject Organization (siderolabs/talos
`pkg/grpc/middleware/authz/injector.go`, `role.Parse`), once apid has verified the certificate against the OS CA
(`certs.os` of the bundle, `machine.ca` of a control plane's config). The certificate is made as
`secrets.NewAdminCertificateAndKey` makes the admin one: a key of the CA's type (Ed25519 for a Talos-made CA),
KeyUsage DigitalSignature, ExtKeyUsage ClientAuth; the talosconfig has talosctl's shape
(`pkg/machinery/client/config/config.go`: context, contexts.NAME.{endpoints, nodes, ca, crt, key}, the last three
base64 of PEM).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from skynet_tui.access.grants import AccessError, Grant

KEY_LABEL = "ED25519 PRIVATE KEY"  # Talos's PEM label for Ed25519 PKCS#8 keys


@dataclass(frozen=True)
class Issued:
    talosconfig: str  # holds the private key: written 0600 under secrets/, never printed
    grant: Grant


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _pem(value: Any, where: str) -> str:
    try:
        text = base64.b64decode(str(value), validate=True).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise AccessError(f"{where}: not base64 of PEM") from None
    if "-----BEGIN" not in text:
        raise AccessError(f"{where}: not base64 of PEM")
    return text


def read_os_ca(bundle: Path) -> tuple[str, str]:
    """(certificate PEM, key PEM) of the bundle's OS CA; AccessError naming the field when it cannot be read."""
    try:
        data = yaml.safe_load(bundle.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AccessError(
            f"{bundle} does not exist: run `skynet generate` first (the Talos secrets bundle)"
        ) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise AccessError(f"{bundle}: cannot be read: {exc}") from None
    os_ca = ((data or {}).get("certs") or {}).get("os") if isinstance(data, dict) else None
    if not isinstance(os_ca, dict) or not os_ca.get("crt") or not os_ca.get("key"):
        raise AccessError(f"{bundle}: certs.os.crt and certs.os.key are required (the Talos OS CA)")
    return _pem(os_ca["crt"], f"{bundle}: certs.os.crt"), _pem(os_ca["key"], f"{bundle}: certs.os.key")


def _load_key(pem: str) -> Any:
    from cryptography.hazmat.primitives import serialization

    text = pem.replace(f"BEGIN {KEY_LABEL}", "BEGIN PRIVATE KEY").replace(
        f"END {KEY_LABEL}", "END PRIVATE KEY"
    )
    return serialization.load_pem_private_key(text.encode(), password=None)


def _new_key(like: Any) -> Any:
    """A key of the CA's type (siderolabs/crypto NewKeyPair follows the CA's signature algorithm)."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(like, ed25519.Ed25519PrivateKey):
        return ed25519.Ed25519PrivateKey.generate()
    if isinstance(like, ec.EllipticCurvePrivateKey):
        return ec.generate_private_key(like.curve)
    if isinstance(like, rsa.RSAPrivateKey):
        return rsa.generate_private_key(65537, 4096)
    raise AccessError(f"the OS CA's key type {type(like).__name__} is not one Talos makes")


def _key_pem(key: Any) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return pem.replace("PRIVATE KEY", KEY_LABEL) if isinstance(key, ed25519.Ed25519PrivateKey) else pem


def issue(
    ca_crt: str,
    ca_key: str,
    *,
    name: str,
    role: str,
    ttl: dt.timedelta,
    cluster: str,
    endpoints: list[str],
    nodes: list[str],
    now: dt.datetime | None = None,
) -> Issued:
    """A talosconfig for one operator (context NAME@CLUSTER), and the grant to record."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    try:
        ca = x509.load_pem_x509_certificate(ca_crt.encode())
        signer = _load_key(ca_key)
    except ValueError as exc:
        raise AccessError(f"the secrets bundle's OS CA cannot be read: {exc}") from None
    not_after = now + ttl
    if not_after > ca.not_valid_after_utc:
        raise AccessError(
            "--ttl: the certificate would outlive the OS CA, which expires "
            f"{ca.not_valid_after_utc:%Y-%m-%d}: give a shorter --ttl"
        )
    key = _new_key(signer)
    subject = x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, role), x509.NameAttribute(NameOID.COMMON_NAME, name)]
    )
    usage = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(not_after)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
        )
        .sign(signer, None if isinstance(signer, ed25519.Ed25519PrivateKey) else hashes.SHA256())
    )
    crt_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    context = f"{name}@{cluster}"
    config = {
        "context": context,
        "contexts": {
            context: {
                "endpoints": list(endpoints),
                **({"nodes": list(nodes)} if nodes else {}),
                "ca": _b64(ca_crt),
                "crt": _b64(crt_pem),
                "key": _b64(_key_pem(key)),
            }
        },
    }
    grant = Grant(
        name=name,
        role=role,
        serial=f"{cert.serial_number:x}",
        sha256=hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest(),
        issued_at=now,
        not_after=not_after,
    )
    text = yaml.safe_dump(config, sort_keys=False, indent=4, default_flow_style=False)
    return Issued(text, grant)
