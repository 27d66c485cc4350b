"""PIL images <-> (1, 3, H, W) float32 tensors in [0, 1], and resizing to an exact size."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image


def resize_exact(image: Image.Image, height: int, width: int) -> Image.Image:
    return image if image.size == (width, height) else image.resize((width, height), Image.Resampling.LANCZOS)


def to_tensor(image: Image.Image) -> torch.Tensor:
    array = np.asarray(image, dtype=np.float32) / 255.0  # (H, W, 3)
    return torch.from_numpy(array).permute(2, 0, 1).contiguous()[None]  # (1, 3, H, W)


def to_pil(tensor: torch.Tensor) -> Image.Image:
    array = tensor.detach().float().cpu()[0].clamp(0, 1).permute(1, 2, 0).numpy()  # (H, W, 3)
    return Image.fromarray(np.round(array * 255.0).astype(np.uint8), mode="RGB")
