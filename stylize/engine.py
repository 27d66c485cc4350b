"""One optimisation run: pixels are the parameters, the network is frozen.

Tensors in, tensor out; no printing, no file I/O. Progress is reported through `on_step`.

L-BFGS is driven one iteration per `step()` call with a strong-Wolfe line search, so that
(a) every iteration is reported with the image it accepted, (b) a non-finite loss is caught at
the evaluation where it appears, and (c) the optimiser never stops early on its own
tolerances (a top complaint about the classic tools): a stall resets its memory first, and
only a second stall in a row ends the run, with the reason in `Result.note`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from .config import Config
from .errors import OptimizationError
from .objective import LossTerms, Objective

MAX_RECOVERIES = 3  # non-finite losses survived (by restarting from the best image) per run
LBFGS_HISTORY = 50  # curvature pairs kept; 2 image-sized vectors each
LINE_SEARCH_EVALUATIONS = 20  # torch caps the line search at max_eval - 1 evaluations


@dataclass(frozen=True)
class Step:
    iteration: int  # iterations finished so far
    iterations: int  # iterations asked for
    evaluations: int  # objective evaluations so far (a line search may need several)
    loss: float  # weighted total
    content: float  # unweighted content error
    style: float  # unweighted style error
    tv: float  # unweighted total variation
    image: torch.Tensor  # (1, 3, H, W) current image; read-only, clone to keep
    stage: int = 1  # which size of a coarse-to-fine run (1-based); iteration counts restart per stage
    stages: int = 1  # how many sizes the run has


@dataclass(frozen=True)
class Result:
    image: torch.Tensor  # (1, 3, H, W) in [0, 1], the best image seen
    iterations: int  # done (over all sizes of a coarse-to-fine run)
    evaluations: int  # objective evaluations, likewise
    loss: float
    content: float
    style: float
    tv: float
    note: str | None = None  # why the run ended before `iterations`, or what it recovered from


OnStep = Callable[[Step], None]


class NonFiniteLoss(ArithmeticError):
    """Raised inside the closure when the loss or its gradient is inf/NaN."""


class _Evaluator:
    """Evaluates the objective with gradients, memoised on the pixel values, tracking the best image.

    Loss scaling: the objective is O(1) (relative errors), so its gradient per pixel is about
    1/(H*W). As the lesson notes, tiny losses give gradients that vanish in low precision; we
    back-propagate the objective times H*W so that per-pixel gradients are O(1) at every size.
    """

    def __init__(self, objective: Objective, image: torch.Tensor) -> None:
        self.objective = objective
        self.image = image
        self.scale = float(image.shape[-1] * image.shape[-2])
        self.evaluations = 0
        self.last_pixels: torch.Tensor | None = None
        self.last: LossTerms | None = None
        self.best_loss = float("inf")
        self.best_image = image.detach().clone()

    def __call__(self) -> torch.Tensor:
        if self.last is not None and self.last_pixels is not None and torch.equal(self.last_pixels, self.image):
            return self.last.total.detach() * self.scale  # same point: .grad still holds its gradient
        self.image.grad = None
        terms = self.objective(self.image)
        if not torch.isfinite(terms.total):
            raise NonFiniteLoss(f"loss became {terms.total.item()}")
        (terms.total * self.scale).backward()  # type: ignore[no-untyped-call]
        assert self.image.grad is not None
        if not torch.isfinite(self.image.grad).all():
            raise NonFiniteLoss("gradient became non-finite")
        self.evaluations += 1
        self.last, self.last_pixels = terms, self.image.detach().clone()
        value = terms.total.item()
        if value < self.best_loss:
            self.best_loss = value
            self.best_image.copy_(self.image.detach())
        return terms.total.detach() * self.scale


def optimize(objective: Objective, init: torch.Tensor, config: Config, on_step: OnStep | None = None) -> Result:
    """Minimise `objective` over the pixels of an image that starts as `init` (1, 3, H, W)."""
    image = init.detach().clone().contiguous().requires_grad_(True)  # L-BFGS needs contiguous grads
    evaluator = _Evaluator(objective, image)
    run = _lbfgs if config.optimizer == "lbfgs" else _adam
    done, note = run(evaluator, config, on_step)
    return _result(evaluator, done, note)


def _report(evaluator: _Evaluator, done: int, config: Config, on_step: OnStep | None) -> None:
    if on_step is None or evaluator.last is None:
        return
    t = evaluator.last
    on_step(Step(done, config.iterations, evaluator.evaluations, t.total.item(), t.content.item(),
                 t.style.item(), t.tv.item(), evaluator.image.detach()))  # fmt: skip


def _new_lbfgs(image: torch.Tensor) -> torch.optim.LBFGS:
    # Zero tolerances: the run ends when the user's iteration count is reached, not on a
    # threshold tuned for another loss scale. max_iter=1: one iteration per step() call; then
    # torch's default max_eval (1) would silently leave the line search no evaluations at all.
    return torch.optim.LBFGS([image], lr=1.0, max_iter=1, max_eval=LINE_SEARCH_EVALUATIONS + 1,
                             history_size=LBFGS_HISTORY, tolerance_grad=0.0, tolerance_change=0.0,
                             line_search_fn="strong_wolfe")  # fmt: skip


def _lbfgs(evaluator: _Evaluator, config: Config, on_step: OnStep | None) -> tuple[int, str | None]:
    image = evaluator.image
    optimizer, done, stalls, recoveries, note = _new_lbfgs(image), 0, 0, 0, None
    while done < config.iterations:
        before = image.detach().clone()
        try:
            optimizer.step(evaluator)  # type: ignore[no-untyped-call]
        except NonFiniteLoss as err:
            recoveries += 1
            _recover(evaluator, err, recoveries)
            optimizer, note = _new_lbfgs(image), f"recovered from a non-finite loss {recoveries}x"
            continue
        if torch.equal(before, image.detach()):  # no descent direction: forget the curvature
            stalls += 1
            if stalls == 2:
                return done, f"converged after {done} iterations: no further descent possible"
            optimizer = _new_lbfgs(image)
            continue
        stalls, done = 0, done + 1
        evaluator()  # no-op unless the accepted point was never evaluated
        _report(evaluator, done, config, on_step)
    return done, note


def _adam(evaluator: _Evaluator, config: Config, on_step: OnStep | None) -> tuple[int, str | None]:
    image = evaluator.image
    optimizer = torch.optim.Adam([image], lr=config.learning_rate)
    recoveries, note = 0, None
    for done in range(1, config.iterations + 1):
        try:
            evaluator()
        except NonFiniteLoss as err:
            recoveries += 1
            _recover(evaluator, err, recoveries)
            optimizer, note = torch.optim.Adam([image], lr=config.learning_rate / 2**recoveries), "recovered"
            continue
        optimizer.step()
        with torch.no_grad():
            image.clamp_(0.0, 1.0)
        _report(evaluator, done, config, on_step)
    return config.iterations, note


def _recover(evaluator: _Evaluator, err: NonFiniteLoss, recoveries: int) -> None:
    """Go back to the best image seen, or give up (keeping it) after too many tries."""
    with torch.no_grad():
        evaluator.image.copy_(evaluator.best_image)
    evaluator.last = evaluator.last_pixels = None
    if recoveries > MAX_RECOVERIES:
        failure = OptimizationError(
            f"the loss stayed non-finite ({err}) after {MAX_RECOVERIES} restarts",
            hint="lower --style-weight or --lr, or use --init content",
        )
        failure.image = evaluator.best_image.clamp(0.0, 1.0)
        raise failure


def _result(evaluator: _Evaluator, done: int, note: str | None) -> Result:
    evaluator.image.requires_grad_(False)
    with torch.no_grad():
        evaluator.image.copy_(evaluator.best_image)
    evaluator.last = None
    with torch.no_grad():
        terms = evaluator.objective(evaluator.image)
    return Result(evaluator.best_image.clamp(0.0, 1.0), done, evaluator.evaluations, terms.total.item(),
                  terms.content.item(), terms.style.item(), terms.tv.item(), note)  # fmt: skip
