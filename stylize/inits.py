"""Starting images for the optimisation."""

from __future__ import annotations

import numpy as np
import torch
from scipy.ndimage import median_filter

NOISE_FILTER_PX = 8  # the lesson's median filter size


def smoothed_noise(height: int, width: int, seed: int) -> torch.Tensor:
    """Uniform noise in [0, 1] smoothed per channel with a median filter, as in the lesson.

    A median filter keeps blob edges sharp while removing pixel-level noise, so the optimiser
    starts from texture at roughly the scale of early VGG receptive fields. (1, 3, H, W).
    """
    rng = np.random.default_rng(seed)
    noise = rng.uniform(0.0, 1.0, size=(3, height, width)).astype(np.float32)
    smoothed = median_filter(noise, size=(1, NOISE_FILTER_PX, NOISE_FILTER_PX), mode="reflect")
    return torch.from_numpy(np.ascontiguousarray(smoothed))[None]
