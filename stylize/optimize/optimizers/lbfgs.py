"""L-BFGS with a strong-Wolfe line search, as a coroutine over one image (see `protocol`).

The L-BFGS and line-search logic follows torch.optim.LBFGS (two-loop recursion, cubic
interpolation, strong-Wolfe bracketing and zoom, as in Nocedal & Wright, Alg. 3.5/3.6), run one
iteration at a time with zero tolerances. Two differences, both deliberate: scalars are Python
floats (float64), and the accepted point's loss and gradient are reused from the line search
instead of being evaluated again at the start of the next iteration.
"""

from __future__ import annotations

import math
from collections.abc import Generator

import torch

from .protocol import Accepted, Coroutine, Evaluation, Request

C1, C2 = 1e-4, 0.9  # sufficient decrease and curvature constants of the strong Wolfe conditions
BRACKET_TOLERANCE = 1e-9  # the line search stops refining a bracket narrower than this (times |d|max)
CURVATURE_MIN = 1e-10  # a step whose y.s is not above this does not update the memory
VISIBLE_STEP = 1 / 255  # a restart's longer gradient step moves the most-changed pixel by one 8-bit level


class _Memory:
    """The last `size` curvature pairs (s, y) and the inverse-Hessian scale."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.steps: list[torch.Tensor] = []  # s = x_{k+1} - x_k
        self.changes: list[torch.Tensor] = []  # y = g_{k+1} - g_k
        self.rho: list[float] = []  # 1 / (y . s)
        self.scale = 1.0  # gamma = (y . s) / (y . y) of the latest pair

    def update(self, step: torch.Tensor, change: torch.Tensor) -> None:
        ys = change.dot(step).item()
        if ys <= CURVATURE_MIN:  # no positive curvature along this step: keep the old pairs
            return
        if len(self.steps) == self.size:
            self.steps.pop(0), self.changes.pop(0), self.rho.pop(0)
        self.steps.append(step)
        self.changes.append(change)
        self.rho.append(1.0 / ys)
        self.scale = ys / change.dot(change).item()

    def direction(self, grad: torch.Tensor) -> torch.Tensor:
        """-H g by the two-loop recursion."""
        q = grad.neg()
        alphas = [0.0] * len(self.steps)
        for i in range(len(self.steps) - 1, -1, -1):
            alphas[i] = self.steps[i].dot(q).item() * self.rho[i]
            q.add_(self.changes[i], alpha=-alphas[i])
        r = q.mul_(self.scale)
        for i in range(len(self.steps)):
            beta = self.changes[i].dot(r).item() * self.rho[i]
            r.add_(self.steps[i], alpha=alphas[i] - beta)
        return r


def lbfgs(start: torch.Tensor, history: int, line_search_evaluations: int) -> Coroutine:
    """Minimise from `start` (flat) until the caller stops asking; returns a note if no descent is left.

    A step that cannot move (no descent direction, or a line search that ends at t = 0) forgets
    the curvature memory and starts over with a gradient step of torch's first length, 1/sum|g|.
    If that cannot move either, one more gradient step is tried, long enough to move the
    most-changed pixel by VISIBLE_STEP: at a million pixels and more torch's step changes the
    float32 loss by less than its rounding, so no line search can see the decrease. Only when
    that fails too does the run end, since nothing is left to try.
    """
    x = start.detach().clone()
    here = yield x
    assert here is not None
    memory, previous_grad, step = _Memory(history), here.grad, torch.zeros_like(x)
    fresh, visible = True, False
    while True:
        grad = here.grad
        if fresh:
            length = grad.abs().max().item() / VISIBLE_STEP if visible else grad.abs().sum().item()
            direction, t = grad.neg(), min(1.0, 1.0 / max(length, 1e-30))
        else:
            memory.update(step, grad.sub(previous_grad))
            direction, t = memory.direction(grad), 1.0
        previous_grad = grad
        slope = grad.dot(direction).item()
        moved = False
        if slope < 0:  # a descent direction (a zero gradient gives none)
            t, found = yield from _strong_wolfe(x, t, direction, here, slope, line_search_evaluations)
            moved = t != 0.0
        if not moved:
            if visible:
                return "no further descent possible"
            visible = fresh  # torch's gradient step could not move: next, one the loss can see
            memory, fresh = _Memory(history), True
            continue
        x = x.add(direction, alpha=t)
        here, step, fresh, visible = found, direction.mul(t), False, False
        yield Accepted(x, here)


Bracket = list[tuple[float, Evaluation, float]]  # (step t, the evaluation there, its slope along d)
Search = Generator[Request, Evaluation | None, tuple[float, Evaluation]]


def _strong_wolfe(x: torch.Tensor, t: float, d: torch.Tensor, start: Evaluation, slope: float,
                  max_evaluations: int) -> Search:  # fmt: skip
    """Find a step t along d satisfying the strong Wolfe conditions; returns t and the evaluation there."""
    first = yield x.add(d, alpha=t)
    assert first is not None
    bracket, done, searches = yield from _bracketing(x, t, d, start, slope, first, max_evaluations)
    if done:
        return bracket[0][0], bracket[0][1]
    return (yield from _zoom(x, d, start, slope, bracket, searches, max_evaluations))


def _bracketing(
    x: torch.Tensor, t: float, d: torch.Tensor, start: Evaluation, slope: float, new: Evaluation, max_evaluations: int
) -> Generator[Request, Evaluation | None, tuple[Bracket, bool, int]]:
    """Grow t until an interval surely holds an acceptable point; (bracket, found already, evaluations)."""
    new_slope = new.grad.dot(d).item()
    prev_t, prev, prev_slope = 0.0, start, slope
    searches = 0
    while searches < max_evaluations:
        if new.loss > start.loss + C1 * t * slope or (searches > 1 and new.loss >= prev.loss):
            return [(prev_t, prev, prev_slope), (t, new, new_slope)], False, searches
        if abs(new_slope) <= -C2 * slope:
            return [(t, new, new_slope)], True, searches
        if new_slope >= 0:
            return [(prev_t, prev, prev_slope), (t, new, new_slope)], False, searches
        step = _cubic_minimum(prev_t, prev.loss, prev_slope, t, new.loss, new_slope,
                              (t + 0.01 * (t - prev_t), t * 10))  # fmt: skip
        prev_t, prev, prev_slope, t = t, new, new_slope, step
        evaluated = yield x.add(d, alpha=t)
        assert evaluated is not None
        new, new_slope = evaluated, evaluated.grad.dot(d).item()
        searches += 1
    return [(0.0, start, slope), (t, new, new_slope)], False, searches


def _zoom(x: torch.Tensor, d: torch.Tensor, start: Evaluation, slope: float, bracket: Bracket, searches: int,
          max_evaluations: int) -> Search:  # fmt: skip
    """Shrink the bracket around a point that satisfies both conditions; returns its t and evaluation."""
    d_norm = d.abs().max().item()
    low, high = (0, 1) if bracket[0][1].loss <= bracket[-1][1].loss else (1, 0)
    insufficient = done = False
    while not done and searches < max_evaluations:
        (t0, e0, s0), (t1, e1, s1) = bracket
        if abs(t1 - t0) * d_norm < BRACKET_TOLERANCE:
            break
        t = _cubic_minimum(t0, e0.loss, s0, t1, e1.loss, s1)
        t, insufficient = _away_from_ends(t, min(t0, t1), max(t0, t1), insufficient)
        new = yield x.add(d, alpha=t)
        assert new is not None
        new_slope = new.grad.dot(d).item()
        searches += 1
        if new.loss > start.loss + C1 * t * slope or new.loss >= bracket[low][1].loss:
            bracket[high] = (t, new, new_slope)
            low, high = (0, 1) if bracket[0][1].loss <= bracket[1][1].loss else (1, 0)
            continue
        if abs(new_slope) <= -C2 * slope:
            done = True
        elif new_slope * (bracket[high][0] - bracket[low][0]) >= 0:
            bracket[high] = bracket[low]
        bracket[low] = (t, new, new_slope)
    return bracket[low][0], bracket[low][1]


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
