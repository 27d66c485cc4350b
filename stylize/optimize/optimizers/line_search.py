"""The strong-Wolfe line search of L-BFGS, as a sub-coroutine (see `protocol`).

It follows torch.optim.LBFGS's `_strong_wolfe` (cubic interpolation, bracketing and zoom, as in
Nocedal & Wright, Alg. 3.5/3.6). Every trial is a `Probe` along the direction, so each trial's
slope comes back with its loss in the engine's one host read of the round. The accepted point is
the very tensor that was evaluated.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass

import torch

from .protocol import Evaluation, Probe, Request

C1, C2 = 1e-4, 0.9  # sufficient decrease and curvature constants of the strong Wolfe conditions
BRACKET_TOLERANCE = 1e-9  # the line search stops refining a bracket narrower than this (times |d|max)


@dataclass(frozen=True)
class Trial:
    t: float  # the step along the direction
    point: torch.Tensor  # x + t d, as evaluated
    evaluation: Evaluation
    slope: float  # the gradient there along d

    @property
    def loss(self) -> float:
        return self.evaluation.loss


@dataclass(frozen=True)
class Line:
    """Where a line search starts: x, the direction d, the evaluation at x and its slope along d."""

    x: torch.Tensor
    d: torch.Tensor
    start: Evaluation
    slope: float
    d_norm: float  # max |d|
    max_evaluations: int

    def at(self, t: float) -> Probe:
        return Probe(self.x.add(self.d, alpha=t), self.d)

    def origin(self) -> Trial:
        return Trial(0.0, self.x, self.start, self.slope)

    def sufficient(self, trial: Trial) -> bool:
        return trial.loss <= self.start.loss + C1 * trial.t * self.slope

    def curved(self, trial: Trial) -> bool:
        return abs(trial.slope) <= -C2 * self.slope


Bracket = list[Trial]
Search = Generator[Request, Evaluation | None, Trial | None]


def strong_wolfe(line: Line, first: Trial) -> Search:
    """A step satisfying the strong Wolfe conditions, from the first trial; None if it ends at t = 0."""
    bracket, done, searches = yield from _bracketing(line, first)
    found = bracket[0] if done else (yield from _zoom(line, bracket, searches))
    return None if found.t == 0.0 else found


def _trial(line: Line, t: float) -> Generator[Request, Evaluation | None, Trial]:
    probe = line.at(t)
    evaluated = yield probe
    assert evaluated is not None
    return Trial(t, probe.point, evaluated, evaluated.slope)


def _bracketing(line: Line, new: Trial) -> Generator[Request, Evaluation | None, tuple[Bracket, bool, int]]:
    """Grow t until an interval surely holds an acceptable point; (bracket, found already, evaluations)."""
    prev = line.origin()
    searches = 0
    while searches < line.max_evaluations:
        if not line.sufficient(new) or (searches > 1 and new.loss >= prev.loss):
            return [prev, new], False, searches
        if line.curved(new):
            return [new], True, searches
        if new.slope >= 0:
            return [prev, new], False, searches
        t = new.t
        step = _cubic_minimum(prev.t, prev.loss, prev.slope, t, new.loss, new.slope,
                              (t + 0.01 * (t - prev.t), t * 10))  # fmt: skip
        prev, new = new, (yield from _trial(line, step))
        searches += 1
    return [line.origin(), new], False, searches


def _zoom(line: Line, bracket: Bracket, searches: int) -> Generator[Request, Evaluation | None, Trial]:
    """Shrink the bracket around a point that satisfies both conditions; returns it (or the best end)."""
    low, high = (0, 1) if bracket[0].loss <= bracket[-1].loss else (1, 0)
    insufficient = done = False
    while not done and searches < line.max_evaluations:
        b0, b1 = bracket
        if abs(b1.t - b0.t) * line.d_norm < BRACKET_TOLERANCE:
            break
        t = _cubic_minimum(b0.t, b0.loss, b0.slope, b1.t, b1.loss, b1.slope)
        t, insufficient = _away_from_ends(t, min(b0.t, b1.t), max(b0.t, b1.t), insufficient)
        new = yield from _trial(line, t)
        searches += 1
        if not line.sufficient(new) or new.loss >= bracket[low].loss:
            bracket[high] = new
            low, high = (0, 1) if bracket[0].loss <= bracket[1].loss else (1, 0)
            continue
        if line.curved(new):
            done = True
        elif new.slope * (bracket[high].t - bracket[low].t) >= 0:
            bracket[high] = bracket[low]
        bracket[low] = new
    return bracket[low]


def _away_from_ends(t: float, lo: float, hi: float, insufficient: bool) -> tuple[float, bool]:
    """Keep a trial step at least 10% of the bracket away from its ends when progress stalls."""
    eps = 0.1 * (hi - lo)
    if min(hi - t, t - lo) >= eps:
        return t, False
    if insufficient or t >= hi or t <= lo:
        return (hi - eps if abs(t - hi) < abs(t - lo) else lo + eps), False
    return t, True


def _cubic_minimum(
    x1: float, f1: float, g1: float, x2: float, f2: float, g2: float, bounds: tuple[float, float] | None = None
) -> float:
    """Minimiser of the cubic through two points with their slopes, clipped to `bounds`."""
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    if x1 == x2:
        return (lo + hi) / 2.0
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if d2_square < 0:
        return (lo + hi) / 2.0
    d2 = math.sqrt(d2_square)
    (near, g_near), (far, g_far) = ((x1, g1), (x2, g2)) if x1 <= x2 else ((x2, g2), (x1, g1))
    denominator = g_far - g_near + 2 * d2
    if denominator == 0:
        return (lo + hi) / 2.0
    minimum = far - (far - near) * ((g_far + d2 - d1) / denominator)
    return min(max(minimum, lo), hi)
