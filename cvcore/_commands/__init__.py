"""Subcommands of the ``cvcore`` command line, one module each (see cvcore.cli)."""
