"""The objective of one run: targets computed once, then the weighted loss of any image."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .features import FeatureExtractor
from .layers import LayerChoice
from .losses import content_loss, gram, out_of_range, style_loss, total_variation
from .precision import network_precision


@dataclass(frozen=True)
class Targets:
    content: dict[str, torch.Tensor]  # layer -> (1, C, h, w) activations of the content image
    grams: dict[str, torch.Tensor]  # layer -> (1, C, C) blended Gram matrices of the styles


@dataclass(frozen=True)
class LossTerms:
    total: torch.Tensor  # weighted sum, scalar, the value that is optimised
    content: torch.Tensor  # unweighted content error
    style: torch.Tensor  # unweighted style error
    tv: torch.Tensor  # unweighted total variation


@torch.no_grad()
def compute_targets(
    extractor: FeatureExtractor,
    choice: LayerChoice,
    content: torch.Tensor,
    styles: Sequence[torch.Tensor],
    blend: Sequence[float] | None = None,
    dtype: torch.dtype = torch.float32,
) -> Targets:
    """Content activations and the style Gram matrices, blended by `blend` (default: equal)."""
    weights = list(blend) if blend is not None else [1.0] * len(styles)
    if len(weights) != len(styles):
        raise ValueError(f"{len(weights)} blend weights for {len(styles)} styles")
    total = sum(weights)
    device = content.device
    with network_precision(device, dtype):
        content_features = extractor(content)
    grams: dict[str, torch.Tensor] = {}
    for style, weight in zip(styles, weights, strict=True):
        with network_precision(device, dtype):
            features = extractor(style)
        for lw in choice.style:
            g = gram(features[lw.name]) * (weight / total)  # (1, C, C)
            grams[lw.name] = grams[lw.name] + g if lw.name in grams else g
    return Targets({lw.name: content_features[lw.name].float() for lw in choice.content}, grams)


class Objective:
    """content_weight * content + style_weight * style + tv_weight * tv for an image."""

    def __init__(
        self,
        extractor: FeatureExtractor,
        choice: LayerChoice,
        targets: Targets,
        content_weight: float,
        style_weight: float,
        tv_weight: float,
        range_weight: float = 0.0,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        self.extractor = extractor
        self.choice = choice
        self.targets = targets
        self.weights = (content_weight, style_weight, tv_weight)
        self.range_weight = range_weight
        self.dtype = dtype  # the network's precision; the losses below are always float32

    def __call__(self, image: torch.Tensor) -> LossTerms:  # image: (1, 3, H, W) in [0, 1]
        with network_precision(image.device, self.dtype):
            features = self.extractor(image)
        content = content_loss(features, self.targets.content, self.choice.content)
        style = style_loss(features, self.targets.grams, self.choice.style)
        tv = total_variation(image) if self.weights[2] > 0 else torch.zeros((), device=image.device)
        total = self.weights[0] * content + self.weights[1] * style + self.weights[2] * tv
        if self.range_weight > 0:  # not reported: it is 0 for any image that can be saved as is
            total = total + self.range_weight * out_of_range(image)
        return LossTerms(total, content, style, tv)
