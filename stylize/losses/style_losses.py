"""The --style-loss choices by name: what each compares, in one place."""

from __future__ import annotations

from ..config import STYLE_LOSSES
from .moments import DiagonalStatistic, GramStatistic
from .sliced import SlicedStatistic
from .statistics import StyleStatistic
from .wasserstein import WassersteinStatistic


def style_statistic(name: str = "gram", seed: int = 0, draw: int = 0) -> StyleStatistic:
    """The statistic of --style-loss `name`; `seed` and `draw` choose the sliced loss's directions."""
    statistics: dict[str, StyleStatistic] = {"gram": GramStatistic(), "diagonal": DiagonalStatistic(),
                                             "wasserstein": WassersteinStatistic(),
                                             "sliced": SlicedStatistic(seed, draw)}  # fmt: skip
    if name not in statistics:
        raise ValueError(f"unknown style loss {name!r}: one of {', '.join(STYLE_LOSSES)}")
    return statistics[name]
