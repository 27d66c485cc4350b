"""The optimisation loop over a batch: one optimiser per image, shared evaluation passes.

Tensors in, tensors out; no printing, no file I/O. Progress is reported through `on_step`.

Pixels are the parameters, the network is frozen. A batch of images is optimised together:
each image has its own optimiser (a coroutine from `lbfgs` or `adam`), and every round the
engine evaluates, in one go, the points that the images asked for. A single image is a batch
of one.

L-BFGS runs one iteration at a time with a strong-Wolfe line search, so that (a) every
iteration is reported with the image it accepted, (b) a non-finite loss is caught at the
evaluation where it appears (the image restarts from the best point it has seen), and (c) the
optimiser never stops early on its own tolerances (a top complaint about the classic tools):
a stall forgets the curvature memory first, and only a second stall in a row ends the run,
with the reason in `Result.note`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from ..errors import OptimizationError
from .evaluation import Evaluate, EvaluationOutcome, NonFinite, evaluate_together, read
from .objective import Objective
from .optimizers.adam import adam
from .optimizers.lbfgs import lbfgs
from .optimizers.protocol import Accepted, Coroutine, Probe
from .steering import STEERABLE, Steering, WeightChange
from .stopping import Plateau

MAX_RECOVERIES = 3  # non-finite losses survived (by restarting from the best image) per image
LBFGS_HISTORY = 50  # curvature pairs kept by default; 2 image-sized vectors each (network/memory.py shortens it)
LINE_SEARCH_EVALUATIONS = 20  # at most this many evaluations per line search after its first


@dataclass(frozen=True)
class OptimizerSettings:
    """What the engine needs of the run's settings (Config's optimizer, iterations, learning_rate)."""

    optimizer: str  # lbfgs or adam
    iterations: int  # iterations to run (at most, with `until`)
    learning_rate: float  # Adam's step size; L-BFGS uses a line search
    until: Plateau | None = None  # stop earlier, once the loss stops improving
    history: int = LBFGS_HISTORY  # L-BFGS curvature pairs kept (fewer when memory is tight)


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
    index: int = 0  # which image of the batch (0-based)
    images: int = 1  # how many images the batch optimises together
    overall: int = 0  # iterations over all sizes so far, a resumed run's included (set by run.pictures)
    weights: dict[str, float] | None = None  # the content, style and tv weights in force (they may be steered)


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
    changes: tuple[WeightChange, ...] = ()  # weights changed while it ran (--preview), in order


OnStep = Callable[[Step], None]


def optimize_batch(
    objective: Objective,
    init: torch.Tensor,
    settings: OptimizerSettings,
    on_step: OnStep | None = None,
    evaluate: Evaluate = evaluate_together,
    steering: Steering | None = None,
) -> list[Result | OptimizationError]:
    """Optimise a batch (B, 3, H, W), image i against row i of the objective's targets; `steering`
    (the live page's controls) is heard between evaluation rounds.

    Returns one Result per image, or the OptimizationError that ended that image (the others go on).
    """
    changed: dict[str, float] = {}
    weights = None  # reported with each step when steered
    if steering is not None:  # weights changed earlier in the run hold here too
        changed = steering.start()
        objective.weights = replace(objective.weights, **changed)
        weights = _steerable(objective)
    runs = [_ImageRun(i, init[i], settings, len(init), on_step, weights) for i in range(len(init))]
    for run in runs:
        run.changes = [WeightChange(0, name, value) for name, value in changed.items()]
    while pending := [run for run in runs if run.request is not None]:
        points = torch.stack([run.point() for run in pending])  # (k, 3, H, W)
        evaluated = evaluate(objective, points, [run.index for run in pending])
        for run, outcome in zip(pending, read(evaluated, [run.probe() for run in pending]), strict=True):
            run.receive(outcome)
        if steering is not None:
            _steer(steering, objective, runs)
    return [run.outcome() for run in runs]


def _steer(steering: Steering, objective: Objective, runs: list[_ImageRun]) -> None:
    """Between rounds: a stop ends every picture where it is; new weights change the objective, so
    each picture restarts its optimiser (curvature memory forgotten) from its current image."""
    directive = steering.between()
    if directive.stop:
        for run in runs:
            run.stop("stopped from the preview page")
    elif directive.weights:
        objective.weights = replace(objective.weights, **directive.weights)
        for run in runs:
            run.restart(directive.weights, _steerable(objective))


def _steerable(objective: Objective) -> dict[str, float]:
    return {name: getattr(objective.weights, name) for name in STEERABLE}


class _ImageRun:
    """One image of a batch: its optimiser coroutine, its best point, its counts."""

    def __init__(self, index: int, start: torch.Tensor, settings: OptimizerSettings, images: int,
                 on_step: OnStep | None, weights: dict[str, float] | None) -> None:  # fmt: skip
        self.index, self.settings, self.images, self.on_step = index, settings, images, on_step
        self.weights = weights  # the steerable weights in force, reported with each step (None: not steered)
        self.shape = start.shape  # (3, H, W)
        self.best = start.detach().reshape(-1).clone().contiguous()
        self.current = self.best  # the last accepted point (the start until then)
        self.changes: list[WeightChange] = []
        self.best_loss, self.best_terms = math.inf, (math.nan,) * 4
        self.evaluations = self.done = self.recoveries = 0
        self.note: str | None = None
        self.error: OptimizationError | None = None
        self.request: torch.Tensor | Probe | None = None
        self.plateau = settings.until.watch() if settings.until else None
        self._start()

    def _start(self) -> None:
        if self.settings.optimizer == "lbfgs":
            self.coroutine: Coroutine = lbfgs(self.best, self.settings.history, LINE_SEARCH_EVALUATIONS)
        else:  # each restart after a non-finite loss halves Adam's step
            self.coroutine = adam(self.best, self.settings.learning_rate / 2**self.recoveries)
        request = next(self.coroutine)
        assert not isinstance(request, Accepted)
        self.request = request

    def probe(self) -> Probe | None:
        return self.request if isinstance(self.request, Probe) else None

    def flat(self) -> torch.Tensor:
        assert self.request is not None
        return self.request.point if isinstance(self.request, Probe) else self.request

    def point(self) -> torch.Tensor:
        return self.flat().view(self.shape)

    def receive(self, outcome: EvaluationOutcome) -> None:
        if isinstance(outcome, NonFinite):
            self._recover(outcome.reason)
            return
        self.evaluations += 1
        if outcome.loss < self.best_loss:
            # the coroutines never modify a point they yielded
            self.best, self.best_loss, self.best_terms = self.flat(), outcome.loss, outcome.terms
        try:
            request = self.coroutine.send(outcome)
            while isinstance(request, Accepted):
                self.done += 1
                self.current = request.point
                self._report(request)
                if self.done >= self.settings.iterations or self._plateau(request):
                    self.request = None
                    return
                request = self.coroutine.send(None)
            self.request = request
        except StopIteration as stop:
            self.note, self.request = f"converged after {self.done} iterations: {stop.value}", None

    def stop(self, why: str) -> None:
        if self.request is not None:
            self.note, self.request = why, None

    def restart(self, changed: dict[str, float], weights: dict[str, float]) -> None:
        """The objective changed: start afresh from the current image (its old losses compare with nothing)."""
        if self.request is None:
            return
        self.changes += [WeightChange(self.done, name, value) for name, value in changed.items()]
        self.weights = weights
        self.best, self.best_loss = self.current, math.inf
        self.plateau = self.settings.until.watch() if self.settings.until else None
        self._start()

    def _plateau(self, accepted: Accepted) -> bool:
        return self.plateau is not None and self.plateau.reached(accepted.evaluation.loss)

    def _report(self, accepted: Accepted) -> None:
        if self.on_step is None:
            return
        total, content, style, tv = accepted.evaluation.terms
        self.on_step(Step(self.done, self.settings.iterations, self.evaluations, total, content, style, tv,
                          accepted.point.view(1, *self.shape), index=self.index, images=self.images,
                          weights=self.weights))  # fmt: skip

    def _recover(self, reason: str) -> None:
        """Go back to the best point seen, or give up (keeping it) after too many tries."""
        self.recoveries += 1
        if self.recoveries > MAX_RECOVERIES:
            self.error = OptimizationError(
                f"the loss stayed non-finite ({reason}) after {MAX_RECOVERIES} restarts",
                hint="lower --style-weight or --lr, or use --init content",
            )
            self.error.image = self.image()
            self.request = None
            return
        self.note = f"recovered from a non-finite loss {self.recoveries}x"
        self._start()

    def image(self) -> torch.Tensor:
        return self.best.view(1, *self.shape).clamp(0.0, 1.0)

    def outcome(self) -> Result | OptimizationError:
        if self.error is not None:
            return self.error
        total, content, style, tv = self.best_terms
        return Result(self.image(), self.done, self.evaluations, total, content, style, tv, self.note,
                      tuple(self.changes))
