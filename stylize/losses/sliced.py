"""`sliced`: the sliced Wasserstein loss (Heitz, Vanhoey, Chambon, Belcour, CVPR 2021).

Each layer's features are projected on D random unit directions (D = the layer's channels, as
in the paper); along each direction the output's sorted projections are compared with the
style's quantiles at the same levels. It matches whole feature distributions, not only their
first two moments. Relative: the mean squared difference over the style's mean squared projection.

Where we depart from the paper, and why:
- Directions: the paper draws new ones at every step of Adam. L-BFGS builds its curvature from
  differences of gradients of *one* objective, so the directions stay fixed within a size and
  are drawn anew for each size of coarse to fine (from --seed: the same seed gives the same
  value). `benchmarks/style_losses.py resample` measures this against redrawing during a size.
- Different numbers of pixels in style and output: the style's distribution is kept as its
  quantile function at up to `LEVELS` levels and read at the output's levels by linear
  interpolation (a region's levels are its cumulative weights).
- Several styles blend as the mixture of their distributions (each style's samples weighted by
  its share), as a Gram blend is the mixture's second moment.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .statistics import EPS, StyleTarget, by_shares, flat_weights

LEVELS = 65536  # quantile levels kept per direction of a style target, at most


class SlicedStatistic:
    name = "sliced"
    balance = 4.0  # weight 17.8 gave content_rel 0.522 (gram 0.547), 20 by interpolation: benchmarks/style_losses.py

    def __init__(self, seed: int = 0, draw: int = 0) -> None:
        self.seed, self.draw = seed, draw  # `draw`: which set of directions (one per size)

    def directions(self, channels: int, device: torch.device) -> torch.Tensor:
        """(D, C) random unit directions, D = C, the same for the same seed, draw and channel count."""
        generator = torch.Generator().manual_seed((self.seed * 1_000_003 + self.draw * 1_009 + channels) % 2**63)
        raw = torch.randn(channels, channels, generator=generator)
        unit: torch.Tensor = raw / raw.norm(dim=1, keepdim=True)
        return unit.to(device)

    def describe(self, features: torch.Tensor, weight: torch.Tensor | None) -> StyleTarget:
        c = features.shape[1]
        directions = self.directions(c, features.device)
        flat = features.reshape(1, c, -1).float()  # (1, C, P)
        weights = flat_weights(weight, features)[0, 0]  # (P,)
        inside = torch.nonzero(weights > 0).squeeze(1)
        values = directions @ flat[0].index_select(1, inside)  # (D, S)
        kept = weights.index_select(0, inside)  # (S,)
        return {"values": values[None], "weights": kept[None], "directions": directions[None]}

    def mix(self, summaries: Sequence[StyleTarget], shares: Sequence[float]) -> StyleTarget:
        values = torch.cat([s["values"][0] for s in summaries], 1)  # (D, S)
        weights = torch.cat([s["weights"][0] / s["weights"][0].sum() * share
                             for s, share in zip(summaries, shares, strict=True)])  # fmt: skip
        ordered, order = values.sort(1)  # weights (S,) sum to 1
        mass = weights[order]  # (D, S): each sorted sample's weight
        levels = (mass.cumsum(1) - mass / 2).contiguous()  # the level at each sample's middle
        count = min(LEVELS, values.shape[1])
        wanted = ((torch.arange(count, device=values.device) + 0.5) / count).expand(values.shape[0], -1).contiguous()
        quantiles = _interpolate(levels, ordered, wanted)  # (D, Q)
        return {"quantiles": quantiles[None], "directions": summaries[0]["directions"],
                "energy": quantiles.pow(2).mean()[None]}  # fmt: skip

    def error(
        self, features: torch.Tensor, target: StyleTarget, masks: torch.Tensor | None, shares: torch.Tensor | None
    ) -> torch.Tensor:
        n, c = features.shape[:2]
        flat = features.reshape(n, c, -1).float()  # (N, C, P)
        goal = target if masks is not None else {name: part[:, None] for name, part in target.items()}
        directions = goal["directions"][:, 0]  # (N|1, D, C): every region shares them
        projected = directions @ flat  # (N, D, P)
        quantiles = goal["quantiles"]  # (N|1, R, D, Q)
        if masks is None:  # the whole picture: no weights to gather on every evaluation
            errors = torch.stack([_whole_error(projected[i], quantiles[min(i, len(quantiles) - 1), 0])
                                  for i in range(n)])[:, None]  # fmt: skip
            return by_shares(errors / (goal["energy"] + EPS), None)
        weights = flat_weights(masks, features)  # (N|1, R, P)
        errors = torch.stack([torch.stack([_region_error(projected[i], weights[min(i, len(weights) - 1), r],
                                                         quantiles[min(i, len(quantiles) - 1), r])
                                           for r in range(weights.shape[1])]) for i in range(n)])  # fmt: skip
        return by_shares(errors / (goal["energy"] + EPS), shares)  # errors (N, R)


def _region_error(projected: torch.Tensor, weights: torch.Tensor, quantiles: torch.Tensor) -> torch.Tensor:
    """(D, P) one image's projections, (P,) a region's weights, (D, Q) its style's quantiles -> the
    weighted mean squared difference of sorted projections and quantiles at the same levels."""
    inside = torch.nonzero(weights > 0).squeeze(1)
    if inside.numel() == weights.numel() and bool((weights == 1).all()):  # a region over everything
        return _whole_error(projected, quantiles)
    ordered, order = projected.index_select(1, inside).sort(1)  # (D, S)
    mass = weights.index_select(0, inside)[order]  # (D, S)
    total = mass[0].sum().clamp_min(EPS)
    levels = (mass.cumsum(1) - mass / 2) / total
    return ((ordered - _at_levels(quantiles, levels)).pow(2) * mass).sum() / (total * ordered.shape[0])


def _whole_error(projected: torch.Tensor, quantiles: torch.Tensor) -> torch.Tensor:
    """(D, P) projections of the whole picture, (D, Q) quantiles -> mean squared difference at even levels."""
    ordered = projected.sort(1).values  # (D, P)
    count = ordered.shape[1]
    levels = ((torch.arange(count, device=ordered.device) + 0.5) / count).expand_as(ordered)
    return (ordered - _at_levels(quantiles, levels)).pow(2).mean()


def _at_levels(quantiles: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
    """(D, Q) a quantile function at levels (q + 1/2) / Q -> its values at `levels` (D, L) in [0, 1]."""
    count = quantiles.shape[1]
    position = (levels * count - 0.5).clamp(0, count - 1)
    low = position.floor().long().clamp(max=count - 1)
    high = (low + 1).clamp(max=count - 1)
    frac = position - low
    return torch.lerp(quantiles.gather(1, low), quantiles.gather(1, high), frac)


def _interpolate(levels: torch.Tensor, values: torch.Tensor, wanted: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear quantile function through (levels, values) per row (D, S) -> at `wanted` (D, Q)."""
    high = torch.searchsorted(levels, wanted).clamp(1, levels.shape[1] - 1) if levels.shape[1] > 1 else None
    if high is None:
        return values.expand_as(wanted)
    low = high - 1
    left, right = levels.gather(1, low), levels.gather(1, high)
    frac = ((wanted - left) / (right - left).clamp_min(EPS)).clamp(0, 1)
    return torch.lerp(values.gather(1, low), values.gather(1, high), frac)
