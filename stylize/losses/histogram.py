"""The histogram loss of Risser, Wilmot and Barnes (2017), as Deep Painterly Harmonization uses it.

Gram matrices match a layer's second moments; two very different distributions can share them,
and the optimiser exploits that with washed-out or blotchy colours. Each channel of the output's
features (where the loss looks) is remapped to the target's histogram, by rank: the value of
rank r among k becomes the target's quantile at (r + 0.5) / k. The loss is the squared distance
to that remapped copy, held fixed: it pulls every channel towards the target's distribution.
Relative: divided by the remapped values' mean square.
"""

from __future__ import annotations

import torch

EPS = 1e-8


@torch.no_grad()
def histogram_matched(values: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(C, k) values, (C, m) target samples -> (C, k): each channel's values replaced by the target's
    quantiles at their ranks (linear interpolation between the target's sorted samples)."""
    k, m = values.shape[1], target.shape[1]
    ordered = target.float().sort(1).values  # (C, m)
    ranks = values.argsort(1).argsort(1).float()  # (C, k)
    where = ((ranks + 0.5) / k * m - 0.5).clamp(0, m - 1)
    below = where.floor().long()
    above = (below + 1).clamp(max=m - 1)
    share = where - below.float()
    return ordered.gather(1, below) * (1 - share) + ordered.gather(1, above) * share


def histogram_error(values: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(C, k) features where the loss looks, (C, m) target samples -> () relative squared distance of
    the values to their histogram-matched copy."""
    matched = histogram_matched(values.detach(), target)
    return (values.float() - matched).pow(2).mean() / (matched.pow(2).mean() + EPS)
