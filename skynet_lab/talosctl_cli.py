"""Parses talosctl argv the way cobra/pflag do, against the v1.13.9 command table (package data)."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

TABLE = Path(__file__).parent / "data" / "talosctl-1.13.9-flags.json"

# Command path without "talosctl" ("" is the root) → {long flag name: (shorthand or None, value type)}.
# A value type of None is a boolean flag; every other type takes a value.
COMMANDS: dict[str, dict[str, tuple[str | None, str | None]]] = {
    path: {name: (spec["short"], spec["type"]) for name, spec in flags.items()}
    for path, flags in json.loads(TABLE.read_text(encoding="utf-8"))["commands"].items()
}

BOOL_TYPES = (None, "true")  # no value needed: `--flag` alone means true; `--flag=false` is accepted
LIST_TYPES = ("strings", "ipSlice")  # comma-separated, repeatable (pflag StringSlice)
ARRAY_TYPES = ("stringArray",)  # repeatable, never split on commas (pflag StringArray)
INT_TYPES = ("int", "int32", "uint", "uint16")


@dataclass(frozen=True)
class Invocation:
    """One parsed talosctl call: what the simulated talosctl dispatches on.

    Contract (for every handler of the fake, including `talos_node.handle(inv) -> int`):

    - `command`: the command path without "talosctl", e.g. ("get",), ("gen", "config"), ("etcd", "status"),
      ("config", "endpoint"), ("version",). Only commands that exist in talosctl 1.13.9 reach a handler.
    - `flags`: only the flags given on the command line, keyed by their long name without dashes
      ("nodes", "endpoints", "insecure", "output", "talosconfig", "wait-timeout", …), whatever spelling was
      used (`-n`, `--nodes=a,b`, `-i`). Values are typed:
        * boolean flags → bool (`--merge=false` → False, `-i` → True);
        * "strings"/"ipSlice" flags (`-n`, `-e`, `--control-plane-nodes`, …) → list[str], comma-split and
          accumulated over repeats (`-n a,b -n c` → ["a", "b", "c"]);
        * "stringArray" flags (`--config-patch`, `-p`) → list[str], one item per occurrence, never split;
        * integer flags → int; "float" → float;
        * everything else (string, duration, enum-like) → str exactly as given; use `duration()` for seconds.
      `--help` never reaches a handler.
    - `args`: positional arguments in order, e.g. ["disks"] for `get disks`, ["./kubeconfig"] for
      `kubeconfig ./kubeconfig`, the two args of `gen config`. Everything after `--` is positional.
    - `argv`: the raw argv (without the program name), for messages.

    `inv.get(name, default)` reads a flag; `inv.has(name)` says whether it was given; `inv.nodes` and
    `inv.endpoints` are the -n/-e lists (empty when absent).
    """

    command: tuple[str, ...]
    flags: dict[str, object]
    args: list[str]
    argv: tuple[str, ...] = field(default=())

    def get(self, name: str, default: object = None) -> object:
        return self.flags.get(name, default)

    def has(self, name: str) -> bool:
        return name in self.flags

    @property
    def nodes(self) -> list[str]:
        return list(self.flags.get("nodes", []))  # type: ignore[call-overload]

    @property
    def endpoints(self) -> list[str]:
        return list(self.flags.get("endpoints", []))  # type: ignore[call-overload]

    @property
    def path(self) -> str:
        """`talosctl gen config`, as cobra names the command in its messages."""
        return " ".join(("talosctl", *self.command))

    def duration(self, name: str, default: float | None = None) -> float | None:
        """A Go duration flag (`20m`, `1h30m`, `90s`) in seconds; `default` when the flag is absent."""
        value = self.flags.get(name)
        return default if value is None else parse_duration(str(value))


class CliError(Exception):
    """A usage error, worded like talosctl's; `usage` asks for the blank line and usage text after it."""

    def __init__(self, message: str, command: tuple[str, ...] = (), usage: bool = True):
        super().__init__(message)
        self.message = message
        self.command = command
        self.usage = usage


class HelpRequested(Exception):  # noqa: N818 - control flow, not an error
    """`-h/--help`, or a command group run without a subcommand: cobra prints help and exits 0."""

    def __init__(self, command: tuple[str, ...]):
        super().__init__(" ".join(command))
        self.command = command


# ---------------------------------------------------------------- command tree


