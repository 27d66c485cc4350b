"""When a picture stops improving: the rule behind `--iterations auto`.

A run stops at the first iteration t (t >= window) where the loss improved by less than
`tolerance` of its value over the last `window` iterations:

    loss[t - window] - loss[t] < tolerance * loss[t]

L-BFGS's loss falls steeply at first and then flattens; the window smooths over single slow
iterations (a line search that takes a short step), and the relative tolerance makes the rule
independent of the weights and the size, since the losses are relative errors. The window and
tolerance were chosen by measurement (`benchmarks/stopping.py`, docs/benchmarks/defaults.md).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Plateau:
    """Stop once `window` iterations together improved the loss by less than `tolerance` (relative)."""

    window: int
    tolerance: float

    def watch(self) -> PlateauWatch:
        return PlateauWatch(self)


class PlateauWatch:
    """The losses of one picture's run so far; says when the plateau is reached."""

    def __init__(self, rule: Plateau) -> None:
        self.rule = rule
        self.losses: deque[float] = deque(maxlen=rule.window + 1)

    def reached(self, loss: float) -> bool:
        """Record the loss of the iteration just accepted; True if the run should stop here."""
        self.losses.append(loss)
        if len(self.losses) <= self.rule.window:
            return False
        return self.losses[0] - loss < self.rule.tolerance * abs(loss)
