"""Starting images for the optimisation: the photo in the style's palette, the photo, median-filtered
noise, the style, or a file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..config import Config
from ..errors import SettingsError
from ..io.tensors import resize_exact, to_tensor
from ..optimize.targets import blend_shares

NOISE_FILTER_PX = 8  # the fast.ai lesson's median filter size
PALETTE_SAMPLE_PX = 256  # long side the style images are scaled to for their colour statistics


def smoothed_noise(height: int, width: int, seed: int) -> torch.Tensor:
    """Uniform noise in [0, 1] smoothed per channel with a median filter, as in the fast.ai lesson.

    A median filter keeps blob edges sharp while removing pixel-level noise, so the optimiser
    starts from texture at roughly the scale of early VGG receptive fields. (1, 3, H, W).
    """
    from scipy.ndimage import median_filter  # here: only --init noise needs scipy, and it takes ~0.2 s to import

    rng = np.random.default_rng(seed)
    noise = rng.uniform(0.0, 1.0, size=(3, height, width)).astype(np.float32)
    smoothed = median_filter(noise, size=(1, NOISE_FILTER_PX, NOISE_FILTER_PX), mode="reflect")
    return torch.from_numpy(np.ascontiguousarray(smoothed))[None]


def initial_image(
    config: Config, content: torch.Tensor, styles: Sequence[Image.Image], init_image: Image.Image | None
) -> torch.Tensor:
    """The starting image at the content's size: the photo in the styles' palette, the photo,
    smoothed noise, the first style, or a file."""
    height, width = content.shape[-2:]
    if config.init == "palette":
        return in_palette(content, styles, config.style_blend)
    if config.init == "content":
        return content.clone()
    if config.init == "noise":
        return smoothed_noise(height, width, config.seed)
    if config.init == "style":
        return to_tensor(resize_exact(styles[0], height, width))
    if init_image is None:
        raise SettingsError(f"--init {config.init}: the image file was not given to the run")
    return to_tensor(resize_exact(init_image, height, width))


def in_palette(
    content: torch.Tensor, styles: Sequence[Image.Image], blend: Sequence[float] | None = None
) -> torch.Tensor:
    """The photo with each colour channel's mean and spread moved to the styles' (blended like
    their Gram matrices), clipped to 0..1. (1, 3, H, W) like `content`.

    The style loss spends its first iterations pulling the photo's colours toward the painting's;
    starting there leaves them for the strokes (docs/benchmarks/speed.md: the plain method's 500-iteration
    objective in 0.3 of the time on the samples' pair). Per-channel RGB statistics, not the full
    colour covariance: the start only needs to be near, the optimisation does the rest.
    """
    means, second_moments = torch.zeros(3), torch.zeros(3)
    for style, share in zip(styles, blend_shares(blend, len(styles)), strict=True):
        pixels = to_tensor(sample(style)).flatten(2)[0]  # (3, N)
        means += share * pixels.mean(1)
        second_moments += share * pixels.square().mean(1)
    spread = (second_moments - means.square()).clamp_min(0).sqrt()
    photo = content.float()
    photo_mean = photo.mean((2, 3), keepdim=True)
    photo_spread = photo.std((2, 3), keepdim=True).clamp_min(1e-3)
    moved = (photo - photo_mean) / photo_spread * spread.view(1, 3, 1, 1).to(photo) + means.view(1, 3, 1, 1).to(photo)
    return moved.clamp(0.0, 1.0)


def sample(image: Image.Image) -> Image.Image:
    """An image at most PALETTE_SAMPLE_PX on its long side: enough for colour statistics."""
    scale = PALETTE_SAMPLE_PX / max(image.size)
    if scale >= 1:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.BOX)


def init_file(config: Config) -> Path | None:
    """The image file a run starts from, or None for content, noise or style."""
    return config.init if isinstance(config.init, Path) else None
