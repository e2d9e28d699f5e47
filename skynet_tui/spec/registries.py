"""Container registry mirrors (`spec.registries`): which registries the nodes pull through which mirrors.

Built on the shared host check of fields.py: a registry is `host[:port]` (or `*`, every registry) and a
mirror an http(s) URL of a host, an optional port and an optional path. Talos renders them as
RegistryMirrorConfig documents (talos/patches.py).
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator

from skynet_tui.spec.fields import Section, check_host

ALL_REGISTRIES = "*"
_PORT = re.compile(r"[0-9]{1,5}")
_PATH = re.compile(r"(/[A-Za-z0-9._~%!$&'()*+,;=:@-]*)*")


def _host_port(value: str) -> str:
    """`host` or `host:port`, the host an IPv4 address or a lowercase DNS name; raises ValueError."""
    host, sep, port = value.rpartition(":") if ":" in value else (value, "", "")
    check_host(host)
    if sep and not (_PORT.fullmatch(port) and 0 < int(port) < 65536):
        raise ValueError(f"{port!r} is not a port")
    return value


def check_registry_name(value: str) -> str:
    """An image registry as the first segment of an image reference names it (docker.io, ghcr.io:443), or *."""
    if value == ALL_REGISTRIES:
        return value
    try:
        return _host_port(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a registry name: host[:port] in lowercase (e.g. docker.io, registry.local:5000) "
            "or * for every registry"
        ) from None


def check_mirror_url(value: str) -> str:
    """A mirror endpoint: http:// or https://, a host, an optional port and path; no credentials or query."""
    parts = urllib.parse.urlsplit(value)
    problem = ""
    if parts.scheme not in ("http", "https"):
        problem = "it must start with http:// or https://"
    elif "@" in parts.netloc:
        problem = "credentials do not belong in the URL"
    elif parts.query or parts.fragment or not _PATH.fullmatch(parts.path):
        problem = "only a path may follow the host"
    else:
        try:
            _host_port(parts.netloc)
        except ValueError:
            problem = "the host must be an IPv4 address or a lowercase DNS name, with an optional port"
    if problem:
        raise ValueError(f"{value!r} is not a mirror URL: {problem} (e.g. https://mirror.example.com)")
    return value


RegistryName = Annotated[str, AfterValidator(check_registry_name)]
MirrorURL = Annotated[str, AfterValidator(check_mirror_url)]
MirrorURLs = Annotated[list[MirrorURL], Field(min_length=1)]


class Registries(Section):
    """Where the nodes pull container images from, for air-gapped or rate-limited sites."""

    mirrors: dict[RegistryName, MirrorURLs] = Field(
        default_factory=dict,
        description="Optional: pull images of a registry through mirrors, tried in order. Maps a registry "
        "(docker.io, ghcr.io, or * for every registry) to http(s) URLs of its mirrors; the registry itself "
        "stays the fallback. Talos and the kubelet both use them; empty by default.",
        examples=[{"docker.io": ["https://mirror.example.com"], "*": ["http://10.5.0.1:5000"]}],
    )

    @field_validator("mirrors")
    @classmethod
    def _endpoints(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for registry, urls in value.items():
            if len(set(urls)) != len(urls):
                raise ValueError(f"{registry}: a mirror URL is listed twice")
        return value
