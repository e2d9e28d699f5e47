"""Field checks of the answers file: one function per kind of value, the constrained types built on them, and
the base of every section."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_NAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$"
)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
# Base64 (standard alphabet, padded) of a SHA-256 digest: 43 characters and one '='.
_FINGERPRINT = re.compile(r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=")


# ---------------------------------------------------------------- field checks (shared with the wizard)


def check_ip(value: str) -> str:
    try:
        return str(ipaddress.IPv4Address(value.strip()))
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv4 address (e.g. 192.168.10.11)") from None


def check_cidr(value: str) -> str:
    if "/" not in value:
        raise ValueError(f"{value!r} needs a prefix length (e.g. {value.strip()}/24)")
    try:
        return str(ipaddress.IPv4Network(value.strip(), strict=True))
    except ValueError as exc:
        if "host bits set" in str(exc):
            net = ipaddress.IPv4Network(value.strip(), strict=False)
            raise ValueError(f"{value!r} has host bits set; did you mean {net}?") from None
        raise ValueError(f"{value!r} is not a CIDR (e.g. 192.168.10.0/24)") from None


def check_label(value: str, max_len: int = 63) -> str:
    if not _LABEL.match(value) or len(value) > max_len:
        raise ValueError(
            f"{value!r} is not a DNS-1123 label: lowercase letters, digits and '-', "
            f"starting and ending alphanumeric, at most {max_len} characters"
        )
    return value


def check_dns_name(value: str) -> str:
    if not _DNS_NAME.match(value) or "." not in value:
        raise ValueError(f"{value!r} is not a domain name (e.g. example.com)")
    return value


def check_host(value: str) -> str:
    """An IPv4 address or a DNS name."""
    try:
        return check_ip(value)
    except ValueError:
        pass
    if not _DNS_NAME.match(value):
        raise ValueError(f"{value!r} is neither an IPv4 address nor a DNS name")
    return value


def check_pool_entry(value: str) -> str:
    """A MetalLB pool entry: `a.b.c.d-e.f.g.h` or a CIDR."""
    if "-" in value:
        first, _, last = value.partition("-")
        start, end = check_ip(first), check_ip(last)
        if ipaddress.IPv4Address(start) > ipaddress.IPv4Address(end):
            raise ValueError(f"range {value!r} is reversed: the first address must not be above the last")
        return f"{start}-{end}"
    try:
        return check_cidr(value)
    except ValueError:
        raise ValueError(f"{value!r} is neither a range a-b nor a CIDR") from None


def check_env_name(value: str | None) -> str | None:
    if value is not None and not _ENV_NAME.match(value):
        raise ValueError(f"{value!r} is not an environment variable name (e.g. CF_API_TOKEN)")
    return value


def is_mac(value: str) -> bool:
    """A MAC address written aa:bb:cc:dd:ee:ff (either case): the one pattern of Skynet."""
    return bool(_MAC.match(value))


def check_mac(value: str) -> str:
    if not is_mac(value):
        raise ValueError(f"{value!r} is not a MAC address (e.g. aa:bb:cc:dd:ee:ff)")
    return value.lower()


def check_cert_fingerprint(value: str) -> str:
    """A certificate fingerprint as talosctl's --cert-fingerprint takes it: base64 of a SHA-256 (44 characters)."""
    text = value.strip()
    if not _FINGERPRINT.fullmatch(text):
        raise ValueError(
            f"{value[:60]!r} is not a certificate fingerprint: 44 characters of base64 ending in '=', as the "
            "node's console prints it (e.g. j8iNuGT6IsHyWS0K8D5r5KJXy+ba0Tt3ZnsdDGgb/ec=)"
        )
    return text


def pool_bounds(entry: str) -> tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]:
    """First and last address of a valid pool entry."""
    if "-" in entry:
        first, _, last = entry.partition("-")
        return ipaddress.IPv4Address(first), ipaddress.IPv4Address(last)
    net = ipaddress.IPv4Network(entry)
    return net.network_address, net.broadcast_address


# One constrained type per kind of field: the model's building blocks.
IPv4 = Annotated[str, AfterValidator(check_ip)]
CIDR = Annotated[str, AfterValidator(check_cidr)]
Host = Annotated[str, AfterValidator(check_host)]
Label = Annotated[str, AfterValidator(check_label)]
PoolEntry = Annotated[str, AfterValidator(check_pool_entry)]
EnvName = Annotated[str, AfterValidator(check_env_name)]
CertFingerprint = Annotated[str, AfterValidator(check_cert_fingerprint)]


class Section(BaseModel):
    """A section of the answers file: camelCase keys, unknown keys refused."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, validate_assignment=False
    )
