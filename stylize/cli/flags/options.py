"""How a flag is declared: one click option, its default from Config and shown in `--help`; a group applied at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ...config import Config

D = Config()  # defaults live in Config only

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def option(*names: str, **settings: Any) -> Decorator:
    """A click option that shows its default in --help."""
    return click.option(*names, show_default=True, **settings)


def flags(options: list[Decorator]) -> Decorator:
    """All of `options` as one decorator, listed in `--help` in the order given."""

    def apply(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return apply
