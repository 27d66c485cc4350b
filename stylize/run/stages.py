"""Coarse to fine: the sizes a run optimises at, the iterations at each, and a photo's size at each.

The fast.ai lesson's progressive resizing applied to the pixels: optimise a small image first (an
iteration costs a quarter per halving of the side), upsample the result as the start of the next
size, and finish at the requested size with few iterations. The style targets are recomputed at
every size, so the brush strokes keep their scale relative to the image.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import AUTO, SCALE_FACTOR, Config
from ..errors import SettingsError
from ..network.layers import min_side
from ..network.memory import MemoryPlan, plan_memory
from ..optimize.stopping import Plateau

# px. Measured (docs/benchmarks/speed.md): starting at 128 px for a 256 px result, or at 256 px for 512 px,
# reached the plain method's objective no sooner than one size did, and cost 6-8% of the judged
# content distance: the blurry upsampled start scores badly at full size and the finest style
# layers need ~30 iterations to recover. So `auto` goes coarse to fine only from 1024 px up,
# where a full-size iteration costs 4x or more that of the coarse one.
COARSEST_SIZE = 512
COARSE_ITERATIONS = 1.0  # iterations at each coarser size, as a multiple of the final size's
# --iterations auto: each size stops when PLATEAU says the picture stopped improving, after at most
# AUTO_CAP iterations. Chosen on six pairs at 512 px (benchmarks/stopping.py; docs/benchmarks/defaults.md).
PLATEAU = Plateau(window=10, tolerance=0.01)
AUTO_CAP = 300


@dataclass(frozen=True)
class Stage:
    size: int  # long side in px
    iterations: int  # to run, or at most (with `until`)
    until: Plateau | None = None  # stop earlier when the picture stops improving


@dataclass(frozen=True)
class ResumePoint:
    """Where a killed run of a picture stopped: in `stage` (1-based) after `done` of its iterations."""

    stage: int
    done: int
    total_done: int  # iterations over all the stages before it, and this one's


def auto_scale_count(size: int) -> int:
    """How many sizes `--scales 0` uses: halve while the result stays at least COARSEST_SIZE."""
    count = 1
    while size // SCALE_FACTOR**count >= COARSEST_SIZE:
        count += 1
    return count


def plan_stages(size: int, scales: int, iterations: int | str) -> tuple[Stage, ...]:
    """The stages of a run, coarsest first; the last is `size` with `iterations` iterations
    (`auto`: each stage until it stops improving, at most AUTO_CAP).

    `scales` = 1 turns coarse-to-fine off, 0 chooses the count from `size`.
    """
    count = auto_scale_count(size) if scales == 0 else scales
    if iterations == AUTO:
        return tuple(Stage(max(1, round(size / SCALE_FACTOR**k)), AUTO_CAP, PLATEAU) for k in range(count - 1, -1, -1))
    assert isinstance(iterations, int)
    coarse = max(1, round(iterations * COARSE_ITERATIONS))
    stages = [Stage(max(1, round(size / SCALE_FACTOR**k)), coarse) for k in range(count - 1, 0, -1)]
    return (*stages, Stage(size, iterations))



# --harmonize (run/harmonize/passes.py): pass 1 at half the size, pass 2 at the size; with --iterations auto
# each until it stops improving, after at most this many iterations
HARMONIZE_PASSES = ((0.5, 200), (1.0, 200))


def config_stages(config: Config) -> tuple[Stage, ...]:
    """The stages of a run with `config`: coarse to fine (`plan_stages`), or with --harmonize its two passes."""
    if config.harmonize is None:
        return plan_stages(config.size, config.scales, config.iterations)
    return harmonize_stages(config)


def harmonize_stages(config: Config) -> tuple[Stage, ...]:
    """A harmonization's two passes (whether the masks came by --harmonize or through the Python API)."""
    auto = config.iterations == AUTO
    return tuple(Stage(max(1, round(config.size * share)), cap if auto else int(config.iterations),
                       PLATEAU if auto else None) for share, cap in HARMONIZE_PASSES)  # fmt: skip


def stage_sizes(content_size: tuple[int, int], config: Config,
                stages: tuple[Stage, ...] | None = None) -> tuple[tuple[int, int], ...]:  # fmt: skip
    """(width, height) of a content photo at every stage of a run (`stages`, default the config's); pictures
    with equal sizes share a batch."""
    stages = stages or config_stages(config)
    smallest = min_side(config)
    return tuple(fitted_size(content_size, stage.size, smallest) for stage in stages)


def long_side_size(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """(width, height) scaled so that the longer side is `long_side` px, keeping the aspect ratio."""
    width, height = size
    scale = long_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def fitted_size(size: tuple[int, int], long_side: int, min_side: int = 1) -> tuple[int, int]:
    """(width, height) with the longer side `long_side` px; but a very wide or tall image keeps its
    shorter side at `min_side` px (what the deepest layer needs), its longer side growing."""
    width, height = long_side_size(size, long_side)
    if min(width, height) >= min_side:
        return width, height
    scale = min_side / min(size)
    return max(min_side, round(size[0] * scale)), max(min_side, round(size[1] * scale))


def memory_plan(config: Config, size: tuple[int, int], pictures: int, budget: int) -> MemoryPlan:
    """How a stage of `pictures` images of `size` runs within `budget` bytes: whole or in tiles (--tile
    forces tiles where the image is larger), and with how much L-BFGS history."""
    return plan_memory(size[0], size[1], pictures, budget, config.tile or None, min_side(config))


def check_tile(config: Config) -> None:
    """--tile must leave the network's deepest layer at least one position per tile."""
    least = min_side(config)
    if config.tile and config.tile < least:
        raise SettingsError(f"--tile {config.tile} is smaller than the {least} px the deepest layer needs",
                            hint=f"use --tile {max(least, 256)} or more (0: tiles where memory is short)")  # fmt: skip
