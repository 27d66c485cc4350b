"""The whole picture's style, from its tiles: moments added up over tiles, and each tile's part of the gradient.

For a statistic of averages over positions (a MomentStatistic), the whole picture's moments are the
tiles' moments weighted by their mass (positions, or a region's mask weight there). A pass without
gradients adds them up (`MomentSums`); the style error is taken there, and autograd gives how the
run's weighted total changes with each moment: its pull. A tile's part of the gradient is then the
gradient of sum(pull / total mass * tile mass * tile moment) (`pulled`), exactly, by the chain rule.
"""

from __future__ import annotations

import torch

from ...losses.core import weighted_mean
from ...losses.guidance import Guidance
from ...losses.statistics import EPS, Moments, MomentStatistic, StyleTarget
from ..objective import Objective

LayerMoments = dict[str, tuple[Moments, torch.Tensor]]  # layer -> (moments (N, R, ...), mass (N|1, R))


def tile_moments(objective: Objective, core: dict[str, torch.Tensor], guidance: Guidance | None) -> LayerMoments:
    """A tile's style moments per layer, and their mass per region: positions, or the masks' weight there."""
    statistic = objective.statistic
    assert isinstance(statistic, MomentStatistic)
    found = {}
    for lw in objective.choice.style:
        features = core[lw.name]
        if guidance is None or guidance.style_masks is None:
            masks, mass = None, features.new_full((1, 1), float(features.shape[-1] * features.shape[-2]))
        else:
            masks = guidance.at("style", features)
            mass = masks.sum((-1, -2))
        found[lw.name] = (statistic.moments(features, masks), mass)
    return found


class MomentSums:
    """The tiles' moments, weighted by mass, added up to the whole picture's."""

    def __init__(self) -> None:
        self.sums: dict[str, Moments] = {}
        self.masses: dict[str, torch.Tensor] = {}

    def add(self, tile: LayerMoments) -> None:
        for name, (moments, mass) in tile.items():
            parts = self.sums.setdefault(name, {})
            for part, value in moments.items():
                weighted = value * _spread(mass, value)
                parts[part] = parts[part] + weighted if part in parts else weighted
            self.masses[name] = self.masses[name] + mass if name in self.masses else mass

    def pulls(self, objective: Objective, targets: dict[str, StyleTarget],
              shares: torch.Tensor | None) -> tuple[float, dict[str, Moments]]:  # fmt: skip
        """The whole picture's style error, and each moment's pull on the weighted total per unit of mass."""
        statistic = objective.statistic
        assert isinstance(statistic, MomentStatistic)
        whole = {name: {part: (value / self._mass(name, value)).requires_grad_(True) for part, value in parts.items()}
                 for name, parts in self.sums.items()}  # fmt: skip
        errors = {name: statistic.from_moments(moments, targets[name], shares) for name, moments in whole.items()}
        style = weighted_mean(errors, objective.choice.style)
        leaves = [(name, part, value) for name, parts in whole.items() for part, value in parts.items()]
        with torch.enable_grad():
            grads = torch.autograd.grad(objective.weighted(torch.zeros_like(style), style).sum(),
                                        [value for _, _, value in leaves])  # fmt: skip
        pulls: dict[str, Moments] = {}
        for (name, part, value), pull in zip(leaves, grads, strict=True):
            pulls.setdefault(name, {})[part] = pull / self._mass(name, value)
        return style.item(), pulls

    def _mass(self, name: str, like: torch.Tensor) -> torch.Tensor:
        return _spread(self.masses[name].clamp_min(EPS), like)


def pulled(objective: Objective, core: dict[str, torch.Tensor], guidance: Guidance | None,
           pulls: dict[str, Moments]) -> torch.Tensor:  # fmt: skip
    """sum(pull x mass x moment) over a tile's style layers: its gradient is the tile's part of the whole
    picture's style gradient."""
    total = torch.zeros((), device=next(iter(core.values())).device)
    for name, (moments, mass) in tile_moments(objective, core, guidance).items():
        for part, value in moments.items():
            total = total + (pulls[name][part] * _spread(mass, value) * value).sum()
    return total


def _spread(mass: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Masses (N|1, R) shaped to multiply moments `like` (N, R, ...)."""
    return mass.reshape(*mass.shape, *([1] * (like.dim() - 2)))
