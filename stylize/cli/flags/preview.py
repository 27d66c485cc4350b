"""The flags of the live page: where it listens, and whether it stays after the run."""

from __future__ import annotations

import click

from ...version import pip_install
from .options import Decorator

PREVIEW: list[Decorator] = [
    click.option(
        "--preview",
        default=None,
        metavar="[HOST:]PORT",
        help="Serve a live page of the run: the picture as it forms, its losses, and controls (weights, pause, "
        "snapshot, stop and keep, skip). PORT 0: any free port; HOST defaults to 127.0.0.1 (this machine only). "
        f"Open the printed address; it carries a token. Needs: {pip_install('preview')}.",
    ),
    click.option(
        "--preview-keep",
        is_flag=True,
        help="Keep the live page up after the run, until Ctrl-C.",
    ),
]
