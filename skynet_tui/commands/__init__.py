"""CLI command handlers: one module per subcommand, each with `run(args) -> exit code`; the exit codes they share.

`skynet --help` loads this package and nothing else of Skynet (bench/cli_startup.py): what the commands share
beyond the exit codes lives in its own module (answers.py).
"""

from __future__ import annotations

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
