"""Loss terms as pure functions of tensors: Gram matrix, content, style, total variation, range.

Scaling (where we depart from Gatys et al. 2015 and the fast.ai lesson, and why):
- The Gram matrix is normalised by its size, G = F F^T / (C*H*W) (as in the lesson), so it is
  an average over positions and does not grow with the image.
- Each layer's error is *relative*: the mean squared error divided by the mean square of its
  target. The paper instead weights every layer equally (w_l = 1/5) after a 1/(4 N^2 M^2)
  factor, which lets layers whose activations are large (Caffe's 0-255 input makes conv1 and
  conv4 huge) drown the others, so users retune weights for every network and size. Relative
  errors are O(1) at every layer, for every network and at every image size, so one
  `--style-weight` keeps the same balance from 256 px to 1024 px.
- Per-layer weights are a weighted mean, so adding a layer does not change the term's scale.

Every term is computed per image: a batch of N images gives N independent errors, shape (N,),
so that images optimised together never influence each other.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from ..config import LayerWeight

EPS = 1e-8  # guards the relative errors of a layer whose target is all zeros


def gram(features: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, C), normalised by C*H*W."""
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w).float()  # Gram in float32 even under autocast
    return torch.bmm(flat, flat.transpose(1, 2)) / (c * h * w)


def guided_gram(features: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) features, (N or 1, R, H, W) region weights in [0, 1] -> (N, R, C, C).

    Gatys et al. 2017's guided Gram matrix: each position counts with its region's weight, and
    the sum is divided by C times the region's area, so a region's Gram is an average over the
    region (a mask of all ones gives `gram`). Soft weights make soft borders. Only the positions
    a region covers are multiplied (`_region_gram`): R complementary regions cost about one Gram
    matrix, not R.
    """
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w).float()  # (N, C, P)
    weights = masks.reshape(masks.shape[0], -1, h * w).float()  # (N|1, R, P)
    rows = [(flat, weights[0])] if weights.shape[0] == 1 else [(flat[i : i + 1], weights[i]) for i in range(n)]
    grams = torch.cat([torch.stack([_region_gram(f, m) for m in region], 1) for f, region in rows])  # (N, R, C, C)
    return grams / (c * weights.sum(-1)[..., None, None].clamp_min(EPS))


def _region_gram(flat: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """(N, C, P) features, (P,) one region's weights -> (N, C, C) sum of w_p f_p f_p^T (not normalised)."""
    inside = torch.nonzero(weight > 0).squeeze(1)  # (S,)
    if inside.numel() > 0.9 * weight.numel():  # nearly everywhere: gathering would only copy
        return torch.bmm(flat * weight, flat.transpose(1, 2))
    picked = flat.index_select(2, inside)  # (N, C, S)
    return torch.bmm(picked * weight.index_select(0, inside), picked.transpose(1, 2))


def _per_image_mean(x: torch.Tensor) -> torch.Tensor:
    """(N, ...) -> (N,)"""
    return x.reshape(x.shape[0], -1).mean(dim=1)


def relative_mse(value: torch.Tensor, target: torch.Tensor, energy: torch.Tensor | None = None) -> torch.Tensor:
    """mean((value - target)^2) / mean(target^2) per image, (N, ...) -> (N,): 0 when equal, 1 for zero.

    `target` has N rows too, or one row shared by every image. `energy` (N|1,) replaces mean(target^2):
    a tile's error relative to the whole picture's target (tiling.py).
    """
    target = target.expand_as(value)
    return _per_image_mean((value.float() - target).pow(2)) / (_energy(target, energy) + EPS)


def _energy(target: torch.Tensor, energy: torch.Tensor | None) -> torch.Tensor:
    return _per_image_mean(target.pow(2)) if energy is None else energy


def _layer(energy: Mapping[str, torch.Tensor] | None, name: str) -> torch.Tensor | None:
    return None if energy is None else energy[name]


def weighted_mean(errors: Mapping[str, torch.Tensor], layers: tuple[LayerWeight, ...]) -> torch.Tensor:
    """Per-layer errors (N,) -> their weighted mean (N,)."""
    total = sum(lw.weight for lw in layers) or 1.0
    return torch.stack([errors[lw.name] * (lw.weight / total) for lw in layers]).sum(dim=0)


