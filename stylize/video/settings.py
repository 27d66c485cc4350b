"""The settings of the frames after a chain's first: they start close to their result, so one size, fewer
iterations."""

from __future__ import annotations

from dataclasses import replace

from ..config import Config

# Iterations of each frame after a chain's first. Measured on 12 frames of a 256x192 window panning
# over tubingen.jpg (starry_night.jpg, --temporal-weight 100; docs/benchmarks/scale.md): 10 iterations left the
# judged content error 6.7% above that of frames made on their own, 20 left it 3.3% above, at 0.27 of
# the first frame's time; flicker was 0.11-0.14 of the independent frames' either way.
LATER_ITERATIONS = "20"
FOLDER_FPS = 24.0  # --video-out's frame rate for image frames, unless --fps


def later_config(config: Config, iterations: int | str) -> Config:
    """`config` for a chained frame: no coarse-to-fine (its start is already at full size) and `iterations`."""
    return replace(config, scales=1, iterations=iterations)
