"""The step runner: streaming, redaction, timeouts, cancel without orphans, retries, concurrency, journal, resume."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from skynet_tui import events, journal
from skynet_tui.plan import Plan, Step, StepError, Transient
from skynet_tui.runner import Runner
from skynet_tui.workspace import Workspace
from tests.runner_helpers import (
    Recorder,
    children_of,
    is_command,
    live_in_group,
    lock_held_by_child,
    process_state,
    py,
    run_plan,
)

SECRET = "s3cr3t-Value-9f8e7d6c5b4a"
TOKEN = "abcdef.0123456789abcdef"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace.at(tmp_path / "ws")
    workspace.ensure()
    return workspace


def starts(ws: Workspace, step: str) -> int:
    return sum(1 for r in journal.read(ws.journal) if r.event == "start" and r.step == step)


def test_lines_stream_while_the_child_runs(ws: Workspace, tmp_path: Path) -> None:
    # The child prints one line, then waits for a file the test creates only after seeing that line:
    # without streaming this would hang until the step timeout.
    gate = tmp_path / "gate"

    def hook(event: events.Event) -> None:
        if isinstance(event, events.StepLine) and event.text == "first":  # (not its `$ …` line)
            gate.touch()

    code = f"import os,sys,time\nprint('first')\nwhile not os.path.exists({str(gate)!r}): time.sleep(0.01)\n"
    code += "print('second', file=sys.stderr)"
    ok, rec = run_plan(ws, [Step("s", "stream", py(code), timeout=10)], recorder=Recorder(hook))
    assert ok
    lines = rec.of(events.StepLine, "s")
    assert [(e.text, e.stream) for e in lines] == [("first", "out"), ("second", "err")]


def test_secrets_never_leave_the_runner(ws: Workspace) -> None:
    ws.write_secret("secrets.yaml", f"cluster:\n  secret: {SECRET}\n")
    pem = "-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7-----END PRIVATE KEY-----"
    b64 = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ego="
    code = (
        f"import os,sys\nprint('value {SECRET} here')\nprint('token {TOKEN}', file=sys.stderr)\n"
        f"print({pem!r})\nprint('key {b64}')\nprint('env', os.environ['MY_TOKEN'])\n"
        f"raise SystemExit('failed with {SECRET}')"
    )
    env = {**os.environ, "MY_TOKEN": "env-token-value-123456"}
    ok, rec = run_plan(
        ws, [Step("leak", "leak", py(code))], env=env, plan_kwargs={"secret_env": ("MY_TOKEN",)}
    )
    assert not ok
    texts = rec.lines("leak") + [rec.of(events.StepFailed)[0].error] + rec.commands("leak")
    assert len(rec.lines("leak")) == 6 and len(rec.commands("leak")) == 1  # the command line holds them too
    written = "\n".join(p.read_text() for p in ws.logs_dir.glob("*.log")) + ws.journal.read_text()
    for value in (SECRET, TOKEN, "MIIEvQIBADANBgkqhkiG9w0B", b64[:40], "env-token-value-123456"):
        assert all(value not in text for text in texts), value
        assert value not in written, value
    assert "«redacted»" in texts[0]


def test_every_command_is_one_dollar_line_relative_to_the_workspace(ws: Workspace) -> None:
    def polls(ctx) -> None:
        for _ in range(3):  # a wait polls the same command: shown once, logged every time
            ctx.check(
                ctx.run(["true", str(ctx.ws.secrets_dir / "talosconfig"), f"@{ctx.ws.root}/talos/a b.yaml"])
            )

    ok, rec = run_plan(ws, [Step("poll", "polls", polls), Step("argv", "argv", ["true", str(ws.root / "x")])])
    assert ok
    assert rec.commands("poll") == ["$ true secrets/talosconfig '@talos/a b.yaml'"]
    assert rec.commands("argv") == ["$ true x"]
    log = (ws.logs_dir / "poll.log").read_text()
    assert log.count("$ true secrets/talosconfig '@talos/a b.yaml'") == 3


def test_secrets_written_by_a_step_are_redacted_in_later_steps(ws: Workspace) -> None:
    def writes(ctx) -> None:
        ctx.ws.write_secret("kubeconfig", f"users:\n- user:\n    password: {SECRET}\n")

    steps = [
        Step("gen", "writes a secret", writes, learns_secrets=True),
        Step("show", "prints it", py(f"print('x {SECRET} y')"), deps=("gen",)),
    ]
    ok, rec = run_plan(ws, steps)
    assert ok and rec.lines("show") == ["x «redacted» y"]


def test_timeout_ends_the_step_and_its_children(ws: Workspace, tmp_path: Path) -> None:
    # The child notes the SIGTERM that ends it, so the test knows the timeout did, not its own 60 s sleep.
    # How soon after the timeout the step ends is measured by bench/process_control.py.
    terminated = tmp_path / "terminated"
    code = textwrap.dedent(f"""
        import pathlib, signal, subprocess, sys, time
        def ended(*_): pathlib.Path({str(terminated)!r}).touch(); sys.exit(1)
        signal.signal(signal.SIGTERM, ended)
        p = subprocess.Popen(['sleep', '60'])
        print(p.pid)
        time.sleep(60)
    """)
    ok, rec = run_plan(ws, [Step("slow", "slow", py(code), timeout=1.0)])
    assert not ok and terminated.exists()
    failure = rec.of(events.StepFailed, "slow")[0]
    assert "timed out" in failure.error
    grandchild = int(rec.lines("slow")[0])
    assert process_state(grandchild) in (None, "Z")


def test_cancel_terminates_every_child_process_group(ws: Workspace) -> None:
    # Two parallel steps, each a child with its own grandchild; cancel must leave no live process behind.
    code = (
        "import os,subprocess,time\np=subprocess.Popen(['sleep','300'])\n"
        "print(os.getpid(), p.pid, flush=True)\ntime.sleep(300)"
    )
    steps = [Step(f"s{i}", f"sleeper {i}", py(code), timeout=60) for i in range(2)]
    steps.append(Step("after", "never starts", py("print(1)"), deps=("s0", "s1")))
    rec = Recorder()
    runner = Runner(Plan("t", steps), ws, rec, retry_delay=0.05)
    result: list[bool] = []
    thread = threading.Thread(target=lambda: result.append(runner.run()))
    thread.start()
    for step in ("s0", "s1"):
        rec.wait_for(
            lambda e, s=step: isinstance(e, events.StepLine) and e.step_id == s and not is_command(e)
        )
    pids = [int(p) for step in ("s0", "s1") for p in rec.lines(step)[0].split()]
    assert all(process_state(p) not in (None, "Z") for p in pids)
    runner.cancel()
    thread.join(60)  # a bound against a hang only: bench/process_control.py measures the cancel
    assert not thread.is_alive() and result == [False]
    assert rec.finished.cancelled and not rec.finished.ok
    assert {e.step_id for e in rec.of(events.StepCancelled)} == {"s0", "s1"} and not rec.of(events.StepFailed)
    assert not rec.of(events.StepStarted, "after")
    for pid in pids:
        assert process_state(pid) in (None, "Z"), f"{pid} outlived the cancel"
    children = [pids[0], pids[2]]
    for pid in children:  # our own children are reaped, not left as zombies
        assert process_state(pid) is None
        assert not live_in_group(pid)
    assert not [p for p in children_of(os.getpid()) if process_state(p) not in (None, "Z")]
    records = journal.read(ws.journal)
    assert {r.status for r in records if r.event == "end"} == {"cancelled"}


def test_cancel_during_retry_wait_is_prompt(ws: Workspace) -> None:
    rec = Recorder()
    step = Step(
        "r", "retrying", py("raise SystemExit('not ready yet')"), transient=("not ready",), attempts=0
    )
    runner = Runner(Plan("t", [step]), ws, rec, retry_delay=300)
    thread = threading.Thread(target=runner.run)
    thread.start()
    rec.wait_for(lambda e: isinstance(e, events.StepRetrying))
    runner.cancel()
    thread.join(60)  # well inside the 300 s wait: the cancel ended it (bench/process_control.py times it)
    assert not thread.is_alive() and rec.finished.cancelled


def test_transient_errors_are_noise_and_retried(ws: Workspace, tmp_path: Path) -> None:
    counter = tmp_path / "count"
    code = textwrap.dedent(f"""
        import pathlib, sys
        c = pathlib.Path({str(counter)!r}); n = int(c.read_text()) if c.exists() else 0; c.write_text(str(n + 1))
        if n < 3:
            print("rpc error: code = FailedPrecondition desc = bootstrap is not available yet", file=sys.stderr)
            sys.exit(1)
        print("done")
    """)
    step = Step("boot", "bootstrap", py(code), transient=("bootstrap is not available yet",), attempts=6)
    ok, rec = run_plan(ws, [step])
    assert ok
    retries = rec.of(events.StepRetrying, "boot")
    assert [r.attempt for r in retries] == [2, 3, 4] and all(r.max_attempts == 6 for r in retries)
    assert all(r.delay == 0.05 and "not available yet" in r.reason for r in retries)
    lines = rec.of(events.StepLine, "boot")
    assert [line.noise for line in lines] == [True, True, True, False]
    assert starts(ws, "boot") == 1 and len(rec.of(events.StepStarted)) == 1


def test_retries_give_up_with_a_clear_message(ws: Workspace) -> None:
    step = Step(
        "n",
        "reach node",
        py("raise SystemExit('dial tcp 10.0.0.1:50000: connect: connection refused')"),
        transient=("connection refused",),
        attempts=3,
        hint="is the node booted into maintenance mode?",
    )
    ok, rec = run_plan(ws, [step])
    assert not ok
    error = rec.of(events.StepFailed, "n")[0].error
    assert "gave up after 3 attempt(s)" in error and "connection refused" in error
    assert "maintenance mode" in error and "logs/n.log" in error
    assert rec.finished.support_bundle is None


def test_non_transient_failure_is_not_retried(ws: Workspace) -> None:
    step = Step(
        "a",
        "apply",
        py("raise SystemExit('error applying new configuration: bad')"),
        transient=("refused",),
        attempts=5,
    )
    ok, rec = run_plan(ws, [step])
    assert not ok and not rec.of(events.StepRetrying)
    assert "exited with code 1" in rec.of(events.StepFailed)[0].error
    assert "error applying new configuration" in rec.of(events.StepFailed)[0].error


def test_done_when_output_counts_as_success(ws: Workspace) -> None:
    code = "raise SystemExit('rpc error: code = AlreadyExists desc = etcd data directory is not empty')"
    ok, rec = run_plan(ws, [Step("b", "bootstrap", py(code), done_when=("AlreadyExists",))])
    assert ok and any("already done" in line for line in rec.lines("b"))


def test_accept_may_ask_for_another_try(ws: Workspace) -> None:
    seen = []

    def accept(result) -> None:
        seen.append(result.stdout)
        if len(seen) < 2:
            raise Transient("stage installing")

    ok, rec = run_plan(ws, [Step("w", "wait", py("print('{}')"), accept=accept, attempts=0, timeout=10)])
    assert ok and len(seen) == 2 and rec.of(events.StepRetrying)[0].reason == "stage installing"


def test_callable_actions_and_their_errors(ws: Workspace) -> None:
    def boom(ctx) -> None:
        raise KeyError(SECRET)

    ws.write_secret("s.yaml", f"k: {SECRET}\n")

    def fails(ctx) -> None:
        raise StepError("Argo CD did not become ready")

    ok, rec = run_plan(ws, [Step("x", "boom", boom), Step("y", "fails", fails)], max_parallel=2)
    assert not ok
    errors = {e.step_id: e.error for e in rec.of(events.StepFailed)}
    assert errors["x"].startswith("KeyError") and SECRET not in errors["x"]
    assert errors["y"].startswith("Argo CD did not become ready")
    assert (
        "Traceback" in (ws.logs_dir / "x.log").read_text()
        and SECRET not in (ws.logs_dir / "x.log").read_text()
    )


def test_missing_tool_names_the_install(ws: Workspace) -> None:
    ok, rec = run_plan(ws, [Step("t", "tool", ["no-such-tool-skynet", "version"])])
    assert not ok and "no-such-tool-skynet is not on PATH" in rec.of(events.StepFailed)[0].error


PEAK = """
import glob, os, sys, time
folder, me = sys.argv[1], os.path.join(sys.argv[1], sys.argv[2] + ".running")
open(me, "w").close()
deadline = time.time() + 0.5
while len(glob.glob(folder + "/*.running")) < 2 and time.time() < deadline:
    time.sleep(0.01)
