"""Where each style applies and how much the photo counts, per pixel, at each layer's resolution.

Masks at a stage's size are brought to each layer's resolution by area averaging.

Gatys et al. 2017 bring guidance channels to a layer either by simple downsampling or by
keeping only the neurons whose receptive field lies inside the region. Area averaging is the
first way, done so that a layer's cell gets the fraction of its pixels that lie in the region:
soft masks stay soft, and thin regions do not vanish at relu5_1 (1/16 of the picture's size) as
they do when eroded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Guidance:
    """Per-pixel guidance of a batch at one stage's size (rows: one per image, or one shared)."""

    style_masks: torch.Tensor | None = None  # (N|1, R, H, W) in [0, 1]: region r takes style r
    content_weights: torch.Tensor | None = None  # (N|1, 1, H, W) >= 0: how much the photo counts there
    pooled: dict[tuple[str, int, int], torch.Tensor] = field(default_factory=dict, compare=False, repr=False)

    @property
    def shares(self) -> torch.Tensor:
        """(N|1, R): each region's part of the picture (its mean weight)."""
        assert self.style_masks is not None
        return self.style_masks.mean((-1, -2))

    def at(self, which: str, like: torch.Tensor) -> torch.Tensor:
        """The style masks or the content weights (`which`) at the resolution of features `like`."""
        masks = self.style_masks if which == "style" else self.content_weights
        assert masks is not None
        height, width = like.shape[-2:]
        key = (which, height, width)
        if key not in self.pooled:
            self.pooled[key] = F.adaptive_avg_pool2d(masks, (height, width))
        return self.pooled[key]

    def rows(self, index: torch.Tensor) -> Guidance:
        """The guidance of some images of the batch (`index`, on the masks' device); itself, with the
        masks it has already brought to each layer, when every image shares them (one row)."""
        if all(m is None or m.shape[0] == 1 for m in (self.style_masks, self.content_weights)):
            return self

        def pick(masks: torch.Tensor | None) -> torch.Tensor | None:
            return masks if masks is None or masks.shape[0] == 1 else masks.index_select(0, index)

        return Guidance(pick(self.style_masks), pick(self.content_weights))


def stack_guidance(parts: Sequence[Guidance | None]) -> Guidance | None:
    """One Guidance for a batch, row i from parts[i] (each part holds one image); all or none."""
    if parts[0] is None:
        return None
    if len(parts) == 1:
        return parts[0]

    def cat(masks: Sequence[torch.Tensor | None]) -> torch.Tensor | None:
        return None if masks[0] is None else torch.cat([m for m in masks if m is not None])

    guided = [p for p in parts if p is not None]
    if len(guided) != len(parts):
        raise ValueError("a batch needs guidance for every picture or for none")
    return Guidance(cat([p.style_masks for p in guided]), cat([p.content_weights for p in guided]))
