"""The flags of a video run: frames in order, each consistent with the last; the encoded file."""

from __future__ import annotations

from pathlib import Path

import click

from ...version import pip_install
from ...video.settings import LATER_ITERATIONS
from .options import D, Decorator, option

VIDEO: list[Decorator] = [
    click.option(
        "--video",
        is_flag=True,
        help="CONTENT is a video: a video file, or a folder or quoted glob of frames (in name order). Frames are "
        "made in order into the -o folder, each starting from the last one's picture carried along the optical "
        "flow and held near it (no flicker). A rerun continues at the first missing frame; --shard K/N takes "
        f"the K-th of N stretches. Needs: {pip_install('video')}.",
    ),
    click.option(
        "--video-out",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="With --video: also encode the frames into this file once all are made (.mp4 .mov .mkv: H.264; "
        ".webm: VP9).",
    ),
    click.option(
        "--fps",
        type=float,
        default=None,
        help="Frame rate of --video-out. Default: the input video's; 24 for image frames.",
    ),
    option(
        "--temporal-weight",
        type=float,
        default=D.temporal_weight,
        help="With --video: how strongly each frame keeps the last frame's picture where the flow can be "
        "trusted. 0: only the start is carried over (more flicker); higher: steadier, slower to follow change.",
    ),
    option(
        "--video-iterations",
        default=LATER_ITERATIONS,
        metavar="N|auto",
        help="With --video: iterations for each frame after the first, which starts close to its result "
        "(--iterations is the first frame's).",
    ),
]
