"""The objective over one image or a batch: targets computed once, then each image's weighted loss."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..network.extractor import FeatureExtractor
from ..network.layers import LayerChoice
from ..network.precision import network_precision
from .guidance import Guidance, stack_guidance
from .losses import (
    content_loss,
    gram,
    guided_gram,
    guided_style_loss,
    out_of_range,
    style_loss,
    total_variation,
    weighted_content_loss,
)


@dataclass(frozen=True)
class LossWeights:
    """How much each term counts in the objective (the --*-weight flags)."""

    content: float
    style: float
    tv: float = 0.0  # total variation; 0: not computed
    range: float = 0.0  # penalty on pixels outside 0..1 (see config.py); 0: not computed


@dataclass(frozen=True)
class Targets:
    content: dict[str, torch.Tensor]  # layer -> (N, C, h, w) activations of each image's content photo
    grams: dict[str, torch.Tensor]  # layer -> (N or 1, C, C) blended Gram matrices of each image's styles,
    # or with guidance.style_masks (N or 1, R, C, C): region r's style
    guidance: Guidance | None = None  # style regions and content weights; None: the whole picture alike

    def rows(self, rows: Sequence[int] | None) -> Targets:
        """The targets of some of the images (None: all)."""
        first = next(iter(self.content.values()))
        if rows is None or list(rows) == list(range(len(first))):  # every image, in order: no copies per evaluation
            return self
        index = torch.tensor(list(rows), device=first.device)
        grams = {k: g if g.shape[0] == 1 else g.index_select(0, index) for k, g in self.grams.items()}
        guidance = None if self.guidance is None else self.guidance.rows(index)
        return Targets({k: c.index_select(0, index) for k, c in self.content.items()}, grams, guidance)


def stack_targets(parts: Sequence[Targets]) -> Targets:
    """One Targets for a batch, row i from parts[i] (each part holds one image)."""
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    return Targets({k: torch.cat([p.content[k] for p in parts]) for k in first.content},
                   {k: torch.cat([p.grams[k] for p in parts]) for k in first.grams},
                   stack_guidance([p.guidance for p in parts]))  # fmt: skip


@dataclass(frozen=True)
class LossTerms:
    total: torch.Tensor  # (N,) weighted sum per image, the value that is optimised
    content: torch.Tensor  # (N,) unweighted content error
    style: torch.Tensor  # (N,) unweighted style error
    tv: torch.Tensor  # (N,) unweighted total variation


def blend_shares(blend: Sequence[float] | None, count: int) -> list[float]:
    """Each of `count` styles' share of a blend: the `blend` weights (default: equal) over their sum."""
    weights = list(blend) if blend is not None else [1.0] * count
    if len(weights) != count:
        raise ValueError(f"{len(weights)} blend weights for {count} styles")
    total = sum(weights)
    return [weight / total for weight in weights]


@torch.no_grad()
def style_grams(
    extractor: FeatureExtractor,
    choice: LayerChoice,
    styles: Sequence[torch.Tensor],
    blend: Sequence[float] | None = None,
    dtype: torch.dtype = torch.float32,
) -> dict[str, torch.Tensor]:
    """The styles' Gram matrices, blended by `blend` (default: equal), layer -> (1, C, C)."""
    grams: dict[str, torch.Tensor] = {}
    for style, share in zip(styles, blend_shares(blend, len(styles)), strict=True):
        with network_precision(style.device, dtype):  # entered per image: the Gram matrices stay outside it
            features = extractor(style)
        for lw in choice.style:
            g = gram(features[lw.name]) * share  # (1, C, C)
            grams[lw.name] = grams[lw.name] + g if lw.name in grams else g
    return grams


@torch.no_grad()
def region_grams(
    extractor: FeatureExtractor,
    choice: LayerChoice,
    styles: Sequence[torch.Tensor],
    sources: Sequence[torch.Tensor | None],
    dtype: torch.dtype = torch.float32,
) -> dict[str, torch.Tensor]:
    """Each style's own Gram matrices, from the part of it that its source mask (1, 1, h, w) covers
    (None: all of it), layer -> (1, R, C, C), one region per style."""
    per_style: list[dict[str, torch.Tensor]] = []
    for style, source in zip(styles, sources, strict=True):
        with network_precision(style.device, dtype):
            features = extractor(style)
        guide = Guidance(style_masks=source) if source is not None else None
        per_style.append({lw.name: gram(features[lw.name]) if guide is None
                          else guided_gram(features[lw.name], guide.at("style", features[lw.name]))[:, 0]
                          for lw in choice.style})  # fmt: skip
    return {lw.name: torch.stack([g[lw.name] for g in per_style], 1) for lw in choice.style}


@torch.no_grad()
def content_features(
    extractor: FeatureExtractor, choice: LayerChoice, content: torch.Tensor, dtype: torch.dtype = torch.float32
) -> dict[str, torch.Tensor]:
    """The content layers' activations of one photo (1, 3, H, W), as float32."""
    with network_precision(content.device, dtype):
        features = extractor(content)
    return {lw.name: features[lw.name].float() for lw in choice.content}


class Objective:
    """weights.content * content + weights.style * style + weights.tv * tv (+ range), per image of a batch."""

    def __init__(
        self,
        extractor: FeatureExtractor,
        choice: LayerChoice,
        targets: Targets,
        weights: LossWeights,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        self.extractor = extractor
        self.choice = choice
        self.targets = targets
        self.weights = weights
        self.dtype = dtype  # the network's precision; the losses below are always float32

    def __call__(self, image: torch.Tensor, rows: Sequence[int] | None = None) -> LossTerms:
        """Loss terms of images (k, 3, H, W) in [0, 1], which are the targets' `rows` (default: all)."""
        targets = self.targets.rows(rows)
        with network_precision(image.device, self.dtype):
            features = self.extractor(image)
        content, style = self._content(features, targets), self._style(features, targets)
        weights = self.weights
        no_tv = torch.zeros(image.shape[0], device=image.device)
        tv = total_variation(image) if weights.tv > 0 else no_tv
        total = weights.content * content + weights.style * style + weights.tv * tv
        if weights.range > 0:  # not reported: it is 0 for any image that can be saved as is
            total = total + weights.range * out_of_range(image)
        return LossTerms(total, content, style, tv)

    def _content(self, features: dict[str, torch.Tensor], targets: Targets) -> torch.Tensor:
        guide, layers = targets.guidance, self.choice.content
        if guide is None or guide.content_weights is None:
            return content_loss(features, targets.content, layers)
        weights = {lw.name: guide.at("content", features[lw.name]) for lw in layers}
        return weighted_content_loss(features, targets.content, layers, weights)

    def _style(self, features: dict[str, torch.Tensor], targets: Targets) -> torch.Tensor:
        guide, layers = targets.guidance, self.choice.style
        if guide is None or guide.style_masks is None:
            return style_loss(features, targets.grams, layers)
        masks = {lw.name: guide.at("style", features[lw.name]) for lw in layers}
        return guided_style_loss(features, targets.grams, layers, masks, guide.shares)