def _children() -> dict[str, list[str]]:
    children: dict[str, list[str]] = {}
    for path in COMMANDS:
        if not path:
            continue
        words = path.split(" ")
        for depth in range(len(words)):
            parent, child = " ".join(words[:depth]), words[depth]
            bucket = children.setdefault(parent, [])
            if child not in bucket:
                bucket.append(child)
    return children


CHILDREN = _children()


def flags_of(command: tuple[str, ...]) -> dict[str, tuple[str | None, str | None]]:
    """The flags a command accepts (an intermediate path missing from the table accepts only --help)."""
    return COMMANDS.get(" ".join(command), {"help": ("h", None)})


def is_group(command: tuple[str, ...]) -> bool:
    """Commands with subcommands are not runnable in talosctl: cobra prints their help."""
    return bool(CHILDREN.get(" ".join(command)))


def _takes_value(name: str, flags: dict[str, tuple[str | None, str | None]], short: bool) -> bool:
    """cobra's stripFlags: a flag is assumed to take a value unless it is a known boolean."""
    for long, (shorthand, kind) in flags.items():
        if (shorthand if short else long) == name:
            return kind not in BOOL_TYPES
    return True


def _command_words(argv: list[str], flags: dict[str, tuple[str | None, str | None]]) -> list[str]:
    """Non-flag words of argv, skipping the values of flags (cobra's stripFlags, quirks included)."""
    words: list[str] = []
    rest = list(argv)
    while rest:
        token = rest.pop(0)
        if token == "--":
            break
        long_with_value = (
            token.startswith("--") and "=" not in token and _takes_value(token[2:], flags, False)
        )
        short_with_value = (
            token.startswith("-")
            and not token.startswith("--")
            and "=" not in token
            and len(token) == 2
            and _takes_value(token[1:], flags, True)
        )
        if long_with_value or short_with_value:
            if len(rest) <= 1:
                break
            rest.pop(0)
            continue
        if token and not token.startswith("-"):
            words.append(token)
    return words


def find_command(argv: list[str]) -> tuple[tuple[str, ...], list[str]]:
    """Walk subcommands like cobra's Find: returns the command path and argv without the command words."""
    command: tuple[str, ...] = ()
    rest = list(argv)
    while True:
        words = _command_words(rest, flags_of(command))
        children = CHILDREN.get(" ".join(command), [])
        if not words or words[0] not in children:
            break
        rest.remove(words[0])
        command = (*command, words[0])
    if not command and CHILDREN.get(""):
        words = _command_words(rest, flags_of(command))
        if words:
            raise CliError(f'unknown command "{words[0]}" for "talosctl"{_suggest(words[0])}', command)
    return command, rest


def _levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _suggest(word: str) -> str:
    found = [
        c for c in CHILDREN.get("", []) if _levenshtein(word.lower(), c) <= 2 or c.startswith(word.lower())
    ]
    if not found:
        return ""
    return "\n\nDid you mean this?\n" + "".join(f"\t{name}\n" for name in found)


# ---------------------------------------------------------------- values


_GO_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Go's time.ParseDuration, in seconds: `1h30m`, `90s`, `0`, `-5m`."""
    body = text.lstrip("+-")
    sign = -1.0 if text.startswith("-") else 1.0
    if body == "0":
        return 0.0
    pos, total = 0, 0.0
    for match in _GO_DURATION.finditer(body):
        if match.start() != pos:
            break
        total += float(match[1]) * _UNITS[match[2]]
        pos = match.end()
    if not body or pos != len(body):
        raise ValueError(f'time: invalid duration "{text}"')
    return sign * total


_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def _convert(kind: str | None, raw: str) -> object:
    if kind in BOOL_TYPES:
        if raw in _TRUE:
            return True
        if raw in _FALSE:
            return False
        raise ValueError(f'strconv.ParseBool: parsing "{raw}": invalid syntax')
    if kind in LIST_TYPES:
        return [] if raw == "" else next(csv.reader([raw]))
    if kind in INT_TYPES:
        try:
            return int(raw, 0)
        except ValueError:
            raise ValueError(f'strconv.ParseInt: parsing "{raw}": invalid syntax') from None
    if kind == "float":
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f'strconv.ParseFloat: parsing "{raw}": invalid syntax') from None
    if kind == "duration":
        parse_duration(raw)
    return raw


