"""Evaluating the objective of a picture larger than memory, a tile at a time, as if it were whole.

The image is cut into tiles (`tile_grid`); each is run through the network with a margin of
context (MARGIN px, clipped at the picture's edges), so that the activations at the tile's own
positions (its core) are the whole picture's, not a zero-padded crop's. Only cores are scored:
- content: against the photo's activations there (computed once per stage, a tile at a time),
  relative to the whole photo's mean square per layer and weighted by the tile's share of the
  picture, so the tiles' errors add up to the untiled error;
- style, for statistics of averages over positions (gram, diagonal, wasserstein): the *whole
  picture's* statistic against the global target. A first pass without gradients adds the
  tiles' moments up to the picture's, takes the style error there and how the weighted total
  changes with each moment; the second pass, with gradients, pulls each tile's moments by that
  much, which is the tile's exact part of the style gradient. One forward pass more per
  evaluation (about a third of the time) buys the untiled objective itself: no seams from
  style statistics that differ per tile, and the same picture as an untiled run;
- style, sliced (sorting does not add up): each tile's own distribution against the global
  target, weighted by the tile's share.
The tiles' gradients (margins included: they are other tiles' positions) add up to one gradient
of the whole image, so one L-BFGS runs over the whole picture with the run's own iterations,
stopping rule and resume; no tile grid shift is needed, since no tile is optimised on its own.
Tiles start and end on multiples of the deepest layer's stride, so their feature cells are the
picture's; within the receptive fields the margin holds (all of relu1_1..relu4_2, most of
relu5_1's) a tile's core features equal the untiled ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from ...losses.guidance import Guidance
from ...losses.statistics import Moments, MomentStatistic, StyleTarget, target_rows
from ..evaluation import Evaluated
from ..objective import Objective
from ..targets import Targets
from .tile_grid import Tile, Tiling, crop
from .tiled_style import MomentSums, pulled, tile_moments

OnTile = Callable[[int, int], None]  # (tiles done in this evaluation, tiles)


@dataclass(frozen=True)
class TileStep:
    """Progress inside an evaluation in tiles, with the stage it belongs to (what a progress bar needs)."""

    tile: int  # tiles done in this evaluation
    tiles: int
    stage: int
    stages: int
    size: tuple[int, int]  # (width, height)
    images: int  # pictures of the batch (their tiles are evaluated one picture after the other)
    iterations: int  # of this stage
    done: int  # iterations of this stage done before this call (by a killed run)


class TiledEvaluation:
    """Evaluates `objective` (whose targets hold the global style targets and full-size guidance, and no
    content) on images (k, 3, H, W) tile by tile; `photos` (N, 3, H, W) give each row's content."""

    def __init__(self, objective: Objective, photos: Sequence[torch.Tensor], tiling: Tiling,
                 on_tile: OnTile | None = None) -> None:  # fmt: skip
        self.objective, self.tiling, self.on_tile = objective, tiling, on_tile
        self.tiles = tiling.tiles(*photos[0].shape[-2:])
        self.content = [self._content(photo) for photo in photos]  # row -> tile -> layer -> (1, C, h, w)
        self.energy = [self._energy(tiles) for tiles in self.content]  # row -> layer -> (1,) mean square
        self.guidance: dict[tuple[int, int], Guidance | None] = {}  # (row, tile) -> its part of the masks
        self.style: dict[int, dict[str, StyleTarget]] = {}  # row -> its style targets

    def core(self, features: dict[str, torch.Tensor], tile: Tile) -> dict[str, torch.Tensor]:
        return self.tiling.core(features, tile)

    @torch.no_grad()
    def _content(self, photo: torch.Tensor) -> list[dict[str, torch.Tensor]]:
        layers = [lw.name for lw in self.objective.choice.content]
        found = []
        for tile in self.tiles:
            features = self.objective.features(crop(photo[None] if photo.dim() == 3 else photo, tile.crop))
            found.append({k: v.float().clone() for k, v in self.core({k: features[k] for k in layers}, tile).items()})
        return found

    @staticmethod
    def _energy(tiles: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        """Each layer's mean square over the whole photo's activations (what an untiled run divides by)."""
        return {name: torch.stack([t[name].pow(2).sum() for t in tiles]).sum().reshape(1)
                / sum(t[name].numel() for t in tiles) for name in tiles[0]}  # fmt: skip

    def targets(self, row: int, index: int) -> Targets:
        """Tile `index` of picture `row`: its content, the global style targets, its part of the masks."""
        whole = self.objective.targets
        key = (row, index)
        if key not in self.guidance:
            self.guidance[key] = _cropped(whole.guidance, row, self.tiles[index].core)
        if row not in self.style:
            self.style[row] = {k: target_rows(t, torch.tensor([row], device=next(iter(t.values())).device))
                               for k, t in whole.style.items()}  # fmt: skip
        return Targets(self.content[row][index], self.style[row], self.guidance[key])

    def __call__(self, objective: Objective, points: torch.Tensor, rows: Sequence[int]) -> Evaluated:
        done = [self.evaluate(points[k : k + 1], row) for k, row in enumerate(rows)]
        scale = float(points.shape[-1] * points.shape[-2])
        return Evaluated(torch.tensor([d[0] for d in done], device=points.device), [d[1] for d in done], scale)

    def evaluate(self, image: torch.Tensor, row: int) -> tuple[list[float], torch.Tensor]:
        """Loss terms (total, content, style, tv, 1 if the gradient is finite) and gradient of one image
        (1, 3, H, W), scaled by H*W as `evaluate_together` does. Tiles read the host per tile anyway: a
        picture this large takes far longer to evaluate than a read."""
        height, width = image.shape[-2:]
        scale = float(height * width)
        grad = torch.zeros_like(image)
        exact = isinstance(self.objective.statistic, MomentStatistic)
        style, pulls = self._whole_style(image, row) if exact else (0.0, {})
        content = 0.0
        for index, tile in enumerate(self.tiles):
            part = crop(image, tile.crop).detach().clone().requires_grad_(True)
            core = self.core(self.objective.features(part), tile)
            share = tile.area / scale
            loss, tile_content, tile_style = self._tile_loss(core, self.targets(row, index), self.energy[row],
                                                             share, pulls if exact else None)  # fmt: skip
            (loss * scale).backward()  # type: ignore[no-untyped-call]
            assert part.grad is not None
            crop(grad, tile.crop).add_(part.grad)
            content, style = content + share * tile_content, style + share * tile_style
            if self.on_tile is not None:
                self.on_tile(index + 1, len(self.tiles))
        whole = image.detach().clone().requires_grad_(True)
        nothing = torch.zeros(1, device=image.device)
        anchor = self.objective.anchor.rows([row]) if self.objective.anchor is not None else None
        pixels = self.objective.combined(nothing, nothing, whole, anchor)  # tv, range, temporal: cheap, whole
        if pixels.total.requires_grad:
            (pixels.total.sum() * scale).backward()  # type: ignore[no-untyped-call]
            assert whole.grad is not None
            grad.add_(whole.grad)
        total = self.objective.weighted(torch.tensor(content), torch.tensor(style)).item() + pixels.total.item()
        finite = float(bool(torch.isfinite(grad).all()))
        return [total, content, style, pixels.tv.item(), finite], grad.reshape(-1)

    def _tile_loss(self, core: dict[str, torch.Tensor], targets: Targets, energy: dict[str, torch.Tensor],
                   share: float, pulls: dict[str, Moments] | None) -> tuple[torch.Tensor, float, float]:  # fmt: skip
        """A tile's part of the weighted total, to differentiate, and its content and style errors.
        With `pulls`, the style is the whole picture's (already counted), pulled on this tile's moments;
        without (sliced: sorting does not add up over tiles), this tile's own against the global target."""
        content, style = self.objective.scored(core, targets, energy, style=pulls is None)
        loss = self.objective.weighted(content, style).sum() * share
        if pulls is not None:
            loss = loss + pulled(self.objective, core, targets.guidance, pulls)
        return loss, content.item(), style.item()

    def _whole_style(self, image: torch.Tensor, row: int) -> tuple[float, dict[str, Moments]]:
        """A pass over the tiles without gradients: the whole picture's style error and pulls (tiled_style)."""
        sums = MomentSums()
        with torch.no_grad():
            for index, tile in enumerate(self.tiles):
                core = self.core(self.objective.features(crop(image, tile.crop)), tile)
                sums.add(tile_moments(self.objective, core, self.targets(row, index).guidance))
        return sums.pulls(self.objective, self.targets(row, 0).style, self._shares(row))

    def _shares(self, row: int) -> torch.Tensor | None:
        """Each region's share of the whole picture (None: no regions), as an untiled run has it."""
        guide = self.objective.targets.guidance
        if guide is None or guide.style_masks is None:
            return None
        masks = guide.style_masks
        return masks[min(row, len(masks) - 1)][None].mean((-1, -2))


def _cropped(guidance: Guidance | None, row: int, box: tuple[int, int, int, int]) -> Guidance | None:
    """Picture `row`'s masks (shared ones as they are) cut to `box`."""
    if guidance is None:
        return None

    def cut(masks: torch.Tensor | None) -> torch.Tensor | None:
        return None if masks is None else crop(masks[min(row, len(masks) - 1)][None], box)

    return Guidance(cut(guidance.style_masks), cut(guidance.content_weights))
