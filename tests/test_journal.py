"""The journal's on-disk format: journals written before statuses were typed still read and resume."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from skynet_tui import events, journal
from skynet_tui.journal import Outcome
from skynet_tui.plan import Plan, Step
from skynet_tui.workspace import Workspace
from tests.runner_helpers import run_plan

# Lines exactly as the runner wrote them before the statuses became an enum (a real run: `a` ran, `p` was
# skipped by its postcondition, `b` failed, then a second run was cancelled while `b` retried).
EARLIER_RUNS = """\
{"answers": "fp1", "event": "run", "pid": 12545, "plan": "t", "run": "244793759bd4", "step": "", "ts": 1796245500.979}
{"attempt": 1, "event": "start", "run": "244793759bd4", "step": "a", "ts": 1796245500.991}
{"duration": 0.0, "event": "end", "reason": "already done: there", "run": "244793759bd4", "status": "skipped", "step": "p", "ts": 1796245500.991}
{"duration": 0.256, "event": "end", "queued": 0.0, "reason": "", "run": "244793759bd4", "status": "ok", "step": "a", "ts": 1796245501.247}
{"attempt": 1, "event": "start", "run": "244793759bd4", "step": "b", "ts": 1796245501.251}
{"duration": 0.001, "event": "end", "queued": 0.0, "reason": "broken (log: logs/b.log)", "run": "244793759bd4", "status": "failed", "step": "b", "ts": 1796245501.252}
{"event": "finish", "run": "244793759bd4", "status": "failed", "step": "", "ts": 1796245501.255}
{"answers": "fp1", "event": "run", "pid": 12601, "plan": "t", "run": "5f0c2a9e11d7", "step": "", "ts": 1796245600.101}
{"attempt": 1, "event": "start", "run": "5f0c2a9e11d7", "step": "b", "ts": 1796245600.12}
{"attempt": 2, "event": "retry", "reason": "not ready yet", "run": "5f0c2a9e11d7", "step": "b", "ts": 1796245600.5}
{"duration": 0.9, "event": "end", "queued": 0.0, "reason": "cancelled", "run": "5f0c2a9e11d7", "status": "cancelled", "step": "b", "ts": 1796245601.0}
{"event": "finish", "run": "5f0c2a9e11d7", "status": "cancelled", "step": "", "ts": 1796245601.01}
"""


def test_a_journal_in_the_earlier_format_reads_as_typed_records(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text(EARLIER_RUNS)
    records = journal.read(path)
    assert len(records) == 12
    assert [r.status for r in records if r.event == "end"] == [
        Outcome.SKIPPED,
        Outcome.OK,
        Outcome.FAILED,
        Outcome.CANCELLED,
    ]
    assert [r.status for r in records if r.event == "finish"] == [Outcome.FAILED, Outcome.CANCELLED]
    assert all(r.status is None for r in records if r.event in ("run", "start", "retry"))
    assert records[0].answers == "fp1" and records[9].attempt == 2 and records[9].reason == "not ready yet"
    assert set(journal.finished(path, "fp1")) == {"a", "p"}
    assert journal.finished(path, "other answers") == {}


def test_a_journal_in_the_earlier_format_resumes(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path / "ws")
    ws.ensure()
    ws.journal.write_text(EARLIER_RUNS)
    calls: list[str] = []
    steps = [
        Step("a", "a", lambda ctx: calls.append("a")),
        Step("p", "p", lambda ctx: calls.append("p"), postcondition=lambda ctx: False),
        Step("b", "b", lambda ctx: calls.append("b"), deps=("a",)),
    ]
    assert Plan("t", steps, answers="fp1").finished_in_journal(ws) == {
        "a": "finished in an earlier run",
        "p": "already done: there",
    }
    ok, rec = run_plan(ws, steps, plan_kwargs={"answers": "fp1"})
    assert ok and calls == ["b"]
    assert {e.step_id: e.reason for e in rec.of(events.StepSkipped)} == {
        "a": "finished in an earlier run",
        "p": "already done: there",
    }


def test_new_records_keep_the_earlier_keys_and_strings(tmp_path: Path) -> None:
    earlier = [json.loads(line) for line in EARLIER_RUNS.splitlines()]
    ws = Workspace.at(tmp_path / "ws")
    ws.ensure()
    steps = [
        Step("a", "a", [sys.executable, "-c", "pass"]),
        Step("b", "b", [sys.executable, "-c", "exit(3)"]),
    ]
    run_plan(ws, steps, plan_kwargs={"answers": "fp1"})
    written = [json.loads(line) for line in ws.journal.read_text().splitlines()]

    def shape(data: dict) -> tuple:
        return data["event"], tuple(sorted(data)), data.get("status")

    assert {shape(d) for d in written} <= {shape(d) for d in earlier}
    assert {d["status"] for d in written if "status" in d} == {"ok", "failed"}
    assert all(type(d["status"]) is str for d in written if "status" in d)
