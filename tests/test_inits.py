"""Starting images: the photo moved to the style's palette (the default), and the others."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from stylize.config import Config
from stylize.io.tensors import to_tensor
from stylize.run.inits import PALETTE_SAMPLE_PX, in_palette, initial_image


def photo(height: int = 48, width: int = 64) -> torch.Tensor:
    """A smooth photo-like image whose values stay well inside 0..1."""
    y, x = torch.meshgrid(torch.linspace(0, 1, height), torch.linspace(0, 1, width), indexing="ij")
    channels = [0.3 + 0.2 * x, 0.4 + 0.15 * torch.sin(6 * y), 0.5 + 0.1 * (x - y)]
    return torch.stack(channels)[None]


def painting(
    mean: tuple[float, float, float], spread: float, size: tuple[int, int] = (80, 60), seed: int = 0
) -> Image.Image:
    rng = np.random.default_rng(seed)
    values = np.clip(np.array(mean) + spread * rng.standard_normal((size[1], size[0], 3)), 0, 1)
    return Image.fromarray((values * 255).round().astype(np.uint8))


def channel_stats(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    pixels = image.flatten(2)[0]
    return pixels.mean(1), pixels.std(1)


def test_the_palette_start_has_the_styles_colours_and_the_photos_shapes() -> None:
    content, style = photo(), painting((0.2, 0.5, 0.7), 0.08)
    start = in_palette(content, [style])
    style_mean, style_spread = channel_stats(to_tensor(style))
    start_mean, start_spread = channel_stats(start)
    assert torch.allclose(start_mean, style_mean, atol=0.01) and torch.allclose(start_spread, style_spread, atol=0.01)
    for channel in range(3):  # each channel is the photo's, rescaled: perfectly correlated
        pair = torch.stack([content[0, channel].flatten(), start[0, channel].flatten()])
        assert torch.corrcoef(pair)[0, 1] > 0.999
    assert start.shape == content.shape and start.min() >= 0 and start.max() <= 1
    assert not torch.allclose(start, content, atol=0.05), "the colours moved"


def test_several_styles_blend_their_palettes_by_the_blend_weights() -> None:
    content = photo()
    dark, light = painting((0.2, 0.2, 0.2), 0.05), painting((0.8, 0.8, 0.8), 0.05, seed=1)
    assert torch.equal(in_palette(content, [dark, light], (1.0, 0.0)), in_palette(content, [dark]))
    even_mean, _ = channel_stats(in_palette(content, [dark, light]))
    assert torch.allclose(even_mean, torch.full((3,), 0.5), atol=0.02)
    skewed_mean, _ = channel_stats(in_palette(content, [dark, light], (3.0, 1.0)))
    assert torch.allclose(skewed_mean, torch.full((3,), 0.35), atol=0.02)


def test_a_large_style_is_sampled_small_with_the_same_palette() -> None:
    content, style = photo(), painting((0.6, 0.3, 0.4), 0.1, size=(4 * PALETTE_SAMPLE_PX, 3 * PALETTE_SAMPLE_PX))
    small = style.resize((PALETTE_SAMPLE_PX, PALETTE_SAMPLE_PX * 3 // 4), Image.Resampling.BOX)
    start_mean, _ = channel_stats(in_palette(content, [style]))
    assert torch.allclose(start_mean, channel_stats(to_tensor(small))[0], atol=1e-3)


def test_palette_is_the_default_and_content_starts_from_the_photo_itself() -> None:
    content, style = photo(), painting((0.2, 0.5, 0.7), 0.08)
    assert Config().init == "palette"
    assert torch.equal(initial_image(Config(), content, [style], None), in_palette(content, [style]))
    assert torch.equal(initial_image(Config(init="content"), content, [style], None), content)
