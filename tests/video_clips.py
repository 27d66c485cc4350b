"""Test clips whose true motion is known: a window panning over a still picture."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

SHIFT = (4, 2)  # px per frame the window moves (x, y): the picture moves the other way in the frame


def texture(width: int, height: int, seed: int = 0) -> Image.Image:
    """Blobs of colour at several scales: something for optical flow to hold on to, with no repeats."""
    rng = np.random.default_rng(seed)
    layers = [gaussian_filter(rng.normal(size=(height, width, 3)), sigma=(s, s, 0)) for s in (2, 6, 16)]
    array = sum(layer / layer.std() for layer in layers)
    array = (array - array.min()) / (array.max() - array.min()) * 255
    return Image.fromarray(array.astype(np.uint8), "RGB")


def panning_clip(picture: Image.Image, count: int, size: tuple[int, int] = (256, 192),
                 shift: tuple[int, int] = SHIFT) -> list[Image.Image]:  # fmt: skip
    """`count` frames of `size`, each the window over `picture` moved by `shift` px from the last."""
    width, height = size
    need = (width + shift[0] * count + 8, height + shift[1] * count + 8)
    scale = max(need[0] / picture.width, need[1] / picture.height)
    if scale > 1 or picture.width > 2 * need[0]:
        picture = picture.resize((round(picture.width * scale) + 1, round(picture.height * scale) + 1),
                                 Image.Resampling.LANCZOS)  # fmt: skip
    array = np.asarray(picture.convert("RGB"))
    return [Image.fromarray(array[4 + t * shift[1] : 4 + t * shift[1] + height,
                                  4 + t * shift[0] : 4 + t * shift[0] + width]) for t in range(count)]  # fmt: skip


def save_frames(frames: list[Image.Image], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index, frame in enumerate(frames):
        frame.save(folder / f"frame{index + 1}.png")
    return folder


def flicker(pictures: list[np.ndarray], shift: tuple[int, int] = SHIFT) -> float:
    """Mean absolute difference (0..1) between each picture and the one before carried along the true
    motion, over the pixels seen in both frames."""
    dx, dy = shift
    diffs = [np.abs(now[: now.shape[0] - dy, : now.shape[1] - dx] - before[dy:, dx:]).mean()
             for before, now in itertools.pairwise(pictures)]  # fmt: skip
    return float(np.mean(diffs)) / 255.0
