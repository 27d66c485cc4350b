"""What the objective compares against, computed once per size: the photo's activations and the styles' targets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..losses.guidance import Guidance, stack_guidance
from ..losses.moments import GramStatistic
from ..losses.statistics import StyleStatistic, StyleTarget, stack_regions, target_rows
from ..network.extractor import FeatureExtractor
from ..network.layers import LayerChoice
from .tiles.tile_grid import Tiling, crop


@dataclass(frozen=True)
class Targets:
    content: dict[str, torch.Tensor]  # layer -> (N, C, h, w) activations of each image's content photo
    style: dict[str, StyleTarget]  # layer -> the blended styles' target parts (N or 1, ...), as the style
    # loss's statistic made them; with guidance.style_masks (N or 1, R, ...): region r's style
    guidance: Guidance | None = None  # style regions and content weights; None: the whole picture alike

    def rows(self, rows: Sequence[int] | None) -> Targets:
        """The targets of some of the images (None: all)."""
        first = next(iter(self.content.values()), None)  # none in tiles: each tile has its own (tiling.py)
        if rows is None or (first is not None and list(rows) == list(range(len(first)))):  # all, in order: no copies
            return self
        device = first.device if first is not None else next(iter(next(iter(self.style.values())).values())).device
        index = torch.tensor(list(rows), device=device)
        guidance = None if self.guidance is None else self.guidance.rows(index)
        return Targets({k: c.index_select(0, index) for k, c in self.content.items()},
                       {k: target_rows(t, index) for k, t in self.style.items()}, guidance)  # fmt: skip


def stack_targets(parts: Sequence[Targets]) -> Targets:
    """One Targets for a batch, row i from parts[i] (each part holds one image)."""
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    style = {k: {name: torch.cat([p.style[k][name] for p in parts]) for name in first.style[k]} for k in first.style}
    return Targets({k: torch.cat([p.content[k] for p in parts]) for k in first.content}, style,
                   stack_guidance([p.guidance for p in parts]))  # fmt: skip


def blend_shares(blend: Sequence[float] | None, count: int) -> list[float]:
    """Each of `count` styles' share of a blend: the `blend` weights (default: equal) over their sum."""
    weights = list(blend) if blend is not None else [1.0] * count
    if len(weights) != count:
        raise ValueError(f"{len(weights)} blend weights for {count} styles")
    total = sum(weights)
    return [weight / total for weight in weights]


@torch.no_grad()
def style_targets(
    extractor: FeatureExtractor,
    choice: LayerChoice,
    styles: Sequence[torch.Tensor],
    blend: Sequence[float] | None = None,
    dtype: torch.dtype = torch.float32,
    statistic: StyleStatistic | None = None,
    sources: Sequence[torch.Tensor | None] = (),
    regions: bool = False,
    tiling: Tiling | None = None,
) -> dict[str, StyleTarget]:
    """The styles' targets per layer (`statistic`, default the Gram matrix): blended by `blend` (default:
    equal) into one (rows: 1), or with `regions` one per style, (1, R, ...). Each style is taken from
    the part of it that its source mask (1, 1, h, w) covers (no sources or None: all of it). With
    `tiling`, each style is seen a tile at a time (a style as large as a picture that needs tiles):
    its distribution is the mixture of its tiles', by their share of it, as a blend is of styles'."""
    statistic = statistic or GramStatistic()
    sources = sources or (None,) * len(styles)
    pieces = [_described(extractor, choice, style, source, dtype, statistic, tiling)
              for style, source in zip(styles, sources, strict=True)]  # fmt: skip
    if regions:
        return {lw.name: stack_regions([statistic.mix([s[lw.name] for s, _ in p], [w for _, w in p]) for p in pieces])
                for lw in choice.style}  # fmt: skip
    shares = blend_shares(blend, len(styles))
    summaries = [summary for p in pieces for summary, _ in p]
    shares = [share * within for share, p in zip(shares, pieces, strict=True) for _, within in p]
    return {lw.name: statistic.mix([s[lw.name] for s in summaries], shares) for lw in choice.style}


Pieces = list[tuple[dict[str, StyleTarget], float]]  # a style's summaries per layer, each with its share of it


def _described(extractor: FeatureExtractor, choice: LayerChoice, style: torch.Tensor, source: torch.Tensor | None,
               dtype: torch.dtype, statistic: StyleStatistic, tiling: Tiling | None) -> Pieces:  # fmt: skip
    """One style's summaries: of all of it (share 1), or of each tile, by its share of the style (its
    area, or its source mask's weight there)."""
    height, width = style.shape[-2:]
    tiles = tiling.tiles(height, width) if tiling is not None else ()
    if len(tiles) <= 1:
        return [(_describe(extractor, choice, style, source, dtype, statistic), 1.0)]
    pieces = []
    for tile in tiles:
        core = tiling.core(_features(extractor, crop(style, tile.crop), dtype), tile)  # type: ignore[union-attr]
        part = None if source is None else crop(source, tile.core)
        weight = float(part.sum()) if part is not None else float(tile.area)
        pieces.append((_summaries(choice, core, part, statistic), weight))
    total = sum(weight for _, weight in pieces) or 1.0
    return [(summary, weight / total) for summary, weight in pieces if weight > 0] or pieces[:1]


def _describe(extractor: FeatureExtractor, choice: LayerChoice, style: torch.Tensor, source: torch.Tensor | None,
              dtype: torch.dtype, statistic: StyleStatistic) -> dict[str, StyleTarget]:  # fmt: skip
    return _summaries(choice, _features(extractor, style, dtype), source, statistic)


def _features(extractor: FeatureExtractor, image: torch.Tensor, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    features: dict[str, torch.Tensor] = extractor(image, dtype)
    return features


def _summaries(choice: LayerChoice, features: dict[str, torch.Tensor], source: torch.Tensor | None,
               statistic: StyleStatistic) -> dict[str, StyleTarget]:  # fmt: skip
    return {lw.name: statistic.describe(features[lw.name].float(), _at(source, features[lw.name]))
            for lw in choice.style}  # fmt: skip


def _at(source: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor | None:
    """A style's source mask at the resolution of its features `like` (area averaging, as guidance.py)."""
    return None if source is None else Guidance(style_masks=source).at("style", like)


@torch.no_grad()
def content_features(
    extractor: FeatureExtractor, choice: LayerChoice, content: torch.Tensor, dtype: torch.dtype = torch.float32
) -> dict[str, torch.Tensor]:
    """The content layers' activations of one photo (1, 3, H, W), as float32."""
    features = extractor(content, dtype)
    return {lw.name: features[lw.name].float() for lw in choice.content}
