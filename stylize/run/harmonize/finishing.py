"""The paper's first post-processing step: colour noise inside the region removed with a guided filter.

Optimising pixels leaves speckles of colour that the painting does not have (measured on the
paper's 12 examples at 512 px: inside the pasted object, 3 to 11 times the painting's own
chrominance noise; docs/benchmarks/features.md). As Luan et al. do, the chrominance (here YCbCr's
Cb and Cr) is smoothed by a guided filter (He, Sun and Tang 2010) that follows the luminance's
edges, and the luminance, which carries the strokes, is kept. Only inside the region: the blend
keeps every pixel outside it the painting's.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

RADIUS = 3  # px at 512 px, the box of the guided filter (scaled with the picture's long side)
EPS = 1e-3  # the filter's regulariser: lower keeps more of the chrominance's own edges
LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601
CB, CR = 0.564, 0.713


def _box(x: torch.Tensor, radius: int) -> torch.Tensor:
    """(N, 1, H, W) mean over a (2r+1)^2 box, the border repeated."""
    padded = F.pad(x, (radius, radius, radius, radius), mode="replicate")
    return F.avg_pool2d(padded, 2 * radius + 1, stride=1)


def guided_filter(source: torch.Tensor, guide: torch.Tensor, radius: int, eps: float = EPS) -> torch.Tensor:
    """He et al.'s guided filter: `source` (N, 1, H, W) smoothed where `guide` (N, 1, H, W) is flat."""
    mean_guide, mean_source = _box(guide, radius), _box(source, radius)
    covariance = _box(guide * source, radius) - mean_guide * mean_source
    variance = _box(guide * guide, radius) - mean_guide * mean_guide
    a = covariance / (variance + eps)
    b = mean_source - a * mean_guide
    return _box(a, radius) * guide + _box(b, radius)


def denoised(picture: torch.Tensor, painting: torch.Tensor, blend: torch.Tensor) -> torch.Tensor:
    """`picture` (1, 3, H, W) with its chrominance guided-filtered inside the region (`blend`), the
    painting's pixels outside it."""
    red, green, blue = picture[:, 0:1], picture[:, 1:2], picture[:, 2:3]
    luma = LUMA[0] * red + LUMA[1] * green + LUMA[2] * blue
    radius = max(1, round(RADIUS * max(picture.shape[-2:]) / 512))
    cb = guided_filter((blue - luma) * CB, luma, radius)
    cr = guided_filter((red - luma) * CR, luma, radius)
    red, blue = luma + cr / CR, luma + cb / CB
    green = (luma - LUMA[0] * red - LUMA[2] * blue) / LUMA[1]
    smooth = torch.cat([red, green, blue], 1).clamp(0, 1)
    return painting + blend * (smooth - painting)
