"""Where the tiles of a picture lie: their own pixels (cores), and what the network sees of each (crops).

Cores cover the picture exactly once; a crop is its core with a margin of context, within the picture.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch


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


@dataclass(frozen=True)
class Tiling:
    """How pictures are cut: tiles of `size` px seen with `margin` px of context, aligned to the hooked
    layers' `strides` (input pixels per position), so that a tile's feature cells are the picture's."""

    size: int
    margin: int
    strides: dict[str, int]

    def tiles(self, height: int, width: int) -> tuple[Tile, ...]:
        align = max(self.strides.values())
        margin = math.ceil(self.margin / align) * align
        return tile_grid(height, width, max(align, self.size // align * align), margin, align)

    def core(self, features: dict[str, torch.Tensor], tile: Tile) -> dict[str, torch.Tensor]:
        """A crop's features at the tile's own positions."""
        (top, bottom, left, right), (c_top, c_bottom, c_left, c_right) = tile.core, tile.crop
        out = {}
        for name, value in features.items():
            s = self.strides[name]
            h, w = value.shape[-2:]
            out[name] = value[..., (top - c_top) // s : h - (c_bottom - bottom) // s,
                              (left - c_left) // s : w - (c_right - right) // s]  # fmt: skip
        return out


def crop(image: torch.Tensor, box: tuple[int, int, int, int]) -> torch.Tensor:
    """image[..., top:bottom, left:right] for a box (top, bottom, left, right)."""
    top, bottom, left, right = box
    return image[..., top:bottom, left:right]