def _store(values: dict[str, object], name: str, shorthand: str | None, kind: str | None, raw: str) -> None:
    label = f"-{shorthand}, --{name}" if shorthand else f"--{name}"
    try:
        value = _convert(kind, raw)
    except ValueError as exc:
        raise CliError(f'invalid argument "{raw}" for "{label}" flag: {exc}') from None
    if kind in LIST_TYPES:
        values[name] = [*values.get(name, []), *value]  # type: ignore[misc]
    elif kind in ARRAY_TYPES:
        values[name] = [*values.get(name, []), value]  # type: ignore[misc]
    else:
        values[name] = value


# ---------------------------------------------------------------- parsing


def _parse_flags(command: tuple[str, ...], argv: list[str]) -> tuple[dict[str, object], list[str]]:
    """pflag's interspersed parsing of one command's flags; returns (flags, positional args)."""
    table = flags_of(command)
    by_short = {short: name for name, (short, _) in table.items() if short}
    values: dict[str, object] = {}
    args: list[str] = []
    rest = list(argv)
    while rest:
        token = rest.pop(0)
        if len(token) < 2 or not token.startswith("-"):
            args.append(token)
            continue
        if token == "--":
            args.extend(rest)
            break
        if token.startswith("--"):
            body = token[2:]
            if not body or body[0] in "-=":
                raise CliError(f"bad flag syntax: {token}", command)
            name, has_value, value = body.partition("=")
            if name not in table:
                raise CliError(f"unknown flag: --{name}", command)
            shorthand, kind = table[name]
            if name == "help":
                raise HelpRequested(command)
            if has_value:
                _store(values, name, shorthand, kind, value)
            elif kind in BOOL_TYPES:
                _store(values, name, shorthand, kind, "true")
            elif rest:
                _store(values, name, shorthand, kind, rest.pop(0))
            else:
                raise CliError(f"flag needs an argument: {token}", command)
            continue
        shorthands = token[1:]
        while shorthands:
            char = shorthands[0]
            if char not in by_short:
                raise CliError(f"unknown shorthand flag: '{char}' in {token}", command)
            name = by_short[char]
            shorthand, kind = table[name]
            if name == "help":
                raise HelpRequested(command)
            if len(shorthands) > 2 and shorthands[1] == "=":
                _store(values, name, shorthand, kind, shorthands[2:])
                shorthands = ""
            elif kind in BOOL_TYPES:
                _store(values, name, shorthand, kind, "true")
                shorthands = shorthands[1:]
            elif len(shorthands) > 1:
                _store(values, name, shorthand, kind, shorthands[1:])
                shorthands = ""
            elif rest:
                _store(values, name, shorthand, kind, rest.pop(0))
                shorthands = ""
            else:
                raise CliError(f"flag needs an argument: '{char}' in {token}", command)
    return values, args


def parse(argv: Sequence[str]) -> Invocation:
    """Parse talosctl argv (without the program name). Raises CliError or HelpRequested."""
    raw = [str(a) for a in argv]
    command, rest = find_command(raw)
    flags, args = _parse_flags(command, rest)
    if not command or is_group(command):
        raise HelpRequested(command)
    return Invocation(command=command, flags=flags, args=args, argv=tuple(raw))


def usage(command: tuple[str, ...]) -> str:
    """A cobra-style usage block for a command (the Use line's argument names are not in the table)."""
    path = " ".join(("talosctl", *command))
    lines = ["Usage:"]
    children = CHILDREN.get(" ".join(command), [])
    lines.append(f"  {path} [command]" if children else f"  {path} [flags]")
    if children:
        lines += ["", "Available Commands:", *(f"  {child}" for child in children)]
    table = flags_of(command)
    if table:
        lines += ["", "Flags:"]
        for name, (short, kind) in table.items():
            prefix = f"-{short}, " if short else "    "
            kind_text = "" if kind in BOOL_TYPES else f" {kind}"
            lines.append(f"  {prefix}--{name}{kind_text}")
    if children:
        lines += ["", f'Use "{path} [command] --help" for more information about a command.']
    return "\n".join(lines) + "\n"


def check_args(inv: Invocation, exact: int | None = None, maximum: int | None = None) -> None:
    """cobra's ExactArgs / MaximumNArgs / NoArgs checks, with their messages."""
    count = len(inv.args)
    if exact is not None and count != exact:
        if exact == 0:
            raise CliError(f'unknown command "{inv.args[0]}" for "{inv.path}"', inv.command)
        raise CliError(f"accepts {exact} arg(s), received {count}", inv.command)
    if maximum is not None and count > maximum:
        raise CliError(f"accepts at most {maximum} arg(s), received {count}", inv.command)
