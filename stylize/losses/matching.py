"""Nearest-neighbour matching of feature patches, and the painting's features they point at.

Deep Painterly Harmonization (Luan, Paris, Shechtman and Bala, 2018), section 4: each feature
patch of the pasted region is matched to the painting patch it resembles most, and the style
statistics are taken from the matched painting features, so that the pasted object is painted
with the strokes the painter used for similar things, not with the painting's average.
- `nearest_patches`: normalised cross-correlation of 3x3 feature patches (the paper's and
  CNNMRF's measure), in chunks of query positions so that memory stays bounded by
  chunk x painting positions whatever the region's size.
- `coherent_mapping`: the paper's second pass. Each position takes, among the matches its
  neighbours suggest (a neighbour's match shifted back by the offset between them), the one that
  agrees best with all the suggestions, so that neighbouring positions map to neighbouring
  painting positions and the painting's strokes are carried over whole.
- `carried_mapping`: a mapping found at one layer read at another (the paper finds it at relu4_1
  and uses it at every style layer).
Mappings are flat indices into the painting's positions at a layer (row-major, h * w).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

PATCH = 3  # feature patches are 3x3, as in the paper
CHUNK_BYTES = 64 * 2**20  # the largest block of cross-correlations computed at once
EPS = 1e-8


def unit_patches(features: torch.Tensor) -> torch.Tensor:
    """(1, C, h, w) -> (h * w, C * 9): each position's 3x3 patch (zero-padded), scaled to unit length."""
    patches: torch.Tensor = F.unfold(features.float(), PATCH, padding=PATCH // 2)[0].T  # (h*w, C*9)
    unit: torch.Tensor = patches / patches.norm(dim=1, keepdim=True).clamp_min(EPS)
    return unit


def chunk_rows(bank_positions: int, chunk_bytes: int = CHUNK_BYTES) -> int:
    """How many query positions are compared at once so that their scores fit `chunk_bytes`."""
    return max(1, chunk_bytes // (4 * max(1, bank_positions)))


@torch.no_grad()
def nearest_patches(query: torch.Tensor, bank: torch.Tensor, where: torch.Tensor | None = None,
                    chunk_bytes: int = CHUNK_BYTES) -> torch.Tensor:  # fmt: skip
    """For each position of `query` (1, C, h, w) listed in `where` (flat indices; None: all), the flat
    index of the `bank` (1, C, H, W) position whose 3x3 patch has the highest normalised
    cross-correlation with its own. (k,) int64."""
    wanted = unit_patches(query)
    if where is not None:
        wanted = wanted.index_select(0, where)
    painting = unit_patches(bank)  # (H*W, C*9)
    rows = chunk_rows(painting.shape[0], chunk_bytes)
    found = [(wanted[start : start + rows] @ painting.T).argmax(1) for start in range(0, wanted.shape[0], rows)]
    return torch.cat(found) if found else torch.empty(0, dtype=torch.long)


OFFSETS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]  # the 3x3 neighbourhood, the position itself included


@torch.no_grad()
def coherent_mapping(mapping: torch.Tensor, shape: tuple[int, int], bank: torch.Tensor,
                     rows: int = 4096) -> torch.Tensor:  # fmt: skip
    """A mapping of every position of a (h, w) grid (`mapping`, (h*w,) flat indices into `bank`'s
    positions) made spatially coherent: each position takes, of the 9 matches its neighbourhood
    suggests (the neighbour's match minus the offset to that neighbour), the one whose painting
    feature is nearest, in sum of squares, to the features of all 9 suggestions."""
    h, w = shape
    _, c, bank_h, bank_w = bank.shape
    flat = bank.reshape(c, bank_h * bank_w).T.float()  # (P, C)
    ys, xs = torch.div(mapping, bank_w, rounding_mode="floor"), mapping % bank_w
    grid_y, grid_x = ys.reshape(h, w), xs.reshape(h, w)
    suggestions = []
    for dy, dx in OFFSETS:  # the neighbour at (y + dy, x + dx) suggests its match minus (dy, dx)
        ny = _shifted(grid_y, dy, dx) - dy
        nx = _shifted(grid_x, dy, dx) - dx
        suggestion = ny.clamp(0, bank_h - 1) * bank_w + nx.clamp(0, bank_w - 1)
        beyond = _beyond(h, w, dy, dx)  # no neighbour there: the position's own match stands in
        suggestions.append(torch.where(beyond, mapping.reshape(h, w), suggestion))
    options = torch.stack(suggestions, -1).reshape(h * w, len(OFFSETS))  # (h*w, 9)
    chosen = []
    for start in range(0, h * w, rows):
        part = options[start : start + rows]  # (k, 9)
        features = flat[part]  # (k, 9, C)
        spread = torch.cdist(features, features).pow(2).sum(2)  # (k, 9): each option's distance to all
        chosen.append(part.gather(1, spread.argmin(1, keepdim=True)).squeeze(1))
    return torch.cat(chosen)


def _beyond(h: int, w: int, dy: int, dx: int) -> torch.Tensor:
    """(h, w) bool: where (y + dy, x + dx) is outside the grid."""
    ys, xs = torch.arange(h)[:, None] + dy, torch.arange(w)[None, :] + dx
    return (ys < 0) | (ys >= h) | (xs < 0) | (xs >= w)


def _shifted(grid: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """grid[y + dy, x + dx] at every (y, x), the edge repeated beyond the border."""
    h, w = grid.shape
    rows = (torch.arange(h) + dy).clamp(0, h - 1)
    cols = (torch.arange(w) + dx).clamp(0, w - 1)
    return grid[rows][:, cols]


def carried_mapping(mapping: torch.Tensor, shape: tuple[int, int], bank_shape: tuple[int, int],
                    to_shape: tuple[int, int], to_bank_shape: tuple[int, int]) -> torch.Tensor:  # fmt: skip
    """A mapping of a (h, w) grid into a (H, W) painting grid read on another layer's grids: each
    position of `to_shape` takes its reference position's match, scaled to `to_bank_shape`, plus its
    own offset inside the reference position's cell. (h' * w',) flat indices."""
    (h, w), (bank_h, bank_w), (th, tw), (tbh, tbw) = shape, bank_shape, to_shape, to_bank_shape
    sy, sx = h / th, w / tw  # reference cells per position of the new grid
    ty, tx = torch.arange(th, dtype=torch.float64), torch.arange(tw, dtype=torch.float64)
    ry, rx = (ty * sy).floor().clamp(0, h - 1).long(), (tx * sx).floor().clamp(0, w - 1).long()
    matched = mapping.reshape(h, w)[ry][:, rx]  # (th, tw)
    my = torch.div(matched, bank_w, rounding_mode="floor").double()
    mx = (matched % bank_w).double()
    inside_y = (ty / (th / h) - ry.double())[:, None]  # the offset within the cell, in reference units
    inside_x = (tx / (tw / w) - rx.double())[None, :]
    y = ((my + inside_y) * (tbh / bank_h)).floor().clamp(0, tbh - 1).long()
    x = ((mx + inside_x) * (tbw / bank_w)).floor().clamp(0, tbw - 1).long()
    return (y * tbw + x).reshape(-1)
