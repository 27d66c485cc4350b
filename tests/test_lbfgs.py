"""The coroutine optimisers against torch's own, on functions with known behaviour."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import pytest
import torch

from stylize.optimize.optimizers.adam import adam
from stylize.optimize.optimizers.lbfgs import lbfgs
from stylize.optimize.optimizers.protocol import Accepted, Coroutine, Evaluation, Probe

Function = Callable[[torch.Tensor], torch.Tensor]


def problem(seed: int = 0, n: int = 40) -> Function:
    """A smooth, non-quadratic, badly conditioned function of n variables."""
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, n, generator=g, dtype=torch.float64) * torch.logspace(0, 1.5, n, dtype=torch.float64)
    b = torch.randn(n, generator=g, dtype=torch.float64)
    return lambda x: (a @ x - b).pow(2).sum() + 0.1 * x.pow(4).sum()


def answered(request: torch.Tensor | Probe, value: float, grad: torch.Tensor) -> Evaluation:
    """What the engine sends back: with a probe, its slope and its extras read."""
    if not isinstance(request, Probe):
        return Evaluation(value, grad)
    slope = grad.dot(request.direction).item() if request.direction is not None else math.nan
    return Evaluation(value, grad, None, slope, tuple(e.item() for e in request.extras))


def point_of(request: torch.Tensor | Probe) -> torch.Tensor:
    return request.point if isinstance(request, Probe) else request


def evaluate(f: Function, request: torch.Tensor | Probe) -> Evaluation:
    point = point_of(request).detach().clone().requires_grad_(True)
    value = f(point)
    value.backward()  # type: ignore[no-untyped-call]
    assert point.grad is not None
    return answered(request, value.item(), point.grad.detach())


def drive(coroutine: Coroutine, f: Function, iterations: int) -> tuple[list[torch.Tensor], int]:
    """Run a coroutine for `iterations` accepted steps; the points and the number of evaluations."""
    points, evaluations = [], 0
    request = next(coroutine)
    while len(points) < iterations:
        if isinstance(request, Accepted):
            points.append(request.point)
            request = coroutine.send(None)
        else:
            evaluations += 1
            request = coroutine.send(evaluate(f, request))
    return points, evaluations


def torch_lbfgs(f: Function, x0: torch.Tensor, iterations: int) -> list[torch.Tensor]:
    x = x0.clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS([x], lr=1.0, max_iter=1, max_eval=21, history_size=10, tolerance_grad=0.0,
                                  tolerance_change=0.0, line_search_fn="strong_wolfe")  # fmt: skip

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        value = f(x)
        value.backward()  # type: ignore[no-untyped-call]
        return value

    points = []
    for _ in range(iterations):
        optimizer.step(closure)  # type: ignore[no-untyped-call]
        points.append(x.detach().clone())
    return points


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lbfgs_follows_torchs_lbfgs_step_by_step(seed: int) -> None:
    f = problem(seed)
    x0 = torch.zeros(40, dtype=torch.float64)
    ours, _ = drive(lbfgs(x0, history=10, line_search_evaluations=20), f, 25)
    theirs = torch_lbfgs(f, x0, 25)
    for k, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert torch.allclose(a, b, rtol=1e-6, atol=1e-8), f"iteration {k + 1} differs"
    values = [f(x0).item()] + [f(x).item() for x in ours]
    assert all(b <= a for a, b in itertools.pairwise(values)), "every accepted step descends"
    assert values[-1] < 0.5 * values[0]


def test_lbfgs_needs_no_evaluation_beyond_its_line_searches() -> None:
    f = problem(3)
    points, evaluations = drive(lbfgs(torch.zeros(40, dtype=torch.float64), 10, 20), f, 20)
    assert len(points) == 20
    assert 20 <= evaluations <= 20 * 3  # one per iteration when the unit step is accepted, and the start


def test_lbfgs_reports_when_no_descent_is_left() -> None:
    coroutine = lbfgs(torch.zeros(3), history=5, line_search_evaluations=20)
    request = next(coroutine)
    with pytest.raises(StopIteration) as stopped:  # a constant function: every direction is flat
        while True:
            request = coroutine.send(None if isinstance(request, Accepted) else answered(request, 1.0, torch.zeros(3)))
    assert "no further descent" in stopped.value.value


def test_adam_follows_torchs_adam_and_clamps() -> None:
    f = problem(4, n=10)
    x0 = torch.full((10,), 0.5, dtype=torch.float64)
    ours, evaluations = drive(adam(x0, 0.01), f, 30)
    x = x0.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=0.01)
    for k in range(30):
        optimizer.zero_grad()
        f(x).backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        with torch.no_grad():
            x.clamp_(0, 1)
        assert torch.allclose(ours[k], x.detach(), atol=1e-9), f"step {k + 1} differs"
    assert evaluations == 30


def test_lbfgs_moves_where_torchs_first_step_is_too_small_for_the_loss_to_see() -> None:
    """As with a million pixels seen through bfloat16: the loss only sees the point rounded to 1/1024,
    and torch's first step, 1/sum|g|, moves no coordinate by half of that. (Straight-through gradient.)"""
    generator = torch.Generator().manual_seed(0)
    target = torch.rand(100_000, generator=generator)

    def rounded(request: torch.Tensor | Probe) -> Evaluation:
        error = torch.round(point_of(request) * 1024) / 1024 - target
        return answered(request, error.pow(2).sum().item(), 2 * error)

    start = torch.full((100_000,), 0.5)
    first_step = 1 / rounded(start).grad.abs().sum().item()
    assert first_step * rounded(start).grad.abs().max().item() < 0.5 / 1024, "the test needs an invisible first step"
    coroutine, accepted = lbfgs(start, 10, 20), []
    request = next(coroutine)
    while len(accepted) < 3:
        if isinstance(request, Accepted):
            accepted.append(request)
            request = coroutine.send(None)
        else:
            request = coroutine.send(rounded(request))
    assert accepted[-1].evaluation.loss < 0.5 * rounded(start).loss
