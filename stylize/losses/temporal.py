"""The temporal term of a video frame (Ruder, Dosovitskiy and Brox, 2016): stay near the last frame's picture.

Each frame after the first is pulled toward the previous stylised frame warped into it by the
optical flow (`Anchor.image`), on the pixels where that warp can be trusted (`Anchor.confidence`:
0 where the pixel was hidden in the previous frame or sits on a motion boundary, 1 elsewhere).
The error is the paper's: the confidence-weighted squared difference, averaged over all pixels
and channels, so a frame with more disoccluded area is pulled less.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Anchor:
    """Where each image of a batch should stay: (N, 3, H, W) pictures in [0, 1] and (N, 1, H, W) weights in [0, 1]."""

    image: torch.Tensor
    confidence: torch.Tensor

    def rows(self, rows: Sequence[int] | None) -> Anchor:
        if rows is None or list(rows) == list(range(self.image.shape[0])):
            return self
        index = torch.tensor(list(rows), device=self.image.device)
        return Anchor(self.image.index_select(0, index), self.confidence.index_select(0, index))

    def resized(self, height: int, width: int) -> Anchor:
        """The anchor at another size (a coarser stage of a frame)."""
        if self.image.shape[-2:] == (height, width):
            return self
        image = F.interpolate(self.image, size=(height, width), mode="bilinear", align_corners=False)
        confidence = F.interpolate(self.confidence, size=(height, width), mode="bilinear", align_corners=False)
        return Anchor(image, confidence)

    def to(self, device: torch.device) -> Anchor:
        return Anchor(self.image.to(device), self.confidence.to(device))


def temporal_error(image: torch.Tensor, anchor: Anchor) -> torch.Tensor:
    """(N, 3, H, W) images -> (N,) mean of confidence * squared difference to the anchor's pictures."""
    difference = (image.float() - anchor.image) ** 2 * anchor.confidence
    return difference.mean(dim=(1, 2, 3))


def stack_anchors(anchors: Sequence[Anchor | None]) -> Anchor | None:
    """One anchor for a batch (None if no image has one; an image without one gets confidence 0)."""
    present = [a for a in anchors if a is not None]
    if not present:
        return None
    like = present[0]
    images = [a.image if a is not None else torch.zeros_like(like.image) for a in anchors]
    weights = [a.confidence if a is not None else torch.zeros_like(like.confidence) for a in anchors]
    return Anchor(torch.cat(images), torch.cat(weights))
