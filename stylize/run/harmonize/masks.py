"""--harmonize MASK: where the object was pasted, and the region allowed to change around it.

The mask is read as --style-mask's are (alpha where it has transparency, else lightness) and cut
at half grey, so a JPEG mask's soft, noisy edge counts as white where it is mostly white. The
region is the mask dilated by --harmonize-margin percent of the long side (the paper's 11-14 px
at 700 px is 1.7%), or --harmonize-region. Inside the region the optimised picture is blended
into the painting by `blend`: 1 from RAMP of the margin inwards, 0 at the region's edge, so the
edge cannot show a seam and nothing outside the region can change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from scipy import ndimage

from ...errors import SettingsError

MARGIN = 1.7  # percent of the long side: the paper's dilation (11-14 px at 700 px)
CUT = 128  # a mask is white (pasted) where its lightness is at least this
RAMP = 0.5  # the blend rises from 0 at the region's edge to 1 over this share of the margin (at least 2 px)


@dataclass(frozen=True)
class Harmonize:
    """One picture's harmonization masks (mode L; white = pasted / may change)."""

    pasted: Image.Image  # the pasted object
    region: Image.Image | None = None  # the region allowed to change; None: `pasted` dilated by `margin`
    margin: float = MARGIN  # percent of the long side


def cut(mask: Image.Image, height: int, width: int) -> np.ndarray:
    """(height, width) bool: the mask at that size, white where its lightness is at least CUT."""
    grey = mask if mask.mode == "L" else mask.convert("L")
    if grey.size != (width, height):
        grey = grey.resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(grey) >= CUT


def region_mask(masks: Harmonize, height: int, width: int) -> np.ndarray:
    """(height, width) bool: where the picture may change (always covering the pasted object)."""
    pasted = cut(masks.pasted, height, width)
    if masks.region is not None:
        given: np.ndarray = cut(masks.region, height, width) | pasted
        return given
    reach = masks.margin / 100 * max(height, width)
    if reach <= 0:
        return pasted
    grown: np.ndarray = ndimage.distance_transform_edt(~pasted) <= reach
    return grown


def blend_weights(region: np.ndarray, margin_px: float) -> torch.Tensor:
    """(1, 1, h, w) float32: 0 outside `region`, rising to 1 over RAMP of the margin from its edge."""
    ramp = max(2.0, RAMP * margin_px)
    inside = ndimage.distance_transform_edt(np.pad(region, 1))[1:-1, 1:-1]  # the image border is not an edge
    return torch.from_numpy(np.clip(inside / ramp, 0, 1).astype(np.float32))[None, None]


def check_masks(masks: Harmonize, size: tuple[int, int], flag: str = "--harmonize") -> None:
    """Usage errors for masks that cannot be harmonized: nothing pasted, or nothing of the painting left."""
    width, height = size
    pasted = cut(masks.pasted, height, width)
    if not pasted.any():
        raise SettingsError(f"{flag}: the mask has no white (pasted) part at the picture's size",
                            hint="white marks the pasted object; a mask is cut at half grey")  # fmt: skip
    if region_mask(masks, height, width).all():
        raise SettingsError(f"{flag}: the region to harmonize covers the whole picture, so nothing of the "
                            "painting is left to take the style from",
                            hint="leave part of the mask black: that part of the painting stays as it is")  # fmt: skip
