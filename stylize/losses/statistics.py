"""What a style loss compares: the contract every --style-loss keeps, and the feature moments they share.

A style loss is three steps, so that one code path builds targets for every loss, every blend
and every region:
- `describe` one style image's features at a layer (optionally only where a source mask
  covers it) as a summary that can be mixed;
- `mix` summaries of several styles by their blend shares into a target (a blend is the mixture
  of the styles' feature distributions: mixing Gram matrices, as the classic tools do, is that
  mixture's second moment);
- `error` of a batch's features against the target: relative (0 when equal, about 1 for an
  image without any of the style), per image (N,), and with regions each region against its own
  target, summed by the regions' shares of the picture.
Every statistic is an average over positions, so none grows with the image: a --style-weight
balanced at 256 px stays balanced at 1024 px. Their relative errors are not on one scale (the
Gram's is of fourth powers of the features, the others' of squares), so each has a `balance`,
measured (`benchmarks/style_losses.py calibrate`): the default --style-weight keeps about gram's
content distance whichever loss is chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import torch

EPS = 1e-8  # guards divisions by a region's area or a target's energy

StyleTarget = dict[str, torch.Tensor]  # named parts, each (N|1, ...), with regions (N|1, R, ...)
Moments = dict[str, torch.Tensor]  # named averages over positions, each (N, R, ...): one per region (R = 1: none)


class StyleStatistic(Protocol):
    name: str
    balance: float  # the style weight's multiplier, so that one --style-weight gives every loss about gram's balance

    def describe(self, features: torch.Tensor, weight: torch.Tensor | None) -> StyleTarget:
        """One style's features (1, C, H, W), where they count (1, 1, H, W) or everywhere (None) -> a summary."""
        ...

    def mix(self, summaries: Sequence[StyleTarget], shares: Sequence[float]) -> StyleTarget:
        """The summaries of several styles, blended by `shares` (summing to 1) -> a target (rows: 1)."""
        ...

    def error(
        self, features: torch.Tensor, target: StyleTarget, masks: torch.Tensor | None, shares: torch.Tensor | None
    ) -> torch.Tensor:
        """(N, C, h, w) features against `target` -> (N,) relative error; with region `masks` (N|1, R, h, w)
        the target has a region axis and the regions' errors add up by `shares` (N|1, R)."""
        ...


@runtime_checkable
class MomentStatistic(Protocol):
    """A statistic whose error depends on the features only through averages over positions (moments),
    so that tiles can add theirs up to the whole picture's (optimize/tiles/tiling.py): gram, diagonal,
    wasserstein; `error(f, t, m, s)` is `from_moments(moments(f, m), t, s)` (s None without masks)."""

    def moments(self, features: torch.Tensor, masks: torch.Tensor | None) -> Moments:
        """(N, C, h, w) features (in regions `masks` (N|1, R, h, w)) -> their moments (N, R, ...)."""
        ...

    def from_moments(self, moments: Moments, target: StyleTarget, shares: torch.Tensor | None) -> torch.Tensor:
        """Moments against the target -> (N,) relative error; regions add up by `shares` (None: no regions)."""
        ...


def stack_regions(targets: Sequence[StyleTarget]) -> StyleTarget:
    """Targets of one region each (rows: 1) -> one target with a region axis, (1, R, ...)."""
    return {name: torch.stack([t[name] for t in targets], 1) for name in targets[0]}


def target_rows(target: StyleTarget, index: torch.Tensor) -> StyleTarget:
    """Some images' rows of a target; parts shared by every image (one row) stay as they are."""
    return {name: part if part.shape[0] == 1 else part.index_select(0, index) for name, part in target.items()}


def flat_weights(masks: torch.Tensor | None, features: torch.Tensor) -> torch.Tensor:
    """Region masks (N|1, R, h, w), or None for one region everywhere -> (N|1, R, h*w) float32."""
    if masks is None:
        return torch.ones(1, 1, features.shape[-2] * features.shape[-1], device=features.device)
    return masks.reshape(masks.shape[0], masks.shape[1], -1).float()


def region_means(flat: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """(N, C, P) values, (N|1, R, P) weights -> (N, R, C) each region's weighted mean."""
    return torch.einsum("ncp,nrp->nrc", flat, weights.expand(flat.shape[0], -1, -1)) / (
        weights.sum(-1)[..., None].clamp_min(EPS)
    )


def mixed(summaries: Sequence[StyleTarget], shares: Sequence[float]) -> StyleTarget:
    """Share-weighted sums of each part: the moments of the mixture of several styles' distributions."""
    return {name: sum(s[name] * share for s, share in zip(summaries, shares, strict=True))  # type: ignore[misc]
            for name in summaries[0]}  # fmt: skip


def by_shares(errors: torch.Tensor, shares: torch.Tensor | None) -> torch.Tensor:
    """(N, R) regions' errors -> (N,): summed by the regions' shares of the picture (one region: itself)."""
    return errors[:, 0] if shares is None else (errors * shares).sum(1)
