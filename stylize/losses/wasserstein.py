"""`wasserstein`: the closed-form Wasserstein-2 distance between Gaussians fitted to a layer's features.

W2^2 = |mu - mu'|^2 + tr(S) + tr(S') - 2 tr((S'^1/2 S S'^1/2)^1/2) for the output's mean mu and
covariance S against the style's mu', S', relative to the style's |mu'|^2 + tr(S') (the distance
from the style to no features at all). Unlike the Gram matrix, which mixes mean and spread in one
second moment, it matches the mean and the covariance each, as crowsonkb/style-transfer-pytorch does.

How the square root is taken: S'^1/2 once per target, by an eigendecomposition in float64 (S' is
symmetric positive semi-definite). Only the trace of the second root is needed, and that is the
sum of the square roots of the eigenvalues of the symmetric S'^1/2 S S'^1/2, so each evaluation
takes one `eigvalsh` per layer (float64: float32 loses the small eigenvalues of 512 x 512
covariances), whose gradient, unlike an eigenvector's, stays finite when eigenvalues repeat.
Eigenvalues below a floor (a covariance has rank at most the number of positions, fewer than
the channels at relu5_1 of a small picture) are clamped, so their infinite sqrt' is never taken.
Several styles blend by mixing their means and second moments (the mixture's moments).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .core import gram, guided_gram
from .statistics import EPS, Moments, StyleTarget, by_shares, flat_weights, mixed, region_means

FLOOR = 1e-6  # eigenvalues below (FLOOR * the style's energy)^2 count as zero


class WassersteinStatistic:
    name = "wasserstein"
    balance = 1.25  # weight 6 gave content_rel 0.534 (gram 0.547), 6.2 by interpolation: benchmarks/style_losses.py

    def describe(self, features: torch.Tensor, weight: torch.Tensor | None) -> StyleTarget:
        mean, second = _moments(features, weight)
        return {"mean": mean[:, 0], "second": second[:, 0]}  # (1, C), (1, C, C)

    def mix(self, summaries: Sequence[StyleTarget], shares: Sequence[float]) -> StyleTarget:
        moments = mixed(summaries, shares)
        mean = moments["mean"]  # (1, C)
        cov = moments["second"] - mean[..., :, None] * mean[..., None, :]  # (1, C, C)
        values, vectors = torch.linalg.eigh(cov.double())
        root = (vectors * values.clamp_min(0).sqrt()[..., None, :]) @ vectors.transpose(-1, -2)
        trace = torch.diagonal(cov, dim1=-2, dim2=-1).sum(-1)  # (1,)
        return {"mean": mean, "root": root.float(), "trace": trace, "energy": mean.pow(2).sum(-1) + trace}

    def error(
        self, features: torch.Tensor, target: StyleTarget, masks: torch.Tensor | None, shares: torch.Tensor | None
    ) -> torch.Tensor:
        return self.from_moments(self.moments(features, masks), target, shares if masks is not None else None)

    def moments(self, features: torch.Tensor, masks: torch.Tensor | None) -> Moments:
        mean, second = _moments(features, masks)
        return {"mean": mean, "second": second}  # (N, R, C), (N, R, C, C)

    def from_moments(self, moments: Moments, target: StyleTarget, shares: torch.Tensor | None) -> torch.Tensor:
        mean, second = moments["mean"], moments["second"]
        goal = target if shares is not None else {name: part[:, None] for name, part in target.items()}
        cov = second - mean[..., :, None] * mean[..., None, :]
        root = goal["root"]  # (N|1, R, C, C)
        product = root @ cov @ root
        product = (product + product.transpose(-1, -2)) / 2  # symmetric up to rounding; eigvalsh reads one half
        floor = (FLOOR * goal["energy"].double()).pow(2)[..., None]  # (N|1, R, 1)
        eigenvalues = torch.linalg.eigvalsh(product.double())  # (N, R, C)
        cross = torch.maximum(eigenvalues, floor).sqrt().sum(-1).float()  # tr((S'^1/2 S S'^1/2)^1/2)
        traces = torch.diagonal(cov, dim1=-2, dim2=-1).sum(-1)
        distance = (mean - goal["mean"]).pow(2).sum(-1) + traces + goal["trace"] - 2 * cross  # (N, R)
        return by_shares(distance / (goal["energy"] + EPS), shares)


def _moments(features: torch.Tensor, masks: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, C, h, w) -> per region (N, R, C) mean and (N, R, C, C) second moment E[f f^T]."""
    n, c = features.shape[:2]
    flat = features.reshape(n, c, -1).float()  # (N, C, P)
    if masks is None:
        return flat.mean(-1)[:, None], gram(features)[:, None] * c
    return region_means(flat, flat_weights(masks, features)), guided_gram(features, masks) * c
