"""The objective of painterly harmonization: a pasted region painted like the painting around it.

Deep Painterly Harmonization (Luan et al. 2018), eq. 1 and 4: inside the region, content at
relu4_1 against the naive composite, style as the Gram matrices of the painting features matched
to the region (losses/matching.py), optionally the histogram loss on the same matched features
and total variation. Outside the region the picture is the painting: the optimised image is only
ever seen blended into it by `blend` (1 deep inside the region, falling to 0 at its edge), so the
gradient there is 0 and no pixel outside can move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..losses.core import EPS, relative_mse, total_variation
from ..losses.histogram import histogram_error
from ..network.extractor import FeatureExtractor
from ..network.layers import LayerChoice
from .objective import LossTerms, LossWeights, Objective
from .targets import Targets


@dataclass(frozen=True)
class RegionAims:
    """What the region is compared against at one size (all of one picture, on the run's device)."""

    base: torch.Tensor  # (1, 3, h, w) the painting, which the picture is outside the region
    blend: torch.Tensor  # (1, 1, h, w) in [0, 1]: how much of the optimised image shows (0 outside the region)
    where: dict[str, torch.Tensor]  # layer -> (k,) flat positions of the layer's grid inside the region
    content: dict[str, torch.Tensor]  # content layer -> (C, k) the composite's features there
    grams: dict[str, torch.Tensor]  # style layer -> (C, C) Gram matrix of the matched painting features
    histograms: dict[str, torch.Tensor]  # layer -> (C, m) matched painting features, for the histogram loss

    def picture(self, image: torch.Tensor) -> torch.Tensor:
        """The optimised images (k, 3, h, w) as pictures: the painting outside the region."""
        return self.base + self.blend * (image - self.base)


class HarmonizedObjective(Objective):
    """content * content + style * (Gram + histogram_share * histogram) + tv * total variation, over
    the region only, of images blended into the painting (`RegionAims.picture`)."""

    def __init__(self, extractor: FeatureExtractor, choice: LayerChoice, aims: RegionAims, weights: LossWeights,
                 histogram_share: float, dtype: torch.dtype = torch.float32) -> None:  # fmt: skip
        super().__init__(extractor, choice, Targets({}, {}), weights, dtype)
        self.aims = aims
        self.histogram_share = histogram_share

    def __call__(self, image: torch.Tensor, rows: Sequence[int] | None = None) -> LossTerms:
        picture = self.aims.picture(image)
        features = self.features(picture)
        content = torch.stack([self._content_error(features, row) for row in range(len(image))])
        style = torch.stack([self._style_error(features, row) for row in range(len(image))])
        weights = self.weights
        tv = total_variation(picture) if weights.tv > 0 else torch.zeros_like(content)
        total = weights.content * content + weights.style * style + weights.tv * tv
        return LossTerms(total, content, style, tv)

    def _inside(self, features: dict[str, torch.Tensor], layer: str, row: int) -> torch.Tensor:
        """(C, k) one image's features at `layer` inside the region."""
        found = features[layer][row]
        return found.reshape(found.shape[0], -1).index_select(1, self.aims.where[layer]).float()

    def _content_error(self, features: dict[str, torch.Tensor], row: int) -> torch.Tensor:
        errors = [relative_mse(self._inside(features, layer, row)[None], target[None])[0]
                  for layer, target in self.aims.content.items()]  # fmt: skip
        return torch.stack(errors).mean()

    def _style_error(self, features: dict[str, torch.Tensor], row: int) -> torch.Tensor:
        inside = {layer: self._inside(features, layer, row) for layer in {*self.aims.grams, *self.aims.histograms}}
        errors = []
        for layer, target in self.aims.grams.items():
            errors.append((matched_gram(inside[layer]) - target).pow(2).sum() / (target.pow(2).sum() + EPS))
        style = torch.stack(errors).mean()
        if self.histogram_share > 0 and self.aims.histograms:
            histogram = torch.stack([histogram_error(inside[layer], target)
                                     for layer, target in self.aims.histograms.items()]).mean()  # fmt: skip
            style = style + self.histogram_share * histogram
        return style


def matched_gram(values: torch.Tensor) -> torch.Tensor:
    """(C, k) features at k positions -> (C, C), normalised by C * k as `losses.core.gram` is."""
    return values @ values.T / (values.shape[0] * values.shape[1])