peak = len(glob.glob(folder + "/*.running"))
time.sleep(0.1)
print(max(peak, len(glob.glob(folder + "/*.running"))))
os.remove(me)
"""


def test_concurrency_limit_bounds_child_processes(ws: Workspace, tmp_path: Path) -> None:
    steps = [Step(f"s{i}", f"s{i}", [*py(PEAK), str(tmp_path), f"s{i}"]) for i in range(6)]
    ok, rec = run_plan(ws, steps, max_parallel=2)
    peaks = [int(rec.lines(f"s{i}")[0]) for i in range(6)]
    assert ok and max(peaks) == 2, peaks


def test_waiting_steps_hold_no_process_slot(ws: Workspace) -> None:
    barrier = threading.Barrier(5, timeout=5)  # all five must wait at once, with one process slot
    steps = [Step(f"w{i}", f"wait {i}", lambda ctx: barrier.wait()) for i in range(5)]
    ok, _ = run_plan(ws, steps, max_parallel=1)
    assert ok


def test_dependencies_order_and_failure_blocks_dependents(ws: Workspace) -> None:
    order: list[str] = []

    def rec_step(name: str, fail: bool = False):
        def action(ctx) -> None:
            order.append(name)
            if fail:
                raise StepError(f"{name} broke")

        return action

    steps = [
        Step("c", "c", rec_step("c"), deps=("b",)),
        Step("a", "a", rec_step("a")),
        Step("b", "b", rec_step("b", fail=True), deps=("a",)),
    ]
    ok, rec = run_plan(ws, steps)
    assert not ok and order == ["a", "b"]
    assert not rec.of(events.StepStarted, "c")
    assert rec.finished.summary.startswith("2 step(s) not done")


def test_plan_rejects_cycles_and_unknown_deps() -> None:
    with pytest.raises(ValueError, match="cycle"):
        Plan("p", [Step("a", "a", ["true"], deps=("b",)), Step("b", "b", ["true"], deps=("a",))])
    with pytest.raises(ValueError, match="unknown"):
        Plan("p", [Step("a", "a", ["true"], deps=("zz",))])
    with pytest.raises(ValueError, match="duplicate"):
        Plan("p", [Step("a", "a", ["true"]), Step("a", "b", ["true"])])


def test_rerun_resumes_and_postconditions_skip(ws: Workspace, tmp_path: Path) -> None:
    flag, calls = tmp_path / "fixed", []

    def second(ctx) -> None:
        calls.append("b")
        if not flag.exists():
            raise StepError("b is broken")

    def probe(ctx) -> bool:
        calls.append("probe")
        return True

    steps = [
        Step("a", "a", py("print('a ran')")),
        Step("b", "b", second, deps=("a",)),
        Step("c", "c", lambda ctx: calls.append("c"), deps=("b",)),
        Step("d", "d", lambda ctx: calls.append("d"), postcondition=probe, postcondition_text="d is there"),
    ]
    ok, rec = run_plan(ws, steps)
    assert not ok and sorted(calls) == ["b", "probe"]
    assert Plan("t", steps).finished_in_journal(ws) == {
        "a": "finished in an earlier run",
        "d": "nothing to do: d is there",
    }

    flag.touch()
    calls.clear()
    ok, rec = run_plan(ws, steps)
    assert ok and calls == ["b", "c"]
    skipped = {e.step_id: e.reason for e in rec.of(events.StepSkipped)}
    assert skipped == {"a": "finished in an earlier run", "d": "nothing to do: d is there"}
    assert starts(ws, "a") == 1 and starts(ws, "b") == 2 and starts(ws, "d") == 0


def test_steps_finished_for_other_answers_run_again(ws: Workspace) -> None:
    calls: list[str] = []
    steps = [Step("a", "a", lambda ctx: calls.append("a"))]
    ok, _ = run_plan(ws, steps, plan_kwargs={"answers": "first"})
    assert ok and calls == ["a"]
    assert Plan("t", steps, answers="first").finished_in_journal(ws) == {"a": "finished in an earlier run"}
    assert Plan("t", steps, answers="second").finished_in_journal(ws) == {}
    ok, _ = run_plan(ws, steps, plan_kwargs={"answers": "second"})
    assert ok and calls == ["a", "a"]


def test_journal_is_fsynced_json_lines_and_survives_a_torn_line(ws: Workspace) -> None:
    ws.journal.write_text('{"event": "end", "step": "x", "status": "ok", "ts": 1, "run": "r"}\n{"event": "st')
    ok, _ = run_plan(ws, [Step("a", "a", py("print(1)"))])
    assert ok
    lines = ws.journal.read_text().splitlines()
    parsed = [json.loads(line) for line in lines if line.startswith("{") and line.endswith("}")]
    assert [p["event"] for p in parsed] == ["end", "run", "start", "end", "finish"]
    assert set(journal.finished(ws.journal)) == {"x", "a"}


def test_a_killed_runner_resumes_and_reruns_only_the_unfinished_step(ws: Workspace, tmp_path: Path) -> None:
    script = tmp_path / "plan.py"
    script.write_text(
        textwrap.dedent(f"""
        import sys
        from skynet_tui.plan import Plan, Step
        from skynet_tui.runner import Runner
        from skynet_tui.workspace import Workspace
        py = lambda code: [sys.executable, "-u", "-c", code]
        hang = "import os,time\\nif not os.path.exists({str(tmp_path / "go")!r}): print('hanging', flush=True); time.sleep(60)"
        steps = [Step("a", "a", py("print('a')")), Step("b", "b", py(hang), deps=("a",)),
                 Step("c", "c", py("print('c')"), deps=("b",))]
        sys.exit(0 if Runner(Plan("k", steps), Workspace.at({str(ws.root)!r}), lambda e: print(e, flush=True)).run() else 1)
    """)
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.Popen([sys.executable, "-u", str(script)], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    for line in proc.stdout:
        if "hanging" in line:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert journal.finished(ws.journal).keys() == {"a"}
    (tmp_path / "go").touch()
    result = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert starts(ws, "a") == 1 and starts(ws, "b") == 2 and starts(ws, "c") == 1


def test_a_step_an_earlier_run_died_in_is_resumed_first(ws: Workspace) -> None:
    """The journal of a killed run holds a start of "b" without an end: the next run calls b's resume hook
    before its action, and a hook that finds the work done ends the step without running the action."""
    calls: list[str] = []

    def resume(ctx) -> bool:
        calls.append(f"resume {ctx.step.id}")
        ctx.line("the earlier run's work is there")
        return True

    def action(ctx) -> None:
        calls.append(f"action {ctx.step.id}")

    steps = [Step("a", "a", action, resume=resume), Step("b", "b", action, resume=resume, deps=("a",))]
    killed = journal.Journal(ws.journal)  # what a run killed inside "b" leaves
    killed.run("test", "")
    killed.start("a", 1)
    killed.end("a", journal.Outcome.FAILED, duration=0.1, reason="boom")
    killed.start("b", 1)
    assert journal.interrupted(ws.journal) == {"b"}

    ok, rec = run_plan(ws, steps)
    assert ok and calls == ["action a", "resume b"]
    assert "the earlier run's work is there" in rec.lines("b")
    assert journal.interrupted(ws.journal) == set()
    calls.clear()
    ok, _ = run_plan(ws, [Step("c", "c", action, resume=resume)])
    assert ok and calls == ["action c"]  # nothing was interrupted: no resume


def test_a_resume_that_finds_the_work_undone_runs_the_action(ws: Workspace) -> None:
    killed = journal.Journal(ws.journal)
    killed.run("test", "")
    killed.start("a", 1)
    ok, rec = run_plan(ws, [Step("a", "a", py("print('applied')"), resume=lambda ctx: False)])
    assert ok and "applied" in rec.lines("a")


def test_a_timeout_reports_the_whole_wait_of_the_step(ws: Workspace) -> None:
    """A step that retried until its deadline says how long it waited in all, not the last try's share."""
    step = Step(
        "n",
        "reach node",
        py("import time; time.sleep(0.2); raise SystemExit('connection refused')"),
        transient=("connection refused",),
        attempts=0,
        timeout=1.0,
        retry_delay=0.2,
    )
    ok, rec = run_plan(ws, [step], retry_delay=0.2)
    assert not ok
    error = rec.of(events.StepFailed, "n")[0].error
    found = re.search(r"timed out.* after (\d+)s and (\d+) attempt\(s\)", error)
    assert found, error
    assert int(found[1]) >= 1 and int(found[2]) >= 2  # the whole second, over several tries

    slow = Step("s", "slow child", py("import time; time.sleep(30)"), timeout=1.0)
    ok, rec = run_plan(ws, [slow])
    error = rec.of(events.StepFailed, "s")[0].error
    assert "timed out; the step gave up after" in error and "1 attempt(s)" in error


