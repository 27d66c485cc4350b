"""The run's events, told to the live page as well as to whoever drew them before (the progress bars)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..batch.report import Events, JobOutcome
from .state import LiveState

if TYPE_CHECKING:
    from ..batch.plan import Job
    from ..optimize.engine import Step
    from ..optimize.tiles.tiling import TileStep


class LiveEvents(Events):
    """Forwards every event to `inner`, and records what the page shows in `state`. The page shows the
    batch's first picture (a run with --preview makes one picture at a time unless --batch-size says)."""

    def __init__(self, inner: Events, state: LiveState) -> None:
        self.inner, self.state = inner, state
        self.order: dict[int, int] = {}  # job index (1-based, over the unsharded list) -> position in this run

    def batch_started(self, jobs: Sequence[Job]) -> None:
        self.inner.batch_started(jobs)
        first = jobs[0]
        self.state.begin(self.order.setdefault(first.index, len(self.order)), first.content, first.styles, first.output)

    def step(self, step: Step) -> None:
        self.inner.step(step)
        if step.index != 0:
            return
        height, width = step.image.shape[-2:]
        progress = {"stage": step.stage, "stages": step.stages, "size": [width, height], "iteration": step.overall,
                    "stage_iteration": step.iteration, "stage_iterations": step.iterations}  # fmt: skip
        last = step.iteration >= step.iterations and step.stage == step.stages
        self.state.step(step.overall, (step.loss, step.content, step.style, step.tv), step.image, progress,
                        step.weights, last)  # fmt: skip

    def tile(self, tile: TileStep) -> None:
        self.inner.tile(tile)

    def finished(self, outcome: JobOutcome) -> None:
        self.inner.finished(outcome)
        self.state.end({"output": outcome.job.output.name, "status": outcome.status,
                        "note": outcome.error or outcome.note}, outcome.seconds)  # fmt: skip

    def warning(self, message: str) -> None:
        self.inner.warning(message)
        self.state.say(f"warning: {message}")

    def info(self, message: str) -> None:
        self.inner.info(message)
        self.state.say(message)
