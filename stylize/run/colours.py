"""--preserve-colors: whose colours a picture keeps (Gatys, Bethge, Hertzmann, Shechtman 2016).

- `none`: the painting's colours, as the style loss pulls them.
- `match`: each style image's colours are mapped, before the transfer, so that their mean and
  covariance equal the photo's (x -> A (x - mean_style) + mean_photo with A Cov_style A^T =
  Cov_photo); the painting's strokes then come in the photo's palette. A is the symmetric
  square root form S^-1/2 (S^1/2 P S^1/2)^1/2 S^-1/2 (S, P: the covariances), the
  Monge-Kantorovich map, which of all such maps moves the painting's colours least. Chosen by
  measurement (`benchmarks/colours.py methods`, 13 pairs) over Cholesky, PCA and the "Image
  Analogies" form P^1/2 S^-1/2: it moved the paintings' pixels least on average (39.3 levels
  of 255; Cholesky 40.0, Image Analogies 39.8, PCA 47.2, whose eigenvector order and signs can
  swap colours), with no more values out of 0..1. The mapped style is not clipped: the network
  reads any value, and clipping would undo the match.
- `luminance`: the paper's luminance-only transfer. The photo and the styles become greys of
  their CIELAB lightness, each style's lightness mean and spread moved to the photo's; the
  transfer runs on greys; the result keeps its lightness and takes the photo's a*, b*.

A `Colours` is made per picture (its statistics are the photo's); the optimiser works on
`working` images, the style targets come from `style_look` images, and `finish` turns what the
optimiser has into the picture a user sees (the result, snapshots, unfinished images).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..io.colour import grey_of_lightness, lab_to_srgb, lightness, srgb_to_lab

EPS = 1e-5  # added to colour variances so that a near-grey painting's covariance can be inverted


def colour_moments(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(1, C, H, W) -> the channels' mean (C,) and covariance (C, C), in float64."""
    pixels = image.double().flatten(2)[0]  # (C, P)
    mean = pixels.mean(1)
    centred = pixels - mean[:, None]
    return mean, centred @ centred.T / pixels.shape[1]


def _sqrt_psd(matrix: torch.Tensor, power: float = 0.5) -> torch.Tensor:
    values, vectors = torch.linalg.eigh(matrix)
    root: torch.Tensor = vectors @ torch.diag(values.clamp_min(1e-12).pow(power)) @ vectors.T
    return root


def _pca(style: torch.Tensor, photo: torch.Tensor) -> torch.Tensor:
    (s_values, s_vectors), (p_values, p_vectors) = torch.linalg.eigh(style), torch.linalg.eigh(photo)
    s_vectors = s_vectors * torch.sign(s_vectors.sum(0) + 1e-12)  # eigenvectors' signs: toward white
    p_vectors = p_vectors * torch.sign(p_vectors.sum(0) + 1e-12)
    scale = (p_values.clamp_min(EPS) / s_values.clamp_min(EPS)).sqrt()
    matrix: torch.Tensor = p_vectors @ torch.diag(scale) @ s_vectors.T
    return matrix


def _monge(style: torch.Tensor, photo: torch.Tensor) -> torch.Tensor:
    root, inverse_root = _sqrt_psd(style), _sqrt_psd(style, -0.5)
    return inverse_root @ _sqrt_psd(root @ photo @ root) @ inverse_root


MATCHES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "monge": _monge,
    "analogies": lambda style, photo: _sqrt_psd(photo) @ _sqrt_psd(style, -0.5),
    "cholesky": lambda style, photo: torch.linalg.cholesky(photo) @ torch.linalg.inv(torch.linalg.cholesky(style)),
    "pca": _pca,
}  # each maps (Cov_style, Cov_photo) to A with A Cov_style A^T = Cov_photo
MATCH = "monge"


def match_colours(style: torch.Tensor, photo: torch.Tensor, method: str = MATCH) -> torch.Tensor:
    """`style` (1, 3, H, W) with its colours' mean and covariance moved to `photo`'s (not clipped)."""
    style_mean, style_cov = colour_moments(style)
    photo_mean, photo_cov = colour_moments(photo)
    eye = torch.eye(3, dtype=torch.float64)
    matrix = MATCHES[method](style_cov + EPS * eye, photo_cov + EPS * eye)  # (3, 3)
    centred = style.double() - style_mean.view(1, 3, 1, 1)
    moved = torch.einsum("ij,njhw->nihw", matrix, centred) + photo_mean.view(1, 3, 1, 1)
    return moved.to(style.dtype)


def grey_like(style: torch.Tensor, photo: torch.Tensor) -> torch.Tensor:
    """`style` as the grey of its lightness, the lightness's mean and spread moved to `photo`'s."""
    style_l, photo_l = lightness(style), lightness(photo)
    moved = (style_l - style_l.mean()) / style_l.std().clamp_min(1e-3) * photo_l.std() + photo_l.mean()
    return grey_of_lightness(moved)


class Colours:
    """One picture's colour plan: `mode` is none, match or luminance; `photo` (1, 3, h, w) is the
    photo at any size (its colour statistics are taken from it)."""

    def __init__(self, mode: str, photo: torch.Tensor) -> None:
        self.mode, self.photo = mode, photo
        self.photo_lab: dict[tuple[int, ...], torch.Tensor] = {}  # a*, b* of the photo at each size seen

    def working(self, image: torch.Tensor) -> torch.Tensor:
        """What the optimiser works on for a picture that starts from `image`."""
        return grey_of_lightness(lightness(image)) if self.mode == "luminance" else image

    def style_look(self, style: torch.Tensor) -> torch.Tensor:
        """A style image as the style targets see it."""
        if self.mode == "match":
            return match_colours(style, self.photo.to(style.device))
        if self.mode == "luminance":
            return grey_like(style, self.photo.to(style.device))
        return style

    def finish(self, image: torch.Tensor, photo: torch.Tensor) -> torch.Tensor:
        """What the optimiser has -> the picture: for luminance, its L* with `photo`'s (same size) a*, b*."""
        if self.mode != "luminance":
            return image
        key = tuple(photo.shape)
        if key not in self.photo_lab:
            self.photo_lab = {key: srgb_to_lab(photo)[:, 1:]}  # one size at a time: stages go one way
        colour = self.photo_lab[key].to(image.device)
        return lab_to_srgb(torch.cat([lightness(image.float()), colour], 1))
