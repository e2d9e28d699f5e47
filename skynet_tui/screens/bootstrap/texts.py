"""What the bootstrap screen writes: the progress line, the log pane's subtitle and the summary panel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from skynet_tui.progress import ACTIVE, Phase, RunProgress, StepState
from skynet_tui.widgets.logview import LineBuffer
from skynet_tui.widgets.steps import format_duration

SUMMARY_TITLES = {
    Phase.SUCCEEDED: "✔ Install complete",
    Phase.FAILED: "✖ Install failed",
    Phase.CANCELLED: "■ Install cancelled",
}
PHASE_WORDS = {
    Phase.CANCELLING: "stopping…",
    Phase.SUCCEEDED: "done",
    Phase.CANCELLED: "cancelled",
    Phase.FAILED: "failed",
}


def progress_text(state: RunProgress, elapsed: float) -> str:
    """E.g. "7/15 steps · 2 running · 1m05s"."""
    if not state.steps:
        return f"preparing the plan… · {format_duration(elapsed)}"
    running = len(state.having(*ACTIVE))
    failed = len(state.having(StepState.FAILED))
    parts = [f"{state.finished}/{len(state.steps)} steps"]
    if running:
        parts.append(f"{running} running")
    if failed:
        parts.append(f"{failed} failed")
    elif state.phase in PHASE_WORDS:
        parts.append(PHASE_WORDS[state.phase])
    parts.append(format_duration(elapsed))
    return " · ".join(parts)


def log_subtitle(step_id: str, buffer: LineBuffer) -> str:
    """How much of the step's output the pane holds, and where the whole of it is."""
    if buffer.dropped:
        count = f"last {len(buffer.lines):,} of {buffer.total:,} lines"
    else:
        count = f"{buffer.total:,} line{'' if buffer.total == 1 else 's'}"
    return f"{count} · logs/{step_id}.log"


def summary_text(state: RunProgress, ws: Any) -> str:
    """The summary panel: the runner's summary (URLs, where the admin password is), or what failed and what next."""
    summary = state.result.summary.strip() if state.result else ""
    parts = [summary] if summary else []
    if state.phase is Phase.SUCCEEDED:
        if not parts:
            parts.append(f"kubeconfig: {ws.kubeconfig}\ntalosconfig: {ws.talosconfig}")
        parts.append("Enter: continue")
        return "\n".join(parts)
    parts += [
        f"{step.info.title} ({step.info.target}): {step.note}" for step in state.having(StepState.FAILED)
    ]
    # Names relative to the workspace, and the folder on a line of its own: a long path never breaks mid-line.
    bundle = state.result.support_bundle if state.result else None
    if bundle:
        parts.append(f"Support bundle (redacted): {Path(bundle).name}")
    parts.append(f"Logs: {ws.logs_dir.name}/ · both in the workspace folder:")
    parts.append(str(ws.root))
    parts.append("r: retry (finished steps are skipped) · Esc: close")
    return "\n".join(parts)
