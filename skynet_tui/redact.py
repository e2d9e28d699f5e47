"""Secret redaction: every line that leaves the launcher passes through a Redactor."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from pathlib import Path

import yaml

MASK = "«redacted»"
MAX_SECRET_FILE = 16 << 20  # a file larger than this under secrets/ is not learnt (a bundle is a few KB)

# Every pattern runs in linear time on any line (a 1 MB hostile value included): quantifiers that could
# backtrack are bounded, and the base64 test is done on each maximal run, not by lookaheads at every position.
_PATTERNS = [
    # PEM blocks that fit on one line, and the base64 body lines of multi-line ones.
    re.compile(r"-----BEGIN [A-Z0-9 ]{1,64}-----.*?(-----END [A-Z0-9 ]{1,64}-----|$)"),
    # kubeadm-style tokens (bootstrap, trustd).
    re.compile(r"\b[a-z0-9]{6}\.[a-z0-9]{16}\b"),
    # Bearer and basic credentials in headers or URLs, and a long user part of a URL (a token as the user).
    re.compile(r"(?i)(bearer|authorization:?)\s{1,16}[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"),
    re.compile(r"(?<=://)[^/\s:@]{20,}(?=@)"),
    # key: value lines whose key names a secret.
    re.compile(
        r"(?i)((?:password|passwd|secret|token|api[_-]?key|private[_-]?key)\w{0,64}[\"']?\s{0,16}[:=]\s{0,16})"
        r"[^\s,}\"']+"
    ),
]
# Long base64 runs (keys, certificates, encryption secrets): one alphabet, 40 characters or more; masked when
# the run mixes upper case, lower case and digits.
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{40,}={0,2}")
_UPPER, _LOWER, _DIGIT = re.compile(r"[A-Z]"), re.compile(r"[a-z]"), re.compile(r"[0-9]")


# A certificate fingerprint (base64 of a SHA-256, as talosctl's --cert-fingerprint takes it) right after the
# word that names it. It hashes a public key and is shown so the operator can compare it with the node's console.
_FINGERPRINT = re.compile(r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=")
_FINGERPRINT_LABEL = re.compile(r"(?i)(fingerprints?|certificate)[:=]?\s*\[?$")


def _mask_base64(match: re.Match[str]) -> str:
    run = match.group(0)
    if not (_UPPER.search(run) and _LOWER.search(run) and _DIGIT.search(run)):
        return run
    # '/' belongs to standard base64, '-' and '_' to the URL-safe one: a run with both is a path, not a key.
    if "/" in run and ("-" in run or "_" in run):
        return run
    if _FINGERPRINT.fullmatch(run) and _FINGERPRINT_LABEL.search(match.string[: match.start()]):
        return run
    return MASK


# Values in secrets/ files that are addresses, names or versions, not secrets (IPs, URLs without credentials,
# paths, versions, host and namespace names, kinds): learning them would mask every node IP and hostname.
_PUBLIC = re.compile(
    r"\d{1,3}(\.\d{1,3}){3}(/\d{1,2}|:\d{1,5})?"
    r"|[a-z][a-z0-9+.-]*://[^\s/@]+(/[^\s@]*)?"
    r"|/[\w./-]*"
    r"|v?\d+(\.\d+)+([-+][\w.]+)?"
    r"|([a-z0-9.-]+/)?v\d+((alpha|beta)\d+)?"
    r"|(?![a-z0-9]{6}\.[a-z0-9]{16}$)[a-z][a-z0-9]*([.-][a-z0-9]+)+"
    r"|([A-Z][a-z]+)+"
)


def _secret_values(data: object) -> Iterable[str]:
    if isinstance(data, dict):
        for value in data.values():
            yield from _secret_values(value)
    elif isinstance(data, list):
        for value in data:
            yield from _secret_values(value)
    elif isinstance(data, str) and len(data) >= 8 and not _PUBLIC.fullmatch(data):
        yield data
        try:
            decoded = base64.b64decode(data, validate=True).decode("ascii")
        except (ValueError, UnicodeDecodeError):
            return
        for line in decoded.splitlines():
            if len(line.strip()) >= 16 and "-----" not in line:
                yield line.strip()


def _file_secrets(doc: object) -> Iterable[str]:
    """The values of one YAML document worth masking. A Kubernetes object (a rendered chart in secrets/) holds
    secrets only in a Secret's data and stringData: the rest is descriptions, names and kinds, and learning it
    would mask ordinary words ("applications") in every line. Anything else (the Talos secrets bundle, a
    talosconfig or kubeconfig, a machine config) is learnt whole."""
    if not (isinstance(doc, dict) and "kind" in doc and isinstance(doc.get("metadata"), dict)):
        yield from _secret_values(doc)
        return
    if doc["kind"] != "Secret":
        return
    for field in ("data", "stringData"):
        values = doc.get(field)
        for value in values.values() if isinstance(values, dict) else ():
            if not isinstance(value, str):
                continue
            text = value
            if field == "data":
                yield value
                try:
                    text = base64.b64decode(value, validate=True).decode("utf-8")
                except (ValueError, UnicodeDecodeError):
                    continue
            yield text.strip()
            yield from (line.strip() for line in text.splitlines() if "-----" not in line)


class Redactor:
    """Masks known secret values (from files in `secrets/`, env tokens) and anything shaped like a secret."""

    def __init__(self, values: Iterable[str] = ()):
        self._values: set[str] = {v for v in values if v and len(v) >= 6}
        self._compiled: re.Pattern[str] | None = None

    def copy(self) -> Redactor:
        return Redactor(self._values)

    def add(self, *values: str) -> None:
        self._values.update(v for v in values if v and len(v) >= 6)
        self._compiled = None

    def add_file(self, path: Path) -> None:
        """Learn every value of a YAML/JSON secrets file (and the base64-decoded PEM lines inside)."""
        try:
            if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_SECRET_FILE:
                return
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return
        try:
            for doc in yaml.safe_load_all(text):
                self.add(*_file_secrets(doc))
        except yaml.YAMLError:
            self.add(*(line.strip() for line in text.splitlines() if len(line.strip()) >= 16))

    def add_dir(self, folder: Path, skip: Iterable[Path] = ()) -> None:
        """Learn every file under `folder`, except those under the folders in `skip`."""
        skipped = tuple(skip)
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not any(path.is_relative_to(s) for s in skipped):
                    self.add_file(path)

    def __call__(self, line: str) -> str:
        if self._values:
            if self._compiled is None:
                ordered = sorted(self._values, key=len, reverse=True)
                self._compiled = re.compile("|".join(re.escape(v) for v in ordered))
            line = self._compiled.sub(MASK, line)
        for pattern in _PATTERNS:
            if pattern.groups and pattern.pattern.startswith("(?i)(("):
                line = pattern.sub(lambda m: m.group(1) + MASK, line)
            else:
                line = pattern.sub(MASK, line)
        return _BASE64_RUN.sub(_mask_base64, line)
