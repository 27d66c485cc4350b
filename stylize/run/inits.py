"""Starting images for the optimisation: the photo, median-filtered noise, the style, or a file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from scipy.ndimage import median_filter

from ..config import Config
from ..errors import SettingsError
from ..io.tensors import resize_exact, to_tensor

NOISE_FILTER_PX = 8  # the fast.ai lesson's median filter size


def smoothed_noise(height: int, width: int, seed: int) -> torch.Tensor:
    """Uniform noise in [0, 1] smoothed per channel with a median filter, as in the fast.ai lesson.

    A median filter keeps blob edges sharp while removing pixel-level noise, so the optimiser
    starts from texture at roughly the scale of early VGG receptive fields. (1, 3, H, W).
    """
    rng = np.random.default_rng(seed)
    noise = rng.uniform(0.0, 1.0, size=(3, height, width)).astype(np.float32)
    smoothed = median_filter(noise, size=(1, NOISE_FILTER_PX, NOISE_FILTER_PX), mode="reflect")
    return torch.from_numpy(np.ascontiguousarray(smoothed))[None]


def initial_image(
    config: Config, content: torch.Tensor, style: Image.Image, init_image: Image.Image | None
) -> torch.Tensor:
    """The starting image at the content's size: content, smoothed noise, the style, or a file."""
    height, width = content.shape[-2:]
    if config.init == "content":
        return content.clone()
    if config.init == "noise":
        return smoothed_noise(height, width, config.seed)
    if config.init == "style":
        return to_tensor(resize_exact(style, height, width))
    if init_image is None:
        raise SettingsError(f"--init {config.init}: the image file was not given to the run")
    return to_tensor(resize_exact(init_image, height, width))


def init_file(config: Config) -> Path | None:
    """The image file a run starts from, or None for content, noise or style."""
    return config.init if isinstance(config.init, Path) else None
