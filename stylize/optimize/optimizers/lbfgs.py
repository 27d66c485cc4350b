"""L-BFGS with a strong-Wolfe line search, as a coroutine over one image (see `protocol`).

The L-BFGS and line-search logic follows torch.optim.LBFGS (two-loop recursion, cubic
interpolation, strong-Wolfe bracketing and zoom, as in Nocedal & Wright, Alg. 3.5/3.6), run one
iteration at a time with zero tolerances. Differences, all deliberate: the line search's scalars
are Python floats (float64); the accepted point's loss and gradient are reused from the line
search instead of being evaluated again at the start of the next iteration; and nothing is read
from the device between evaluations. The direction comes from the compact form of the recursion
(`curvature`), and what the iteration must know about it (its slope, its largest value, a first
step computed from the gradient) is read with the line search's first evaluation, in the round's
one host read. A direction that turns out not to descend therefore costs one evaluation that
is not used (it cannot happen with positive curvature pairs, only at a zero gradient).
"""

from __future__ import annotations

from collections.abc import Generator

import torch

from .curvature import CurvatureMemory
from .line_search import Line, Trial, strong_wolfe
from .protocol import Accepted, Coroutine, Evaluation, Probe, Request

VISIBLE_STEP = 1 / 255  # a restart's longer gradient step moves the most-changed pixel by one 8-bit level


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
    memory = CurvatureMemory(history, x.numel(), like=x)
    previous_grad, step = here.grad, x  # `step` is set by the first accepted step, before it is used
    fresh, visible = True, False
    while True:
        grad = here.grad
        if fresh:
            length = grad.abs().amax() / VISIBLE_STEP if visible else grad.abs().sum()
            direction, t = grad.neg(), length.clamp_min(1e-30).reciprocal().clamp_max(1.0)
        else:
            memory.update(step[None], grad.sub(previous_grad)[None])
            direction, t = memory.direction(grad[None])[0], None
        previous_grad = grad
        found = yield from _search(x, direction, t, here, line_search_evaluations)
        if found is None:
            if visible:
                return "no further descent possible"
            visible = fresh  # torch's gradient step could not move: next, one the loss can see
            memory.forget()
            fresh = True
            continue
        x, here, step, fresh, visible = found.point, found.evaluation, direction.mul(found.t), False, False
        yield Accepted(x, here)


def _search(x: torch.Tensor, direction: torch.Tensor, t: torch.Tensor | None, here: Evaluation,
            max_evaluations: int) -> Generator[Request, Evaluation | None, Trial | None]:  # fmt: skip
    """The line search along `direction` from its first step `t` (on the device; None: 1): its accepted
    trial, or None if the direction does not descend or the search ends at t = 0."""
    scalars = (here.grad.dot(direction), direction.abs().amax())
    if t is None:
        first = Probe(x.add(direction), direction, scalars)
    else:
        first = Probe(x.add(t * direction), direction, (*scalars, t))
    evaluated = yield first
    assert evaluated is not None
    start_slope, d_norm, first_t = (*evaluated.extras, 1.0)[:3]
    if not start_slope < 0:  # no descent along it (a zero gradient gives none)
        return None
    line = Line(x, direction, here, start_slope, d_norm, max_evaluations)
    return (yield from strong_wolfe(line, Trial(first_t, first.point, evaluated, evaluated.slope)))
