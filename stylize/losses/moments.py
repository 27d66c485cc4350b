"""Style losses on feature moments: `gram` (second moments, Gatys et al.) and `diagonal` (per channel).

`diagonal` is the fast.ai lesson's homework, a style loss on the Gram matrix's diagonal only: it
keeps each channel's mean and spread (how much of each feature the painting has) and drops the
correlations between channels (which features occur together, at the same place). It is the
Wasserstein-2 distance between Gaussians with diagonal covariances,
sum_c (mu_c - mu'_c)^2 + (sigma_c - sigma'_c)^2, relative to the style's sum_c mu'_c^2 + sigma'_c^2.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .core import gram, guided_gram, guided_gram_error, region_gram_error, relative_mse
from .statistics import EPS, Moments, StyleTarget, by_shares, flat_weights, mixed, region_means


class GramStatistic:
    """The Gram matrix F F^T / (C*H*W), compared by relative squared error (losses.py says why)."""

    name = "gram"
    balance = 1.0  # the reference the others are balanced against

    def describe(self, features: torch.Tensor, weight: torch.Tensor | None) -> StyleTarget:
        if weight is None:
            return {"gram": gram(features)}  # (1, C, C)
        return {"gram": guided_gram(features, weight)[:, 0]}

    def mix(self, summaries: Sequence[StyleTarget], shares: Sequence[float]) -> StyleTarget:
        return mixed(summaries, shares)

    def error(
        self, features: torch.Tensor, target: StyleTarget, masks: torch.Tensor | None, shares: torch.Tensor | None
    ) -> torch.Tensor:
        if masks is None or shares is None:
            return relative_mse(gram(features), target["gram"])
        return guided_gram_error(features, target["gram"], masks, shares)

    def moments(self, features: torch.Tensor, masks: torch.Tensor | None) -> Moments:
        return {"gram": gram(features)[:, None] if masks is None else guided_gram(features, masks)}  # (N, R, C, C)

    def from_moments(self, moments: Moments, target: StyleTarget, shares: torch.Tensor | None) -> torch.Tensor:
        goal = target["gram"] if shares is not None else target["gram"][:, None]  # (N|1, R, C, C)
        return region_gram_error(moments["gram"], goal, moments["gram"].new_ones(1, 1) if shares is None else shares)


class DiagonalStatistic:
    """Each channel's mean and standard deviation (the Gram diagonal, plus the mean)."""

    name = "diagonal"
    balance = 2.3  # --style-weight 11.7 kept gram's content_rel at 256 px (benchmarks/style_losses.py calibrate)

    def describe(self, features: torch.Tensor, weight: torch.Tensor | None) -> StyleTarget:
        mean, second = _channel_moments(features, None if weight is None else flat_weights(weight, features))
        return {"mean": mean[:, 0], "second": second[:, 0]}  # (1, C) each

    def mix(self, summaries: Sequence[StyleTarget], shares: Sequence[float]) -> StyleTarget:
        moments = mixed(summaries, shares)  # the mixture's mean and second moment per channel
        mean = moments["mean"]
        return {"mean": mean, "std": _std(moments["second"], mean)}

    def error(
        self, features: torch.Tensor, target: StyleTarget, masks: torch.Tensor | None, shares: torch.Tensor | None
    ) -> torch.Tensor:
        return self.from_moments(self.moments(features, masks), target, shares if masks is not None else None)

    def moments(self, features: torch.Tensor, masks: torch.Tensor | None) -> Moments:
        mean, second = _channel_moments(features, None if masks is None else flat_weights(masks, features))
        return {"mean": mean, "second": second}  # (N, R, C) each

    def from_moments(self, moments: Moments, target: StyleTarget, shares: torch.Tensor | None) -> torch.Tensor:
        mean, second = moments["mean"], moments["second"]
        goal_mean, goal_std = target["mean"], target["std"]  # (N|1, R, C), or (N|1, C) without regions
        if shares is None:
            goal_mean, goal_std = goal_mean[:, None], goal_std[:, None]
        distance = (mean - goal_mean).pow(2).sum(-1) + (_std(second, mean) - goal_std).pow(2).sum(-1)  # (N, R)
        energy = goal_mean.pow(2).sum(-1) + goal_std.pow(2).sum(-1)
        return by_shares(distance / (energy + EPS), shares)


def _channel_moments(features: torch.Tensor, weights: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, C, h, w) -> per region (N, R, C) mean and mean square (one region everywhere when `weights` is None)."""
    n, c = features.shape[:2]
    flat = features.reshape(n, c, -1).float()  # (N, C, P), float32 even under autocast
    if weights is None:
        return flat.mean(-1)[:, None], flat.pow(2).mean(-1)[:, None]
    return region_means(flat, weights), region_means(flat.pow(2), weights)


def _std(second: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    """Standard deviation from mean square and mean; its gradient stays finite where a channel is constant."""
    return (second - mean.pow(2)).clamp_min(1e-12).sqrt()
