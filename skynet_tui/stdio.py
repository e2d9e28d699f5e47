"""The process's own stdout: what to do when its reader goes away (`skynet schema | head -c 10`)."""

from __future__ import annotations

import contextlib
import os
import sys


def stdout_gone() -> None:
    """After a BrokenPipeError on stdout: point stdout at /dev/null, so nothing more fails or warns (Python
    would print "Exception ignored … BrokenPipeError" when it flushes stdout at exit)."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
