"""The command-line interface: `stylize CONTENT STYLE -o OUT`."""

from .command import build_config, main

__all__ = ["build_config", "main"]
