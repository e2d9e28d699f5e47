"""What the bootstrap screen writes: the progress line, the log pane's subtitle and the summary panel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from skynet_tui.events import PlanFinished
from skynet_tui.widgets.logview import LineBuffer
from skynet_tui.widgets.steps import StepRow, format_duration

SUMMARY_TITLES = {
    "succeeded": "✔ Install complete",
    "failed": "✖ Install failed",
    "cancelled": "■ Install cancelled",
}
PHASE_WORDS = {"cancelling": "stopping…", "succeeded": "done", "cancelled": "cancelled", "failed": "failed"}


def progress_text(rows: Sequence[StepRow], phase: str, elapsed: float) -> str:
    """E.g. "7/15 steps · 2 running · 1m05s"."""
    if not rows:
        return f"preparing the plan… · {format_duration(elapsed)}"
    finished = sum(1 for row in rows if row.state in ("done", "skipped"))
    running = sum(1 for row in rows if row.state in ("running", "retrying"))
    failed = sum(1 for row in rows if row.state == "failed")
    parts = [f"{finished}/{len(rows)} steps"]
    if running:
        parts.append(f"{running} running")
    if failed:
        parts.append(f"{failed} failed")
    elif phase in PHASE_WORDS:
        parts.append(PHASE_WORDS[phase])
    parts.append(format_duration(elapsed))
    return " · ".join(parts)


def log_subtitle(step_id: str, buffer: LineBuffer) -> str:
    """How much of the step's output the pane holds, and where the whole of it is."""
    if buffer.dropped:
        count = f"last {len(buffer.lines):,} of {buffer.total:,} lines"
    else:
        count = f"{buffer.total:,} line{'' if buffer.total == 1 else 's'}"
    return f"{count} · logs/{step_id}.log"


def summary_text(phase: str, event: PlanFinished, failed: Sequence[StepRow], ws: Any) -> str:
    """The summary panel: the runner's summary (URLs, where the admin password is), or what failed and what next."""
    parts = [event.summary.strip()] if event.summary.strip() else []
    if phase == "succeeded":
        if not parts:
            parts.append(f"kubeconfig: {ws.kubeconfig}\ntalosconfig: {ws.talosconfig}")
        parts.append("Enter: continue")
        return "\n".join(parts)
    parts += [f"{row.info.title} ({row.info.target}): {row.note}" for row in failed]
    if event.support_bundle:
        parts.append(f"Support bundle: {event.support_bundle}")
    parts.append(f"Logs: {ws.logs_dir}")
    parts.append("r: retry (finished steps are skipped) · Esc: close")
    return "\n".join(parts)
