"""One cobra/pflag argv parser for the lab's fake talosctl, kubectl and helm, driven by each tool's command table."""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

BOOL_TYPES = (None, "true")  # no value needed: `--flag` alone means true; `--flag=false` is accepted
LIST_TYPES = ("strings", "ipSlice")  # comma-separated, repeatable (pflag StringSlice)
ARRAY_TYPES = ("stringArray",)  # repeatable, never split on commas (pflag StringArray)
INT_TYPES = ("int", "int32", "uint", "uint16")


@dataclass(frozen=True)
class Flag:
    """One flag as pflag defines it; its value type says whether it takes a value and may be repeated."""

    name: str  # the long name, without dashes
    short: str | None = None  # the one-letter shorthand
    kind: str | None = None  # the pflag value type ("string", "strings", "duration", …); None for a boolean
    persistent: bool = False  # inherited by every subcommand (cobra's persistent, or global, flags)

    @property
    def takes_value(self) -> bool:
        return self.kind not in BOOL_TYPES

    @property
    def repeatable(self) -> bool:
        return self.kind in LIST_TYPES or self.kind in ARRAY_TYPES

    @property
    def label(self) -> str:
        """How pflag names the flag in its messages: `-n, --nodes` or `--wait-timeout`."""
        return f"-{self.short}, --{self.name}" if self.short else f"--{self.name}"


HELP = Flag("help", "h")  # cobra adds it to every command


