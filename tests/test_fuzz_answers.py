"""Fuzzing the answers file: 500 seeded mutations of the example through `skynet generate --patches-only`.

Never a traceback, never an exit code but 0 (written) or 2 (refused), never a file outside the workspace.
The mutations run through the CLI's entry point in one child limited to 300 MB of address space; a sample of
them also as `python -m skynet_tui` processes of their own, which must end the same way.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.hostile_cases import EXAMPLE, example, run, run_batch

pytestmark = pytest.mark.usefixtures("git")

SEED = 9
MUTATIONS = 500
SAMPLED = 3  # of them, also run as a process of their own

HOSTILE_VALUES: list[Any] = [
    "", " ", "x" * 3000, "cp-1\n", "eth0\r", "\u202ecp-1", "cp\u200b1", "../../etc", "/etc/passwd",
    "-oProxyCommand=id", "a..b", "main.lock", "feature/", "$(id)", "`id`", "{{ .Values }}", "%s%n",
    "https://u:p@git.example.com/x.git", "ghp_" + "a" * 36, "git@github.com:-x/y.git", "file:///etc",
    "999.1.1.1", "0.0.0.0/0", "192.168.10.0/33", "::1", "talos", "secrets", "cluster.yaml", ".git",
    "gitops/../secrets", "🙂", "NaN", 0, -1, 2**70, 1e308, True, None, [], {}, [None], {"x": 1},
]  # fmt: skip
TOKENS = [
    "\n", ": ", "- ", "&a ", "*a", "<<: ", "!!python/object/apply:os.system ", "{", "}", "[", "]", "#",
    "'", '"', "\t", "\x00", "\u202e", "\ufeff", "---\n", "%YAML 1.1\n", "? ", "|", ">", "~", "9" * 60,
    ".inf", "@", "..", "/", "\\", "\x85", "\r\n",
]  # fmt: skip


def _leaves(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, data
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _leaves(value, (*path, index))


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        data = data[key]
    return data


def _data_mutation(rng: random.Random, data: dict[str, Any]) -> None:
    paths = [path for path, _ in _leaves(data) if path]
    path = rng.choice(paths)
    parent, key = _parent(data, path), path[-1]
    kind = rng.randrange(5)
    if kind == 0:
        parent[key] = copy.deepcopy(rng.choice(HOSTILE_VALUES))
    elif kind == 1:
        del parent[key]
    elif kind == 2 and isinstance(parent[key], dict):
        parent[key][rng.choice(["extra", "Hostname", "ip ", "spec", "<<"])] = rng.choice(HOSTILE_VALUES)
    elif kind == 3 and isinstance(parent[key], list) and parent[key]:
        parent[key].extend(copy.deepcopy(parent[key][:1]) * rng.randrange(1, 3))  # duplicates
    else:
        parent[key] = rng.choice([[parent[key]], {"value": parent[key]}, str(parent[key])])


def _text_mutation(rng: random.Random, text: str) -> str:
    lines = text.splitlines(keepends=True)
    kind = rng.randrange(6)
    at = rng.randrange(len(lines))
    if kind == 0:
        position = rng.randrange(len(text) + 1)
        return text[:position] + rng.choice(TOKENS) + text[position:]
    if kind == 1:
        del lines[at]
    elif kind == 2:
        lines.insert(at, lines[at])  # a duplicate key, mostly
    elif kind == 3:
        other = rng.randrange(len(lines))
        lines[at], lines[other] = lines[other], lines[at]
    elif kind == 4:
        return text[: rng.randrange(len(text))]
    else:
        lines[at] = rng.choice(["", " ", "  ", "\t"]) + lines[at].lstrip(" ") * rng.randrange(1, 3)
    return "".join(lines)


def mutations(seed: int, count: int) -> Iterator[str]:
    """`count` mutated answers files: one to three edits of the example, of its data or of its text."""
    rng = random.Random(seed)
    base = EXAMPLE.read_text(encoding="utf-8")
    for _ in range(count):
        edits: list[Callable[[str], str]] = []
        for _ in range(rng.randrange(1, 4)):
            if rng.random() < 0.5:

                def by_data(text: str) -> str:
                    try:
                        data = yaml.safe_load(text)
                    except yaml.YAMLError:
                        data = None
                    if not isinstance(data, dict):
                        data = example()
                    _data_mutation(rng, data)
                    return yaml.safe_dump(data, sort_keys=False, allow_unicode=rng.random() < 0.5)

                edits.append(by_data)
            else:
                edits.append(lambda text: _text_mutation(rng, text))
        text = base
        for edit in edits:
            text = edit(text)
        yield text


def test_mutated_answers_are_written_or_refused_never_anything_else(tmp_path: Path) -> None:
    box = tmp_path / "box"  # everything the runs may touch is in here: answers files and the workspace
    configs = box / "answers"
    configs.mkdir(parents=True)
    argvs = []
    for index, text in enumerate(mutations(SEED, MUTATIONS)):
        config = configs / f"{index:03d}.yaml"
        config.write_bytes(text.encode("utf-8", "surrogatepass"))
        argvs.append(["generate", "--config", str(config), "--workspace", str(box / "ws"), "--patches-only"])
    outcomes = run_batch(argvs, box, timeout=600)
    codes = [outcome.code for outcome in outcomes]
    for argv, outcome in zip(argvs, outcomes, strict=True):
        where = f"{Path(argv[2]).name}: exit {outcome.code}\n{outcome.stderr[-3000:]}"
        assert outcome.code in (0, 2), where
        assert "Traceback" not in outcome.stderr, where
    assert codes.count(2) > MUTATIONS // 2 and codes.count(0) > 10, (codes.count(0), codes.count(2))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["box"]
    assert sorted(p.name for p in box.iterdir()) == ["answers", "ws"]
    assert len(list(configs.iterdir())) == MUTATIONS

    # A sample as processes of their own (`python -m skynet_tui`): the same outcome.
    rng = random.Random(SEED)
    for index in rng.sample(range(MUTATIONS), SAMPLED):
        alone = run(argvs[index], box)
        assert (alone.code, "Traceback" in alone.stderr) == (codes[index], False), alone.stderr[-2000:]
