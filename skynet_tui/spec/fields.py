"""Field checks of the answers file: one function per kind of value, the constrained types built on them, and
the base of every section.

Every string of the answers passes `check_plain` before its own rule (the sections' base does it for every
field, new ones included): at most MAX_TEXT characters, no control or invisible formatting character (a
trailing newline, a bidirectional override). Every pattern is matched whole (`fullmatch`), and a message shows
at most SHOWN characters of a value (`show`), so no input, however long, is echoed whole.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator
from pydantic.alias_generators import to_camel

MAX_TEXT = 2048  # the longest string of any field: a URL (browsers' and Git hosts' practical limit)
MAX_ITEMS = 1000  # the longest list of any field
MAX_SERIAL = 128  # a disk's serial or WWID (Talos reports them as read from the device)
MAX_DOMAIN = 240  # apps answer at <app>.<domain>; the longest, traefik.<domain>, must stay within 253
SHOWN = 60  # characters of a value a message shows

_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
_DNS_NAME = re.compile(rf"{_DNS_LABEL}(\.{_DNS_LABEL})*")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_MAC = re.compile(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}")
# Base64 (standard alphabet, padded) of a SHA-256 digest: 43 characters and one '='.
_FINGERPRINT = re.compile(r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=")
# Printable ASCII without leading or trailing blanks (a disk serial as the device reports it).
_PRINTABLE = re.compile(r"[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?")
# C0 and C1 controls (newline, tab, escape, DEL), line and paragraph separators, lone surrogates.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# Unicode categories no answer has a use for: controls, format characters (bidirectional overrides, zero-width
# spaces, BOM), surrogates, private-use and unassigned code points.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# git check-ref-format: what no part of a ref name may hold.
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")


# ---------------------------------------------------------------- showing values in messages


def show(value: object, limit: int = SHOWN) -> str:
    """A value for a message: its repr cut at `limit` characters (then "…"); never the whole of a long input."""
    if isinstance(value, str):
        return repr(value[:limit]) + ("…" if len(value) > limit else "")
    if isinstance(value, bool | int | float) or value is None:
        try:
            text = repr(value)
        except ValueError:  # an int too long to print
            return "a very large number"
        return text[:limit] + ("…" if len(text) > limit else "")
    return f"a {type(value).__name__}"


def plain_problem(text: str, limit: int = MAX_TEXT) -> str | None:
    """Why a string cannot be an answer (too long; a control or invisible character), else None."""
    if len(text) > limit:
        return f"is {len(text):,} characters long; at most {limit:,} are allowed"
    found = _CONTROL.search(text)
    position = found.start() if found else None
    if position is None and not text.isascii():
        position = next((i for i, ch in enumerate(text) if unicodedata.category(ch) in _INVISIBLE), None)
    if position is None:
        return None
    code = ord(text[position])
    what = "a line break" if text[position] in "\r\n\u2028\u2029" else "a control or invisible character"
    return f"holds {what} (U+{code:04X} at position {position + 1}); type the value again without it"


def check_plain(value: Any) -> Any:
    """Every string (and every string in a list) within MAX_TEXT and free of invisible characters."""
    if isinstance(value, str):
        problem = plain_problem(value)
        if problem:
            raise ValueError(problem)
    elif isinstance(value, list):
        if len(value) > MAX_ITEMS:
            raise ValueError(f"has {len(value):,} entries; at most {MAX_ITEMS:,} are allowed")
        for index, item in enumerate(value):
            problem = plain_problem(item) if isinstance(item, str) else None
            if problem:
                raise ValueError(f"entry [{index}] {problem}")
    return value


# ---------------------------------------------------------------- field checks (shared with the wizard)


def check_ip(value: str) -> str:
    try:
        return str(ipaddress.IPv4Address(value.strip()))
    except ValueError:
        raise ValueError(f"{show(value)} is not an IPv4 address (e.g. 192.168.10.11)") from None


def check_cidr(value: str) -> str:
    if "/" not in value:
        raise ValueError(f"{show(value)} needs a prefix length (e.g. {show(value.strip())}/24)")
    try:
        return str(ipaddress.IPv4Network(value.strip(), strict=True))
    except ValueError as exc:
        if "host bits set" in str(exc):
            net = ipaddress.IPv4Network(value.strip(), strict=False)
            raise ValueError(f"{show(value)} has host bits set; did you mean {net}?") from None
        raise ValueError(f"{show(value)} is not a CIDR (e.g. 192.168.10.0/24)") from None


def check_label(value: str, max_len: int = 63) -> str:
    if len(value) > max_len or not _LABEL.fullmatch(value):
        raise ValueError(
            f"{show(value)} is not a DNS-1123 label: lowercase letters, digits and '-', "
            f"starting and ending alphanumeric, at most {max_len} characters"
        )
    return value


def is_dns_name(value: str, max_len: int = 253) -> bool:
    return len(value) <= max_len and bool(_DNS_NAME.fullmatch(value))


def check_dns_name(value: str) -> str:
    """A domain name, lowercased: DNS names are case-insensitive, so `Example.COM` is `example.com`."""
    value = value.lower()
    if not is_dns_name(value, MAX_DOMAIN) or "." not in value:
        raise ValueError(
            f"{show(value)} is not a domain name (e.g. example.com; at most {MAX_DOMAIN} characters)"
        )
    return value


def check_host(value: str) -> str:
    """An IPv4 address or a DNS name."""
    try:
        return check_ip(value)
    except ValueError:
        pass
    if not is_dns_name(value):
        raise ValueError(f"{show(value)} is neither an IPv4 address nor a DNS name")
    return value


def check_pool_entry(value: str) -> str:
    """A MetalLB pool entry: `a.b.c.d-e.f.g.h` or a CIDR."""
    if "-" in value:
        first, _, last = value.partition("-")
        start, end = check_ip(first), check_ip(last)
        if ipaddress.IPv4Address(start) > ipaddress.IPv4Address(end):
            raise ValueError(f"range {show(value)} is reversed: the first address must not be above the last")
        return f"{start}-{end}"
    try:
        return check_cidr(value)
    except ValueError:
        raise ValueError(f"{show(value)} is neither a range a-b nor a CIDR") from None


def check_env_name(value: str | None) -> str | None:
    if value is not None and not _ENV_NAME.fullmatch(value):
        raise ValueError(
            f"{show(value)} is not an environment variable name (e.g. CF_API_TOKEN; letters, digits and '_', "
            "at most 128)"
        )
    return value


def is_mac(value: str) -> bool:
    """A MAC address written aa:bb:cc:dd:ee:ff (either case): the one pattern of Skynet."""
    return bool(_MAC.fullmatch(value))


def check_mac(value: str) -> str:
    if not is_mac(value):
        raise ValueError(f"{show(value)} is not a MAC address (e.g. aa:bb:cc:dd:ee:ff)")
    return value.lower()


def check_serial(value: str | None) -> str | None:
    """A disk serial or WWID: printable ASCII as the device reports it, at most MAX_SERIAL characters."""
    if value is not None and (len(value) > MAX_SERIAL or not _PRINTABLE.fullmatch(value)):
        raise ValueError(
            f"{show(value)} is not a disk serial or WWID: printable ASCII without leading or trailing "
            f"spaces, at most {MAX_SERIAL} characters (as `talosctl get disks` shows it)"
        )
    return value


def check_ref_name(value: str) -> str:
    """A Git branch name, by the rules of `git check-ref-format --branch` (and printable ASCII)."""
    problem = None
    if not value or len(value) > 255:
        problem = "is empty or longer than 255 characters"
    elif not value.isascii():
        problem = "holds a character outside printable ASCII"
    elif value.startswith(("-", "/")) or value.endswith(("/", ".")) or value in ("@", "HEAD"):
        problem = "may not start with '-' or '/', end with '/' or '.', nor be '@' or 'HEAD'"
    elif (found := _REF_FORBIDDEN.search(value)) is not None:
        problem = f"may not contain {found.group()!r} (nor spaces, '..', '//', '@{{', ~ ^ : ? * [ \\)"
    elif any(part.startswith(".") or part.endswith(".lock") for part in value.split("/")):
        problem = "has a part that starts with '.' or ends with '.lock'"
    if problem:
        raise ValueError(f"{show(value)} is not a Git branch name: it {problem}")
    return value


def check_cert_fingerprint(value: str) -> str:
    """A certificate fingerprint as talosctl's --cert-fingerprint takes it: base64 of a SHA-256 (44 characters)."""
    text = value.strip()
    if not _FINGERPRINT.fullmatch(text):
        raise ValueError(
            f"{show(value)} is not a certificate fingerprint: 44 characters of base64 ending in '=', as the "
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
Serial = Annotated[str, AfterValidator(check_serial)]
BranchName = Annotated[str, AfterValidator(check_ref_name)]
CertFingerprint = Annotated[str, AfterValidator(check_cert_fingerprint)]


class Section(BaseModel):
    """A section of the answers file: camelCase keys, unknown keys refused, every string plain and bounded."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        validate_assignment=False,
        str_max_length=MAX_TEXT,
    )

    @field_validator("*", mode="before")
    @classmethod
    def _plain(cls, value: Any) -> Any:
        # Before any field's own rule: a long or invisible-character input never reaches a pattern or a message.
        return check_plain(value)
