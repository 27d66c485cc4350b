"""The default loss terms as single autograd operations, their constants prepared once per target.

Written out, a layer's relative Gram error (`core.relative_mse(core.gram(F), T)`) is about twenty
small operations forward and as many backward, and a layer's content error about ten each; on a
GPU every one is a kernel launch, and together they outnumber the network's own. Here each is one
`autograd.Function` with its gradient by hand, and what does not depend on the image (the
target's energy, the layer's weight, the Gram normalisation) is folded into one `factor` ahead of
the run. The values are the same as `core`'s (the gradient check in tests/test_losses.py); guided
Grams, the other statistics and tiles keep the general code.

    gram error     E = factor * sum((F F^T / (C h w) - T)^2),  factor = w / (C^2 (mean(T^2) + EPS))
                   dE/dF = 4 factor / (C h w) * (F F^T / (C h w) - T) F       (the Gram is symmetric)
    content error  E = factor * sum((F - T)^2),                factor = w / (C h w (mean(T^2) + EPS))
                   dE/dF = 2 factor (F - T)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from .core import EPS


@dataclass(frozen=True)
class Prepared:
    """One layer's target, ready for `gram_error` (the Gram negated, (1|N, C, C)) or `content_error`
    ((1|N, C, h, w)), and its factor (1|N,): the layer's share of the term over the target's energy."""

    target: torch.Tensor
    factor: torch.Tensor
    twice: torch.Tensor  # 2 factor: the content gradient's, made once


def prepare_gram(target: torch.Tensor, share: float) -> Prepared:
    """A Gram target (1|N, C, C) with its layer's `share` of the style term."""
    channels = target.shape[-1]
    energy = target.pow(2).mean((1, 2))
    factor = share / (channels * channels * (energy + EPS))
    return Prepared(target.neg(), factor, factor * 2.0)


def prepare_content(target: torch.Tensor, share: float, energy: torch.Tensor | None = None) -> Prepared:
    """Activations (1|N, C, h, w) with their layer's `share` of the content term; relative to `energy`
    (1|N,) where given (a tile's error relative to the whole photo), else to their own mean square."""
    target = target.to(_wide(target))
    size = target[0].numel()
    energy = target.pow(2).reshape(target.shape[0], -1).mean(1) if energy is None else energy
    factor = share / (size * (energy + EPS))
    return Prepared(target, factor, factor * 2.0)


def gram_error(features: torch.Tensor, prepared: Prepared) -> torch.Tensor:
    """(N, C, h, w) features in any precision -> (N,) their share of the relative Gram error, in float32."""
    error: torch.Tensor = _GramError.apply(features, prepared.target, prepared.factor)
    return error


def content_error(features: torch.Tensor, prepared: Prepared) -> torch.Tensor:
    """(N, C, h, w) features in any precision -> (N,) their share of the relative content error, in float32."""
    error: torch.Tensor = _FeatureError.apply(features, prepared.target, prepared.factor, prepared.twice)
    return error


class _GramError(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, features: torch.Tensor, negative: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
        n, c = features.shape[:2]
        flat = features.reshape(n, c, -1).to(_wide(features))  # (N, C, P), float32 from a lower precision
        norm = 1.0 / flat.shape[-1] / c
        difference = torch.baddbmm(negative, flat, flat.mT, alpha=norm)  # (N, C, C): G - T
        ctx.save_for_backward(flat, difference, factor)
        ctx.shape, ctx.dtype, ctx.norm = features.shape, features.dtype, norm
        return difference.square().sum((1, 2)) * factor

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        flat, difference, factor = ctx.saved_tensors
        weighted = difference * (grad * factor)[:, None, None]  # (N, C, C)
        # beta=0: `flat` only gives the shape; the product is scaled by 4 norm in the same kernel
        gradient = torch.baddbmm(flat, weighted, flat, beta=0.0, alpha=4.0 * ctx.norm)
        return gradient.reshape(ctx.shape).to(ctx.dtype), None, None


class _FeatureError(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, features: torch.Tensor, target: torch.Tensor, factor: torch.Tensor,
                twice: torch.Tensor) -> torch.Tensor:  # fmt: skip
        difference = features.to(_wide(features)) - target  # (N, C, h, w)
        ctx.save_for_backward(difference, twice)
        ctx.dtype = features.dtype
        return difference.square().sum((1, 2, 3)) * factor

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None, None]:
        difference, twice = ctx.saved_tensors
        return (difference * (grad * twice)[:, None, None, None]).to(ctx.dtype), None, None, None


def _wide(features: torch.Tensor) -> torch.dtype:
    """float32 for the network's lower precisions; float64 stays (the tests' exact comparisons)."""
    return torch.promote_types(features.dtype, torch.float32)