def content_loss(
    features: Mapping[str, torch.Tensor], targets: Mapping[str, torch.Tensor], layers: tuple[LayerWeight, ...],
    energy: Mapping[str, torch.Tensor] | None = None,
) -> torch.Tensor:  # fmt: skip
    """Perceptual content error: relative MSE of activations (relative to `energy` per layer where given),
    weighted mean over layers."""
    return weighted_mean({lw.name: relative_mse(features[lw.name], targets[lw.name], _layer(energy, lw.name))
                          for lw in layers}, layers)  # fmt: skip


def style_loss(
    features: Mapping[str, torch.Tensor], target_grams: Mapping[str, torch.Tensor], layers: tuple[LayerWeight, ...]
) -> torch.Tensor:
    """Style error: relative MSE of Gram matrices, weighted mean over layers."""
    return weighted_mean(
        {lw.name: relative_mse(gram(features[lw.name]), target_grams[lw.name]) for lw in layers}, layers
    )


def guided_gram_error(
    features: torch.Tensor, targets: torch.Tensor, masks: torch.Tensor, shares: torch.Tensor
) -> torch.Tensor:
    """One layer's style error with regions: region r's guided Gram (`masks` (N|1, R, h, w)) against its
    own target (N|1, R, C, C), relative; regions add up by `shares` (N|1, R), their parts of the
    picture, so that a region keeps the balance of style and content a whole picture has. -> (N,)"""
    return region_gram_error(guided_gram(features, masks), targets, shares)


def region_gram_error(grams: torch.Tensor, targets: torch.Tensor, shares: torch.Tensor) -> torch.Tensor:
    """Regions' Gram matrices (N, R, C, C) against their targets (N|1, R, C, C), relative, summed by
    `shares` (N|1, R). -> (N,)"""
    target = targets.expand_as(grams)
    relative = (grams - target).pow(2).mean((-1, -2)) / (target.pow(2).mean((-1, -2)) + EPS)  # (N, R)
    return (relative * shares).sum(1)


def guided_style_loss(
    features: Mapping[str, torch.Tensor],
    target_grams: Mapping[str, torch.Tensor],
    layers: tuple[LayerWeight, ...],
    masks: Mapping[str, torch.Tensor],
    shares: torch.Tensor,
) -> torch.Tensor:
    """Style error with regions (`guided_gram_error`), weighted mean over layers. -> (N,)"""
    errors = {lw.name: guided_gram_error(features[lw.name], target_grams[lw.name], masks[lw.name], shares)
              for lw in layers}  # fmt: skip
    return weighted_mean(errors, layers)


def weighted_content_loss(
    features: Mapping[str, torch.Tensor],
    targets: Mapping[str, torch.Tensor],
    layers: tuple[LayerWeight, ...],
    weights: Mapping[str, torch.Tensor],
    energy: Mapping[str, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Content error where each position counts `weights[layer]` (N|1, 1, h, w) times (relative to
    `energy` per layer where given, as `content_loss`). -> (N,)"""
    errors = {}
    for lw in layers:
        value, target = features[lw.name].float(), targets[lw.name].expand_as(features[lw.name])
        weighted = weights[lw.name] * (value - target).pow(2)
        errors[lw.name] = _per_image_mean(weighted) / (_energy(target, _layer(energy, lw.name)) + EPS)
    return weighted_mean(errors, layers)


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of neighbouring pixels, (N, 3, H, W) -> (N,)."""
    dx = image[..., :, 1:] - image[..., :, :-1]
    dy = image[..., 1:, :] - image[..., :-1, :]
    return _per_image_mean(dx.pow(2)) + _per_image_mean(dy.pow(2))


def out_of_range(image: torch.Tensor) -> torch.Tensor:
    """Mean squared distance of the pixels from [0, 1], (N, 3, H, W) -> (N,); 0 inside."""
    return _per_image_mean((-image).clamp(min=0).pow(2) + (image - 1).clamp(min=0).pow(2))
