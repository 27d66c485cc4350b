"""Where the tiles of a picture lie: their own pixels (cores), and what the network sees of each (crops).

Cores cover the picture exactly once; a crop is its core with a margin of context, within the picture.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Tile:
    """A tile's own pixels (`core`) and what the network sees of it (`crop`): (top, bottom, left, right)."""

    core: tuple[int, int, int, int]
    crop: tuple[int, int, int, int]

    @property
    def area(self) -> int:
        top, bottom, left, right = self.core
        return (bottom - top) * (right - left)


def cuts(length: int, tile: int, align: int) -> list[int]:
    """Boundaries 0 = b0 < b1 < ... = length of parts of about `tile` px, inner ones on multiples of
    `align`, none shorter than `align` (the parts are as even as alignment allows)."""
    count = max(1, math.ceil(length / tile))
    inner = {round(k * length / count / align) * align for k in range(1, count)}
    bounds = [0, *sorted(b for b in inner if align <= b <= length - align), length]
    return bounds


def tile_grid(height: int, width: int, tile: int, margin: int, align: int) -> tuple[Tile, ...]:
    """Tiles covering a height x width picture exactly once, row by row; each crop is its core grown
    by `margin` px on every side, within the picture."""
    rows, cols = cuts(height, tile, align), cuts(width, tile, align)
    tiles = []
    for top, bottom in itertools.pairwise(rows):
        for left, right in itertools.pairwise(cols):
            crop = (max(0, top - margin), min(height, bottom + margin), max(0, left - margin),
                    min(width, right + margin))  # fmt: skip
            tiles.append(Tile((top, bottom, left, right), crop))
    return tuple(tiles)
