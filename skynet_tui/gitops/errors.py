"""The GitOps error type: one line saying what went wrong and how to fix it, never a secret."""

from __future__ import annotations


class GitOpsError(RuntimeError):
    """Rendering, checking, writing or pushing the GitOps tree failed."""
