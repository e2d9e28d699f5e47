"""CLI command handlers: one module per subcommand, each with `run(args) -> exit code`."""
