"""The console's problems table keys rows by what a problem is about, so changing words update a row in place."""

from __future__ import annotations

from skynet_tui.screens.console.screen import problem_rows
from skynet_tui.status.model import Problem


def test_problem_rows_keep_their_key_while_their_words_change() -> None:
    before = [
        Problem("kubernetes", "warn", "pod a/x CrashLoopBackOff (3 restarts)", ("pod", "a/x")),
        Problem("kubernetes", "warn", "… and 40 more problem pods"),
        Problem("storage", "warn", "PVC d/data-01 Pending (local-path)"),
        Problem("storage", "warn", "PVC d/data-02 Pending (local-path)"),
        Problem("argocd", "error", "Application loki Degraded", ("app", "argocd/loki")),
        Problem("argocd", "error", "Application loki sync Failed: hook failed", ("app", "argocd/loki")),
        Problem("argocd", "error", "Application loki Degraded", ("app", "argocd/loki")),  # shown once
    ]
    after = [
        Problem("kubernetes", "warn", "pod a/x CrashLoopBackOff (4 restarts)", ("pod", "a/x")),
        Problem("kubernetes", "warn", "… and 41 more problem pods"),
        *before[2:6],
    ]
    keys_before = [key for key, _ in problem_rows(before)]
    assert len(keys_before) == 6 and len(set(keys_before)) == 6
    assert keys_before == [key for key, _ in problem_rows(after)]
    assert [p.text for _, p in problem_rows(after)][:2] == [after[0].text, after[1].text]
