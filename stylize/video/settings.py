"""The settings of the frames after a chain's first: they start close to their result, so one size, fewer
iterations."""

from __future__ import annotations

from dataclasses import replace

from ..config import Config

# Iterations of each frame after a chain's first, measured on a panning clip (README "Video"): the
# frame starts from the last one's picture carried along the flow, and
LATER_ITERATIONS = "20"
FOLDER_FPS = 24.0  # --video-out's frame rate for image frames, unless --fps


def later_config(config: Config, iterations: int | str) -> Config:
    """`config` for a chained frame: no coarse-to-fine (its start is already at full size) and `iterations`."""
    return replace(config, scales=1, iterations=iterations)
