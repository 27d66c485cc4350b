"""How much memory a stage of a run needs, and how it fits a budget: whole, shorter history, or tiles.

No torch here: the command plans with it before torch is imported.

A stage runs whole; or whole with a shorter L-BFGS history; or in tiles (the image evaluated a
tile at a time, see optimize/tiles/tiling.py).

The model, from peak RSS measured on the CPU (benchmarks/tiles.py evaluation; docs/benchmarks/scale.md):

    need = BASE + EVALUATED * (pixels the network sees at once)
                + pictures * pixels * (IMAGE + PAIR * history)

The network's activations and their gradients are the only part that tiling shrinks; the image,
its gradient, the optimiser's vectors and the curvature memory stay whole-picture sized, which is
why the history is shortened when memory is tight (at 4096x3072 one curvature pair is 302 MB).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ResourceError

BASE = 768 * 2**20  # bytes: the process, torch and the network's weights (0.63-0.69 GiB measured)
EVALUATED = 2560  # bytes per pixel in one forward and backward pass (fp32 2.4-2.5 KiB measured; bf16 1.9)
IMAGE = 256  # bytes per picture pixel: image, gradient, the line search's points, photo, content targets
PAIR = 24  # bytes per picture pixel and curvature pair: two float32 RGB vectors
FULL_HISTORY = 50  # curvature pairs kept when memory allows
WHOLE_LEAST_HISTORY = 10  # a stage runs whole with at least this history, else in tiles
TILED_HISTORY = 8  # at most, in tiles where memory is short: a pair costs a whole image's 24 B/px twice over
LEAST_HISTORY = 3  # below this L-BFGS is little better than gradient descent
MARGIN = 64  # px of context around a tile (4 cells of relu5_1), part of what the network sees
ALIGN = 16  # tiles start and end on multiples of the deepest pooling stride
GOOD_TILE = 512  # px: a tile this large or larger is worth a shorter history (margin overhead 1.56x)
TILE_CAP = 1024  # px: larger tiles save little (margin overhead 1.27x at 1024, 1.13x at 2048)


@dataclass(frozen=True)
class MemoryPlan:
    """How a stage runs: whole or in `tile` px tiles, with `history` curvature pairs; `need` bytes estimated."""

    history: int
    tile: int | None  # px of a tile's side (without its margin); None: the whole image at once
    need: int


def crop_pixels(width: int, height: int, tile: int | None) -> int:
    """Pixels the network sees at once: the whole image, or the largest tile with its margins."""
    if tile is None or tile >= max(width, height):
        return width * height
    return min(width, tile + 2 * MARGIN) * min(height, tile + 2 * MARGIN)


def stage_need(width: int, height: int, pictures: int, history: int, tile: int | None) -> int:
    """Bytes a stage of `pictures` images of width x height needs (tiled images are evaluated one at a time)."""
    seen = crop_pixels(width, height, tile) * (1 if tile is not None else pictures)
    return BASE + EVALUATED * seen + pictures * width * height * (IMAGE + PAIR * history)


def plan_memory(width: int, height: int, pictures: int, budget: int, tile: int | None = None,
                least_tile: int = ALIGN) -> MemoryPlan:  # fmt: skip
    """The plan for one stage within `budget` bytes; `tile` forces tiles of that size where the
    image is larger. Raises ResourceError when even the smallest plan does not fit."""
    if tile is not None and tile < max(width, height):
        return _tiled(width, height, pictures, budget, tile)
    for history in range(FULL_HISTORY, WHOLE_LEAST_HISTORY - 1, -1):
        if (need := stage_need(width, height, pictures, history, None)) <= budget:
            return MemoryPlan(history, None, need)
    for history in range(TILED_HISTORY, LEAST_HISTORY - 1, -1):  # a shorter history before a small tile
        largest = _largest_tile(width, height, pictures, budget, history)
        if largest >= min(GOOD_TILE, max(width, height)):
            break
    if largest >= max(width, height):  # whole, with a history shorter than tiles would have
        return MemoryPlan(history, None, stage_need(width, height, pictures, history, None))
    if largest < max(least_tile, ALIGN):
        least = stage_need(width, height, pictures, LEAST_HISTORY, max(least_tile, ALIGN))
        raise ResourceError(f"{pictures} picture(s) of {width}x{height} need at least {least / 2**30:.1f} GiB of "
                            f"memory, even in tiles; the budget is {budget / 2**30:.1f} GiB",
                            hint="raise --max-memory, or use a smaller --size")  # fmt: skip
    tile = min(largest, TILE_CAP)
    return MemoryPlan(history, tile, stage_need(width, height, pictures, history, tile))


def _tiled(width: int, height: int, pictures: int, budget: int, tile: int) -> MemoryPlan:
    """Tiles of `tile` px (asked for by --tile) with the longest history that fits; LEAST_HISTORY if none does."""
    for history in range(FULL_HISTORY, LEAST_HISTORY - 1, -1):
        if (need := stage_need(width, height, pictures, history, tile)) <= budget:
            return MemoryPlan(history, tile, need)
    return MemoryPlan(LEAST_HISTORY, tile, stage_need(width, height, pictures, LEAST_HISTORY, tile))


def _largest_tile(width: int, height: int, pictures: int, budget: int, history: int) -> int:
    """The largest tile side (a multiple of ALIGN, at most the image's) whose stage fits the budget with
    `history`; 0 if none does."""
    free = budget - BASE - pictures * width * height * (IMAGE + PAIR * history)
    for side in range(max(width, height) // ALIGN * ALIGN, 0, -ALIGN):
        if EVALUATED * crop_pixels(width, height, side) <= free:
            return side
    return 0


def plan_note(plan: MemoryPlan, width: int, height: int, pictures: int, budget: int) -> str | None:
    """What a user should know about how a stage of `pictures` images of width x height fits `budget`
    by `plan` (None: whole, as always)."""
    told = f"{pictures} picture(s) of {width}x{height}"
    if plan.tile is not None:
        return (f"{told} are optimised in tiles of {plan.tile} px, L-BFGS keeping {plan.history} curvature pairs, "
                f"to fit {budget / 2**30:.1f} GiB (about {plan.need / 2**30:.1f} GiB)")  # fmt: skip
    if plan.history < FULL_HISTORY:
        return (
            f"{told}: L-BFGS keeps {plan.history} curvature pairs (not {FULL_HISTORY}) to fit {budget / 2**30:.1f} GiB"
        )
    return None
