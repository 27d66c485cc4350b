"""Colour spaces for tensors: sRGB <-> CIELAB (D65), and the grey of a given lightness.

CIELAB, not YIQ/YUV, is where `--preserve-colors luminance` splits lightness from colour: its
a*, b* are perceptual colour axes that do not move when only L* changes, so a result that takes
its L* from the painted picture and its a*, b* from the photo shows the photo's colours exactly
(up to clipping into the sRGB gamut). In YIQ the colour channels are offsets in gamma-encoded
RGB: darkening a pixel while keeping I and Q makes it look more saturated.
Images are (N, 3, H, W) sRGB in [0, 1]; L* is in 0..100.
"""

from __future__ import annotations

import torch

# sRGB primaries, D65 white: linear RGB -> XYZ
RGB_TO_XYZ = torch.tensor([[0.4124564, 0.3575761, 0.1804375],
                           [0.2126729, 0.7151522, 0.0721750],
                           [0.0193339, 0.1191920, 0.9503041]])  # fmt: skip
WHITE = torch.tensor([0.95047, 1.0, 1.08883])  # D65 XYZ of white
DELTA = 6 / 29  # CIELAB's f() switches from cube root to a line below DELTA**3


def srgb_to_linear(image: torch.Tensor) -> torch.Tensor:
    c = image.clamp(0, 1)
    return torch.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055).pow(2.4))


def linear_to_srgb(linear: torch.Tensor) -> torch.Tensor:
    c = linear.clamp(0, 1)
    return torch.where(c <= 0.0031308, c * 12.92, 1.055 * c.pow(1 / 2.4) - 0.055)


def _f(t: torch.Tensor) -> torch.Tensor:
    return torch.where(t > DELTA**3, t.clamp_min(DELTA**3).pow(1 / 3), t / (3 * DELTA**2) + 4 / 29)


def _f_inverse(t: torch.Tensor) -> torch.Tensor:
    return torch.where(t > DELTA, t.pow(3), 3 * DELTA**2 * (t - 4 / 29))


def _mix(matrix: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    """matrix (3, 3) applied to every pixel of (N, 3, H, W)."""
    return torch.einsum("ij,njhw->nihw", matrix.to(image), image)


def srgb_to_lab(image: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) sRGB -> (N, 3, H, W) L*, a*, b*."""
    xyz = _mix(RGB_TO_XYZ, srgb_to_linear(image)) / WHITE.to(image).view(1, 3, 1, 1)
    fx, fy, fz = _f(xyz).unbind(1)
    return torch.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], 1)


def lab_to_srgb(lab: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) L*, a*, b* -> sRGB, clipped into [0, 1] (colours outside the gamut are clipped)."""
    lightness, a, b = lab.unbind(1)
    fy = (lightness + 16) / 116
    xyz = torch.stack([_f_inverse(fy + a / 500), _f_inverse(fy), _f_inverse(fy - b / 200)], 1)
    linear = _mix(torch.linalg.inv(RGB_TO_XYZ), xyz * WHITE.to(lab).view(1, 3, 1, 1))
    return linear_to_srgb(linear)


def lightness(image: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) sRGB -> (N, 1, H, W) CIELAB L* (0..100)."""
    luminance = (RGB_TO_XYZ[1].to(image).view(1, 3, 1, 1) * srgb_to_linear(image)).sum(1, keepdim=True)  # Y
    return 116 * _f(luminance) - 16


def grey_of_lightness(lightness_: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) L* -> (N, 3, H, W) the sRGB grey with that lightness."""
    luminance = _f_inverse((lightness_.clamp(0, 100) + 16) / 116)
    return linear_to_srgb(luminance).expand(-1, 3, -1, -1).contiguous()
