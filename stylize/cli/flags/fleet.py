"""The flags of a fleet run: a folder or a video spread over the workers of a Ray cluster."""

from __future__ import annotations

import click

from ...version import pip_install
from .options import Decorator, option

FLEET: list[Decorator] = [
    click.option(
        "--ray",
        default=None,
        metavar="ADDRESS",
        help="Make a folder's pictures (or a --video's stretches) on a Ray cluster: one worker per GPU, and on "
        "nodes without one a worker per --threads CPUs (0: one per node). The photos go to the workers and the "
        "results come back over the network; this machine plans, shows one progress bar and writes every file "
        "(the same bytes as a local run). ADDRESS: local (start a Ray here), auto (the cluster this machine is "
        f"in), HOST:PORT (its head) or ray://HOST:PORT (a remote cluster). Needs: {pip_install('ray')}.",
    ),
    option(
        "--stretches",
        type=int,
        default=0,
        metavar="N",
        help="With --video --ray: cut the video into N stretches made side by side (each starts from the frame "
        "before it, as --shard's do; where two meet the video may jump once). 0: one per worker.",
    ),
]