def test_a_locked_workspace_is_reported(ws: Workspace) -> None:
    with lock_held_by_child(ws.lock_file) as holder:
        ok, rec = run_plan(ws, [Step("a", "a", py("print(1)"))])
    assert not ok and f"in use by another skynet (PID {holder.pid}" in rec.finished.summary


def test_failure_hook_builds_a_bundle(ws: Workspace, tmp_path: Path) -> None:
    def bundle(workspace, env, redactor) -> Path:
        path = tmp_path / "bundle.tar.gz"
        path.write_text(redactor(f"secret {SECRET}"))
        return path

    ws.write_secret("s.yaml", f"k: {SECRET}\n")
    ok, rec = run_plan(ws, [Step("a", "a", py("raise SystemExit(3)"))], plan_kwargs={"on_failure": bundle})
    assert not ok and rec.finished.support_bundle == str(tmp_path / "bundle.tar.gz")
    assert SECRET not in (tmp_path / "bundle.tar.gz").read_text()


def test_a_secret_in_the_error_of_the_step_that_wrote_it_is_redacted(ws: Workspace) -> None:
    def writes_then_fails(ctx) -> None:
        ctx.ws.write_secret("fresh.yaml", f"token: {SECRET}\n")
        raise StepError(f"could not use {SECRET}")

    ok, rec = run_plan(ws, [Step("g", "writes", writes_then_fails, learns_secrets=True)])
    assert not ok and rec.of(events.StepFailed)[0].error.startswith("could not use «redacted»")


def test_failure_messages_name_the_tool_and_its_verb(ws: Workspace) -> None:
    argv = [*py("raise SystemExit(4)"), "--kubeconfig", "/x/kubeconfig", "apply"]
    ok, rec = run_plan(ws, [Step("k", "k", argv)])
    assert not ok and rec.of(events.StepFailed)[0].error.startswith(
        f"{Path(sys.executable).name} apply exited"
    )
