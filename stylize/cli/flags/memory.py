"""The flags that fit a run in memory: how much it may use, and tiles for pictures larger than that."""

from __future__ import annotations

import click

from .options import D, Decorator, option

MEMORY: list[Decorator] = [
    click.option(
        "--max-memory",
        default=None,
        metavar="SIZE",
        help="Memory the run may use, e.g. 4G or 1500M (GPU memory on a GPU). A size that needs more is "
        "optimised in tiles, with a shorter L-BFGS history.  [default: what is free]",
    ),
    option(
        "--tile",
        type=int,
        default=D.tile,
        metavar="PX",
        help="Optimise sizes larger than PX in tiles of PX (a multiple of 16), each seen with 64 px of context. "
        "0: tiles only where memory is short.",
    ),
]
