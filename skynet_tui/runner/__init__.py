"""The step runner: runs a Plan through the launcher with streaming, redaction, retries, journal and events."""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from skynet_tui import events
from skynet_tui import journal as journal_mod
from skynet_tui.journal import DONE_STATUSES, Outcome
from skynet_tui.plan import Plan, Step, StepError, Transient
from skynet_tui.runner.context import Context
from skynet_tui.runner.services import Cancelled, ProcessSlots, Secrets, Services, StepLogs
from skynet_tui.workspace import Workspace, WorkspaceError

__all__ = ["Cancelled", "Context", "Outcome", "Runner", "Services"]


class Runner:
    """Runs a plan: dependencies, a concurrency limit, retries, per-step timeouts, cancel, journal, events.

    `run()` blocks and returns True on success; events are emitted from worker threads (one at a time).
    Calling `run()` again after a failure resumes: finished steps are skipped.
    """

    def __init__(
        self,
        plan: Plan,
        ws: Workspace,
        on_event: Callable[[events.Event], None],
        *,
        env: dict[str, str] | None = None,
        max_parallel: int = 8,
        retry_delay: float | None = None,
    ):
        self.plan = plan
        self.ws = ws
        self.env = dict(env if env is not None else os.environ)
        self.retry_delay = retry_delay  # overrides every step's delay (tests)
        self._on_event = on_event
        self._emit_lock = threading.Lock()
        cancel = threading.Event()
        self.services = Services(
            ws=ws,
            env=self.env,
            cancel=cancel,
            secrets=Secrets(ws, self.env, plan.secret_env, plan.secret_files),
            logs=StepLogs(ws.logs_dir),
            slots=ProcessSlots(max_parallel, cancel),
            emit=self._emit,
        )
        self.journal: journal_mod.Journal | None = None
        self.status: dict[str, Outcome] = {}  # how each step of the current run ended
        self.interrupted: set[str] = set()  # steps an earlier run died in (journal_mod.interrupted)
        # steps this run skipped on the journal's word → when they ended
        self.from_journal: dict[str, float] = {}
        self._pause = threading.Event()

    # ------------------------------------------------------------------ public

    def cancel(self) -> None:
        """Stop: no new step starts, running children's process groups are terminated. Thread-safe."""
        self.services.cancel.set()
        self.services.slots.cancel_all()

    def pause(self) -> None:
        """Stop at the next unit boundary: the units under way (a node's upgrade) finish, none starts. Thread-safe.

        A plan without units stops before its next step. The journal keeps what finished; run() resumes."""
        self._pause.set()

    @property
    def paused(self) -> bool:
        return self._pause.is_set()

    def run(self) -> bool:
        self.services.cancel.clear()
        self._pause.clear()
        self.status = {}
        self.from_journal = {}
        try:
            with self.ws.lock():
                return self._run_locked()
        except WorkspaceError as exc:
            self._emit(events.PlanFinished(ok=False, summary=str(exc)))
            return False

    # ------------------------------------------------------------------ scheduling

    def _run_locked(self) -> bool:
        self.ws.ensure()
        self.services.secrets.refresh()
        self.journal = journal_mod.Journal(self.ws.journal)
        self.journal.run(self.plan.name, self.plan.answers or "")
        self.interrupted = journal_mod.interrupted(self.ws.journal, self.journal.run_id)
        earlier = self.plan.finished_in_journal(self.ws)
        ended = journal_mod.finished(self.ws.journal, self.plan.answers)
        ordered = self.plan.order()
        self._emit(events.PlanStarted(steps=tuple(s.info() for s in ordered), simulated=self.plan.simulated))
        running: dict[Future[Outcome], Step] = {}
        started: set[str] = set()  # skipped, running or ended
        failed = False
        units = any(step.unit_start for step in ordered)
        # Steps are threads (a wait holds no slot); the limit is on child processes, in Context.run.
        with ThreadPoolExecutor(max_workers=len(ordered) or 1, thread_name_prefix="step") as pool:
            while True:
                for step in ordered:
                    if step.id in started or failed or self.services.cancel.is_set():
                        continue
                    if not all(self.status.get(dep) in DONE_STATUSES for dep in step.deps):
                        continue
                    if self._pause.is_set() and step.id not in earlier and (step.unit_start or not units):
                        continue
                    started.add(step.id)
                    if step.id in earlier:
                        self.status[step.id] = Outcome.SKIPPED
                        self.from_journal[step.id] = ended[step.id].ts if step.id in ended else 0.0
                        self._emit(events.StepSkipped(step.id, earlier[step.id]))
                        continue
                    running[pool.submit(self._execute, step)] = step
                # Steps come in dependency order, so one pass also starts what the skips above unblocked.
                if not running:
                    break
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    step = running.pop(future)
                    status = future.result()
                    self.status[step.id] = status
                    failed = failed or status is Outcome.FAILED
        cancelled = self.services.cancel.is_set()
        ok = not failed and not cancelled and all(self.status.get(s.id) in DONE_STATUSES for s in ordered)
        paused = not ok and not failed and not cancelled and self._pause.is_set()
        stopped = cancelled or paused
        self.journal.finish(Outcome.OK if ok else Outcome.CANCELLED if stopped else Outcome.FAILED)
        self._finish(ok, cancelled, paused)
        return ok

    def _finish(self, ok: bool, cancelled: bool, paused: bool = False) -> None:
        summary, bundle = "", None
        if ok and self.plan.summary is not None:
            summary = self.plan.summary(self._finished_before())
        elif not ok:
            waiting = [s.id for s in self.plan.steps if self.status.get(s.id) not in DONE_STATUSES]
            summary = (
                "cancelled; run again to resume"
                if cancelled
                else "paused; run again to resume"
                if paused
                else f"{len(waiting)} step(s) not done; fix the cause and run again to resume"
            )
            if not cancelled and not paused and self.plan.on_failure is not None:
                try:
                    bundle = self.plan.on_failure(self.ws, self.env, self.services.secrets.redactor)
                except Exception as exc:  # a bundle is a courtesy; its failure must not hide the real one
                    summary += f" (support bundle failed: {self.services.secrets.redact(str(exc))})"
        self._emit(
            events.PlanFinished(
                ok=ok,
                summary=summary,
                support_bundle=str(bundle) if bundle else None,
                cancelled=cancelled or paused,
                paused=paused,
            )
        )

    def _finished_before(self) -> float | None:
        """None when this run checked the outcome itself; else when an earlier run ended the last steps.

        The last steps are those nothing depends on (the final checks); if every one of them was skipped on
        the journal's word, this run looked at nothing live."""
        needed = {dep for step in self.plan.steps for dep in step.deps}
        last = [step.id for step in self.plan.steps if step.id not in needed]
        if not last or not all(step_id in self.from_journal for step_id in last):
            return None
        return max(self.from_journal[step_id] for step_id in last)

    # ------------------------------------------------------------------ one step

    def _execute(self, step: Step) -> Outcome:
        ctx = Context(self.services, step, time.monotonic() + step.timeout)
        try:
            try:
                holds = step.postcondition is not None and self._holds(ctx, step.postcondition)
            except Cancelled:
                return Outcome.CANCELLED  # cancelled before it started: nothing to record
            if holds:
                # It holds before the step ran (a fresh install too: generate wrote the file): nothing to do.
                reason = f"nothing to do: {step.postcondition_text or 'its outcome already holds'}"
                self._journal().end(step.id, Outcome.SKIPPED, duration=0.0, reason=reason)
                self._emit(events.StepSkipped(step.id, reason))
                return Outcome.SKIPPED
            return self._attempts(ctx)
        finally:
            self.services.logs.close(step.id)

    def _holds(self, ctx: Context, postcondition: Callable[[Context], bool]) -> bool:
        ctx.probing = True
        try:
            return bool(postcondition(ctx))
        except Cancelled:
            raise
        except Exception as exc:  # a probe that cannot tell means "not done": the step runs
            ctx.log(f"postcondition probe: {ctx.redact(str(exc))}")
            return False
        finally:
            ctx.probing = False

    def _attempts(self, ctx: Context) -> Outcome:
        step = ctx.step
        delay = step.retry_delay if self.retry_delay is None else self.retry_delay
        self._journal().start(step.id, 1)
        self._emit(events.StepStarted(step.id, 1))
        if step.resume is not None and step.id in self.interrupted:
            try:
                if step.resume(ctx):
                    return self._end(ctx, Outcome.OK, "an earlier run's work was found done")
            except Cancelled:
                return self._end(ctx, Outcome.CANCELLED, "cancelled")
            except StepError as exc:
                return self._fail(ctx, ctx.redact(str(exc)))
        while True:
            ctx.log(f"--- attempt {ctx.attempt} ---")
            try:
                if self.services.cancel.is_set():
                    raise Cancelled()
                try:
                    if callable(step.action):
                        step.action(ctx)
                    else:
                        self._run_argv(ctx)
                finally:
                    if step.learns_secrets:  # before its error or anything after it is shown
                        self.services.secrets.refresh()
            except Cancelled:
                return self._end(ctx, Outcome.CANCELLED, "cancelled")
            except Transient as exc:
                reason = ctx.redact(str(exc))
                out_of_tries = step.attempts and ctx.attempt >= step.attempts
                if out_of_tries or ctx.remaining() <= delay:
                    spent = ctx.elapsed()
                    why = (
                        f"gave up after {ctx.attempt} attempt(s) in {spent:.0f}s"
                        if out_of_tries
                        else f"timed out after {spent:.0f}s and {ctx.attempt} attempt(s)"
                    )
                    return self._fail(ctx, f"{why}: {reason}")
                ctx.attempt += 1
                self._journal().retry(step.id, ctx.attempt, reason)
                self._emit(events.StepRetrying(step.id, ctx.attempt, step.attempts, delay, reason))
                try:
                    ctx.sleep(delay)
                except Cancelled:
                    return self._end(ctx, Outcome.CANCELLED, "cancelled")
                continue
            except StepError as exc:
                return self._fail(ctx, ctx.redact(str(exc)))
            except Exception as exc:
                ctx.log(ctx.redact(traceback.format_exc()))
                return self._fail(ctx, ctx.redact(f"{type(exc).__name__}: {exc}"))
            return self._end(ctx, Outcome.OK)

    def _run_argv(self, ctx: Context) -> None:
        step = ctx.step
        result = ctx.run(
            step.argv or [], stdin=step.stdin() if step.stdin else None, show_stdout=step.show_stdout
        )
        if result.ok:
            if step.accept is not None:
                step.accept(result)
            return
        done = next((p for p in step.done_when if re.search(p, result.text())), None)
        if done is not None:
            ctx.line(f"already done ({done})")
            return
        ctx.check(result)

    def _end(self, ctx: Context, status: Outcome, reason: str = "") -> Outcome:
        step, duration = ctx.step, time.monotonic() - ctx.started
        self._journal().end(step.id, status, duration=duration, queued=ctx.queued, reason=reason)
        if status is Outcome.OK:
            self._emit(events.StepFinished(step.id, duration))
        elif status is Outcome.CANCELLED:
            self._emit(events.StepCancelled(step.id, duration))
        else:
            self._emit(events.StepFailed(step.id, reason, duration))
        return status

    def _fail(self, ctx: Context, error: str) -> Outcome:
        step = ctx.step
        message = error + (f"; {step.hint}" if step.hint else "")
        with contextlib.suppress(ValueError):
            message += f" (log: {(self.ws.logs_dir / f'{step.id}.log').relative_to(self.ws.root)})"
        ctx.log(f"FAILED: {message}")
        return self._end(ctx, Outcome.FAILED, message)

    # ------------------------------------------------------------------ plumbing

    def _emit(self, event: events.Event) -> None:
        with self._emit_lock:
            try:
                self._on_event(event)
            except Exception:  # a broken printer must not stop an install half-way
                traceback.print_exc()

    def _journal(self) -> journal_mod.Journal:
        assert self.journal is not None, "written only while a run holds the workspace"
        return self.journal
