"""The subcommands of the `aftercare` CLI, one module each."""
