"""What each pass of a harmonization compares the region against (optimize/harmonized.RegionAims).

Pass 1 (the paper's robust coarse pass): at relu3_1, relu4_1 and relu5_1 every region position
of the composite is matched on its own to its nearest painting patch; the style targets are the
Gram matrices of the matched painting features. Pass 2 (refinement): one mapping is found at
relu4_1 from pass 1's result, made coherent, and carried to relu1_1..relu4_1; each painting
position counts once in the Gram matrices (the paper's guard against a patch used many times),
and the matched features as they fall (repeats included) are the histogram loss's targets.
Content is relu4_1 of the composite, inside the region, in both passes.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ...losses.matching import carried_mapping, coherent_mapping, nearest_patches
from ...network.extractor import FeatureExtractor
from ...optimize.harmonized import RegionAims, matched_gram

CONTENT = ("relu4_1",)
FIRST_STYLE = ("relu3_1", "relu4_1", "relu5_1")  # the paper's first pass
SECOND_STYLE = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")  # the paper's second pass
HISTOGRAM = ("relu1_1", "relu4_1")  # the paper's histogram layers
REFERENCE = "relu4_1"  # where the second pass finds its mapping
INSIDE = 0.5  # a layer position is in the region where the region covers at least this share of it

Features = dict[str, torch.Tensor]


def layer_positions(region: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(k,) flat positions of `like`'s (1, C, h, w) grid that `region` (1, 1, H, W) float covers
    (area share at least INSIDE; any share where that leaves none)."""
    share = F.interpolate(region, size=like.shape[-2:], mode="area").reshape(-1)
    inside = torch.nonzero(share >= INSIDE).squeeze(1)
    return inside if inside.numel() else torch.nonzero(share > 0).squeeze(1)


def _at(features: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """(1, C, h, w), (k,) -> (C, k) float32."""
    return features[0].reshape(features.shape[1], -1).index_select(1, positions).float()


def _content(composite: Features, where: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {layer: _at(composite[layer], where[layer]) for layer in CONTENT}


def extract(extractor: FeatureExtractor, image: torch.Tensor, dtype: torch.dtype, layers: Sequence[str]) -> Features:
    with torch.no_grad():
        found = extractor(image, dtype)
    return {layer: found[layer].float() for layer in layers}


def first_pass(composite: Features, painting: Features, region: torch.Tensor, base: torch.Tensor,
               blend: torch.Tensor) -> RegionAims:  # fmt: skip
    """Each region position of the composite matched independently at FIRST_STYLE."""
    where = {layer: layer_positions(region, composite[layer]) for layer in {*FIRST_STYLE, *CONTENT}}
    grams = {}
    for layer in FIRST_STYLE:
        found = nearest_patches(composite[layer], painting[layer], where[layer])
        grams[layer] = matched_gram(_at(painting[layer], found))
    return RegionAims(base, blend, where, _content(composite, where), grams, {})


def second_pass(start: Features, composite: Features, painting: Features, region: torch.Tensor,
                base: torch.Tensor, blend: torch.Tensor) -> RegionAims:  # fmt: skip
    """One coherent mapping of pass 1's result (`start`) at REFERENCE, carried to SECOND_STYLE."""
    where = {layer: layer_positions(region, start[layer]) for layer in {*SECOND_STYLE, *CONTENT}}
    reference = nearest_patches(start[REFERENCE], painting[REFERENCE])  # every position: finer layers need them
    shape, bank_shape = _grid(start[REFERENCE]), _grid(painting[REFERENCE])
    reference = coherent_mapping(reference, shape, painting[REFERENCE])
    grams, histograms = {}, {}
    for layer in SECOND_STYLE:
        mapping = carried_mapping(reference, shape, bank_shape, _grid(start[layer]), _grid(painting[layer]))
        found = mapping.index_select(0, where[layer])
        grams[layer] = matched_gram(_at(painting[layer], torch.unique(found)))
        if layer in HISTOGRAM:
            histograms[layer] = _at(painting[layer], found)
    return RegionAims(base, blend, where, _content(composite, where), grams, histograms)


def _grid(features: torch.Tensor) -> tuple[int, int]:
    return int(features.shape[-2]), int(features.shape[-1])
