"""The command-line interface: `stylize CONTENT STYLE -o OUT`."""

from .command import main
from .settings import build_config

__all__ = ["build_config", "main"]
