"""The objective over one image or a batch: targets computed once, then each image's weighted loss."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..losses.core import content_loss, out_of_range, total_variation, weighted_content_loss, weighted_mean
from ..losses.moments import GramStatistic
from ..losses.statistics import StyleStatistic
from ..losses.temporal import Anchor, temporal_error
from ..network.extractor import FeatureExtractor
from ..network.layers import LayerChoice
from .fused_terms import FusedTerms
from .targets import Targets


@dataclass(frozen=True)
class LossWeights:
    """How much each term counts in the objective (the --*-weight flags)."""

    content: float
    style: float
    tv: float = 0.0  # total variation; 0: not computed
    range: float = 0.0  # penalty on pixels outside 0..1 (see config.py); 0: not computed
    temporal: float = 0.0  # pull toward the previous video frame's picture (temporal.py); counts with an anchor


@dataclass(frozen=True)
class LossTerms:
    total: torch.Tensor  # (N,) weighted sum per image, the value that is optimised
    content: torch.Tensor  # (N,) unweighted content error
    style: torch.Tensor  # (N,) unweighted style error
    tv: torch.Tensor  # (N,) unweighted total variation


@dataclass(frozen=True)
class Rows:
    """What an evaluation of some of the images compares against, prepared once for those rows."""

    targets: Targets
    anchor: Anchor | None
    fused: FusedTerms | None  # the default terms' fast form, where it applies


class Objective:
    """weights.content * content + weights.style * style + weights.tv * tv (+ range, + temporal where an
    `anchor` is given), per image of a batch."""

    def __init__(
        self,
        extractor: FeatureExtractor,
        choice: LayerChoice,
        targets: Targets,
        weights: LossWeights,
        dtype: torch.dtype = torch.float32,
        statistic: StyleStatistic | None = None,
        anchor: Anchor | None = None,
    ) -> None:
        self.extractor = extractor
        self.choice = choice
        self.targets = targets
        self.weights = weights
        self.dtype = dtype  # the network's precision; the losses below are always float32
        self.statistic = statistic or GramStatistic()  # what the style term compares (--style-loss)
        self.anchor = anchor  # video: where each image should stay (temporal.py); None: no temporal term
        self._cache: dict[tuple[int, ...] | None, Rows] = {}  # rows -> their targets, prepared (`_prepared`)
        self._cache_for, self._cache_anchor = targets, anchor  # what the cache was made from
        self._weights_on: dict[tuple[tuple[float, ...], torch.device], torch.Tensor] = {}

    def __call__(self, image: torch.Tensor, rows: Sequence[int] | None = None) -> LossTerms:
        """Loss terms of images (k, 3, H, W) in [0, 1], which are the targets' `rows` (default: all)."""
        prepared = self._prepared(rows)
        features = self.features(image)
        if prepared.fused is not None:
            content, style = prepared.fused.errors(features)
        else:
            content, style = self._content(features, prepared.targets), self._style(features, prepared.targets)
        return self.combined(content, style, image, prepared.anchor)

    def _prepared(self, rows: Sequence[int] | None) -> Rows:
        """The targets of `rows`, made once per set of rows (a batch asks for the same rows every round)."""
        if self._cache_for is not self.targets or self._cache_anchor is not self.anchor:
            self._cache.clear()
            self._cache_for, self._cache_anchor = self.targets, self.anchor
        key = None if rows is None else tuple(rows)
        if key not in self._cache:
            targets = self.targets.rows(rows)
            anchor = self.anchor.rows(rows) if self.anchor is not None else None
            self._cache[key] = Rows(targets, anchor, FusedTerms.of(self.choice, targets, self.statistic))
        return self._cache[key]

    def features(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """The hooked layers' activations of images (k, 3, H, W), in the network's precision."""
        features: dict[str, torch.Tensor] = self.extractor(image, self.dtype)
        return features

    def scored(self, features: dict[str, torch.Tensor], targets: Targets, energy: dict[str, torch.Tensor] | None = None,
               style: bool = True) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
        """(content, style) errors (k,) of features against `targets` (a tile's, see tiling.py); content
        relative to `energy`, each layer's mean square of the whole photo's activations, where given;
        style only if `style` (else zeros)."""
        content = self._content(features, targets, energy)
        return content, self._style(features, targets) if style else torch.zeros_like(content)

    def combined(self, content: torch.Tensor, style: torch.Tensor, image: torch.Tensor,
                 anchor: Anchor | None = None) -> LossTerms:  # fmt: skip
        """The weighted total of content and style errors (k,) and the pixel terms of `image` (k, 3, H, W)
        (the temporal term toward `anchor`, its rows for these images, where given). Terms whose weight
        is 0 are not computed; the total is one product of the terms with their weights."""
        weights = self.weights
        terms, factors = [content, style], [weights.content, weights.style * self.statistic.balance]
        tv = total_variation(image) if weights.tv > 0 else None
        if tv is not None:
            terms, factors = [*terms, tv], [*factors, weights.tv]
        if weights.range > 0:  # not reported: it is 0 for any image that can be saved as is
            terms, factors = [*terms, out_of_range(image)], [*factors, weights.range]
        if anchor is not None and weights.temporal > 0:  # not reported either: it is the video's, not the picture's
            terms, factors = [*terms, temporal_error(image, anchor)], [*factors, weights.temporal]
        total = torch.stack(terms, 1) @ self._factors(tuple(factors), image.device)  # (k,)
        return LossTerms(total, content, style, tv if tv is not None else torch.zeros_like(content))

    def _factors(self, factors: tuple[float, ...], device: torch.device) -> torch.Tensor:
        """The weights as a tensor on `device`, made once per set of values."""
        key = (factors, device)
        if key not in self._weights_on:
            self._weights_on[key] = torch.tensor(factors, device=device)
        return self._weights_on[key]

    def weighted(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return self.weights.content * content + self.weights.style * self.statistic.balance * style

    def _content(self, features: dict[str, torch.Tensor], targets: Targets,
                 energy: dict[str, torch.Tensor] | None = None) -> torch.Tensor:  # fmt: skip
        guide, layers = targets.guidance, self.choice.content
        if guide is None or guide.content_weights is None:
            return content_loss(features, targets.content, layers, energy)
        weights = {lw.name: guide.at("content", features[lw.name]) for lw in layers}
        return weighted_content_loss(features, targets.content, layers, weights, energy)

    def _style(self, features: dict[str, torch.Tensor], targets: Targets) -> torch.Tensor:
        guide, layers, statistic = targets.guidance, self.choice.style, self.statistic
        if guide is None or guide.style_masks is None:
            errors = {lw.name: statistic.error(features[lw.name], targets.style[lw.name], None, None) for lw in layers}
        else:
            errors = {lw.name: statistic.error(features[lw.name], targets.style[lw.name],
                                               guide.at("style", features[lw.name]), guide.shares)
                      for lw in layers}  # fmt: skip
        return weighted_mean(errors, layers)