@dataclass(frozen=True)
class Table:
    """A tool's commands: path ("" is the root, "gen config") → the command's own flags.

    None instead of flags marks a real command the lab does not simulate: it is recognised (so the fake can say
    so), but its flags are not parsed.
    """

    program: str
    commands: Mapping[str, tuple[Flag, ...] | None]

    @functools.cached_property
    def children(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for path in self.commands:
            words = path.split(" ") if path else []
            for depth in range(len(words)):
                bucket = out.setdefault(" ".join(words[:depth]), [])
                if words[depth] not in bucket:
                    bucket.append(words[depth])
        return out

    def simulated(self, command: tuple[str, ...]) -> bool:
        return self.commands.get(" ".join(command), ()) is not None

    def is_group(self, command: tuple[str, ...]) -> bool:
        """Commands with subcommands are not runnable: cobra prints their help."""
        return bool(self.children.get(" ".join(command)))

    def flags_of(self, command: tuple[str, ...]) -> dict[str, Flag]:
        """The command's flags, the persistent flags of its parents and --help, by long name."""
        out = {HELP.name: HELP}
        for depth in range(len(command)):
            out |= {f.name: f for f in self.commands.get(" ".join(command[:depth])) or () if f.persistent}
        return out | {f.name: f for f in self.commands.get(" ".join(command)) or ()}


@dataclass(frozen=True)
class Invocation:
    """One parsed call: what a fake tool dispatches on.

    Contract (for every handler of the fakes, including `talos_node.handle(inv) -> int`):

    - `command`: the command path without the program, e.g. ("get",), ("gen", "config"), ("apply",).
      Only commands of the tool's table reach a handler.
    - `flags`: only the flags given on the command line, keyed by their long name without dashes
      ("nodes", "insecure", "output", "namespace", …), whatever spelling was used (`-n`, `--nodes=a,b`, `-i`).
      Values are typed:
        * boolean flags → bool (`--merge=false` → False, `-i` → True);
        * "strings"/"ipSlice" flags (`-n`, `-e`, `-f` of kubectl and helm, …) → list[str], comma-split and
          accumulated over repeats (`-n a,b -n c` → ["a", "b", "c"]);
        * "stringArray" flags (`--config-patch`, `-p`) → list[str], one item per occurrence, never split;
        * integer flags → int; "float" → float;
        * everything else (string, duration, enum-like) → str exactly as given; use `duration()` for seconds.
      `--help` never reaches a handler.
    - `args`: positional arguments in order; everything after `--` is positional.
    - `argv`: the raw argv (without the program name), for messages.
    """

    program: str
    command: tuple[str, ...]
    flags: dict[str, object]
    args: list[str]
    argv: tuple[str, ...] = field(default=())

    def get(self, name: str, default: object = None) -> object:
        return self.flags.get(name, default)

    def has(self, name: str) -> bool:
        return name in self.flags

    def string(self, name: str) -> str | None:
        """A flag's value as text; None when the flag is absent."""
        value = self.flags.get(name)
        return None if value is None else str(value)

    def strings(self, name: str, default: Sequence[str] = ()) -> list[str]:
        """A list flag ("strings", "ipSlice", "stringArray") as given; `default` when the flag is absent."""
        value = self.flags.get(name)
        if value is None:
            return list(default)
        if not isinstance(value, list):
            raise TypeError(f"--{name} is not a list flag")
        return [str(item) for item in value]

    @property
    def nodes(self) -> list[str]:
        return self.strings("nodes")

    @property
    def endpoints(self) -> list[str]:
        return self.strings("endpoints")

    @property
    def path(self) -> str:
        """`talosctl gen config`, as cobra names the command in its messages."""
        return " ".join((self.program, *self.command))

    def duration(self, name: str, default: float | None = None) -> float | None:
        """A Go duration flag (`20m`, `1h30m`, `90s`) in seconds; `default` when the flag is absent."""
        value = self.flags.get(name)
        return default if value is None else parse_duration(str(value))


class CliError(Exception):
    """A usage error in cobra's words; `command` is where it happened, `usage` asks for the usage text after it."""

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


# ---------------------------------------------------------------- commands


def _takes_value(token: str, flags: dict[str, Flag]) -> bool:
    """cobra's stripFlags: a flag is assumed to take a value unless it is a known boolean."""
    long = token.startswith("--")
    name = token[2:] if long else token[1:]
    for flag in flags.values():
        if (flag.name if long else flag.short) == name:
            return flag.takes_value
    return True


def _command_words(argv: list[str], flags: dict[str, Flag]) -> list[str]:
    """Non-flag words of argv, skipping the values of flags (cobra's stripFlags, quirks included)."""
    words: list[str] = []
    rest = list(argv)
    while rest:
        token = rest.pop(0)
        if token == "--":
            break
        short = not token.startswith("--") and len(token) == 2
        if token.startswith("-") and "=" not in token and (token.startswith("--") or short):
            if _takes_value(token, flags):
                if len(rest) <= 1:
                    break
                rest.pop(0)
            continue
        if token and not token.startswith("-"):
            words.append(token)
    return words


def find_command(table: Table, argv: list[str]) -> tuple[tuple[str, ...], list[str]]:
    """Walk subcommands like cobra's Find: the command path, and argv without the command words."""
    command: tuple[str, ...] = ()
    rest = list(argv)
    while table.simulated(command):
        words = _command_words(rest, table.flags_of(command))
        if not words or words[0] not in table.children.get(" ".join(command), []):
            break
        rest.remove(words[0])
        command = (*command, words[0])
    if not command and table.children.get(""):
        words = _command_words(rest, table.flags_of(command))
        if words:
            raise CliError(
                f'unknown command "{words[0]}" for "{table.program}"{_suggest(table, words[0])}', command
            )
    return command, rest


def _levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _suggest(table: Table, word: str) -> str:
    lowered = word.lower()
    found = [c for c in table.children.get("", []) if _levenshtein(lowered, c) <= 2 or c.startswith(lowered)]
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


def _store(values: dict[str, object], flag: Flag, raw: str) -> None:
    try:
        value = _convert(flag.kind, raw)
    except ValueError as exc:
        raise CliError(f'invalid argument "{raw}" for "{flag.label}" flag: {exc}') from None
    if not flag.repeatable:
        values[flag.name] = value
        return
    given = values.get(flag.name)
    items = list(given) if isinstance(given, list) else []
    # A list flag's comma-split items accumulate; an array flag's occurrences do, one item each.
    values[flag.name] = [*items, *value] if isinstance(value, list) else [*items, value]


# ---------------------------------------------------------------- parsing


def _long(token: str, rest: list[str], table: dict[str, Flag], values: dict[str, object]) -> None:
    body = token[2:]
    if not body or body[0] in "-=":
        raise CliError(f"bad flag syntax: {token}")
    name, has_value, value = body.partition("=")
    flag = table.get(name)
    if flag is None:
        raise CliError(f"unknown flag: --{name}")
    if flag.name == HELP.name:
        raise HelpRequested(())
    if has_value:
        _store(values, flag, value)
    elif not flag.takes_value:
        _store(values, flag, "true")
    elif rest:
        _store(values, flag, rest.pop(0))
    else:
        raise CliError(f"flag needs an argument: {token}")


def _shorthands(token: str, rest: list[str], table: dict[str, Flag], values: dict[str, object]) -> None:
    by_short = {f.short: f for f in table.values() if f.short}
    shorthands = token[1:]
    while shorthands:
        char = shorthands[0]
        flag = by_short.get(char)
        if flag is None:
            raise CliError(f"unknown shorthand flag: '{char}' in {token}")
        if flag.name == HELP.name:
            raise HelpRequested(())
        if len(shorthands) > 2 and shorthands[1] == "=":
            _store(values, flag, shorthands[2:])
            shorthands = ""
        elif not flag.takes_value:
            _store(values, flag, "true")
            shorthands = shorthands[1:]
        elif len(shorthands) > 1:
            _store(values, flag, shorthands[1:])
            shorthands = ""
        elif rest:
            _store(values, flag, rest.pop(0))
            shorthands = ""
        else:
            raise CliError(f"flag needs an argument: '{char}' in {token}")


def _parse_flags(
    table: Table, command: tuple[str, ...], argv: list[str]
) -> tuple[dict[str, object], list[str]]:
    """pflag's interspersed parsing of one command's flags; returns (flags, positional args)."""
    flags = table.flags_of(command)
    values: dict[str, object] = {}
    args: list[str] = []
    rest = list(argv)
    while rest:
        token = rest.pop(0)
        if len(token) < 2 or not token.startswith("-"):
            args.append(token)
        elif token == "--":
            args.extend(rest)
            break
        else:
            try:
                (_long if token.startswith("--") else _shorthands)(token, rest, flags, values)
            except CliError as exc:
                raise CliError(exc.message, command) from None
            except HelpRequested:
                raise HelpRequested(command) from None
    return values, args


def parse(table: Table, argv: Sequence[str]) -> Invocation:
    """Parse a tool's argv (without the program name). Raises CliError or HelpRequested.

    A command the lab does not simulate comes back with its argv unparsed in `args`.
    """
    raw = [str(a) for a in argv]
    command, rest = find_command(table, raw)
    if not table.simulated(command):
        return Invocation(table.program, command, {}, rest, tuple(raw))
    flags, args = _parse_flags(table, command, rest)
    if not command or table.is_group(command):
        raise HelpRequested(command)
    return Invocation(table.program, command, flags, args, tuple(raw))


def usage(table: Table, command: tuple[str, ...]) -> str:
    """A cobra-style usage block for a command (the Use line's argument names are not in the table)."""
    path = " ".join((table.program, *command))
    children = table.children.get(" ".join(command), [])
    lines = ["Usage:", f"  {path} [command]" if children else f"  {path} [flags]"]
    if children:
        lines += ["", "Available Commands:", *(f"  {child}" for child in children)]
    lines += ["", "Flags:"]
    for flag in sorted(table.flags_of(command).values(), key=lambda f: f.name):
        prefix = f"-{flag.short}, " if flag.short else "    "
        lines.append(f"  {prefix}--{flag.name}{f' {flag.kind}' if flag.takes_value else ''}")
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
