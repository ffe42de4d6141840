"""The command line (``python -m analysis COMMAND``): one module per command, the shared
argument checks, and :func:`main`, the dispatcher."""

from analysis.cli.main import main

__all__ = ["main"]
