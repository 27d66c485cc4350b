"""Runs a work list: skips finished results, groups pictures of one size into batches, makes them,
writes each result atomically, and reports every outcome. Nothing here prints.

Each input is isolated: an unreadable or corrupt photo, a failed optimisation or a failed write
ends that job only (reported with a one-line error), unless `fail_fast`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from ..config import Config
from ..devices import default_batch_size
from ..engine import Result
from ..errors import ImageError, OptimizationError
from ..images import image_size, load_image, remove_stale_parts, save_image
from ..outputs import run_metadata, save_unfinished
from ..pipeline import INIT_KINDS, Network, Picture, StyleBank, stage_sizes, transfer_batch
from ..precision import resolve_precision
from .plan import Job, is_done
from .report import DONE, FAILED, SKIPPED, Events, JsonLog, Outcome, Report

Sizes = tuple[tuple[int, int], ...]  # (width, height) of a picture at each stage: pictures alike share a batch


@dataclass(frozen=True)
class RunOptions:
    overwrite: bool = False  # redo results that already exist
    fail_fast: bool = False  # stop at the first failed job
    log: Path | None = None  # append one JSON line per job here


def run_jobs(jobs: Sequence[Job], config: Config, net: Network, options: RunOptions, events: Events) -> Report:
    """Make every job's result (or skip or fail it); the report says what happened to each."""
    report, log = Report(), JsonLog(options.log)
    runner = _Runner(config, net, options, events, report, log)
    try:
        runner.run(jobs)
    finally:
        log.close()
    return report


def load_styles(jobs: Sequence[Job]) -> dict[Path, Image.Image]:
    """Every style image, decoded once. Styles are few and chosen by hand: a bad one stops the run
    before any work (raises ImageError), rather than failing every job that uses it."""
    return {path: load_image(path) for path in dict.fromkeys(p for job in jobs for p in job.styles)}


class _Runner:
    def __init__(
        self, config: Config, net: Network, options: RunOptions, events: Events, report: Report, log: JsonLog
    ) -> None:
        self.config, self.net, self.options, self.events = config, net, options, events
        self.report, self.log = report, log
        self.stopped = False

    def record(self, outcome: Outcome) -> None:
        self.report.outcomes.append(outcome)
        self.log.write(outcome)
        self.events.finished(outcome)
        if outcome.status == FAILED and self.options.fail_fast:
            self.stopped = self.report.stopped_early = True

    def run(self, jobs: Sequence[Job]) -> None:
        todo = []
        for job in jobs:
            if not self.options.overwrite and is_done(job):
                self.record(Outcome(job, SKIPPED, note="already there (--overwrite to redo)"))
            else:
                todo.append(job)
        if not todo:
            return
        for folder in {job.output.parent for job in todo}:
            remove_stale_parts(folder)  # left by a run that was killed while writing
        styles = load_styles(todo)
        init = None if self.config.init in INIT_KINDS else load_image(Path(self.config.init))
        bank = StyleBank(self.net, self.config, resolve_precision(self.config.precision, self.net.device))
        for sizes, batch in self.batches(todo):
            if self.stopped:
                return
            self.run_batch(batch, sizes, styles, init, bank)

    def batches(self, jobs: Sequence[Job]) -> list[tuple[Sizes, list[Job]]]:
        """Jobs whose pictures have the same size at every stage, in groups of at most the batch size,
        in the order of the work list (by first appearance of each size). Unreadable headers fail here."""
        groups: dict[Sizes, list[Job]] = {}
        for job in jobs:
            try:
                sizes = stage_sizes(image_size(job.content), self.config)
            except ImageError as err:
                self.record(Outcome(job, FAILED, error=err.message))
                continue
            groups.setdefault(sizes, []).append(job)
        batches = []
        for sizes, group in groups.items():
            width, height = sizes[-1]
            size = self.config.batch_size or default_batch_size(self.net.device, width * height)
            batches += [(sizes, group[i : i + size]) for i in range(0, len(group), size)]
        return batches

    def run_batch(self, jobs: list[Job], sizes: Sizes, styles: dict[Path, Image.Image], init: Image.Image | None,
                  bank: StyleBank) -> None:  # fmt: skip
        pictures, ready = [], []
        for job in jobs:
            try:
                content = load_image(job.content)
            except ImageError as err:
                self.record(Outcome(job, FAILED, error=err.message))
                continue
            if stage_sizes(content.size, self.config) != sizes:  # the file changed since its header was read
                self.record(Outcome(job, FAILED, error=f"{job.content}: changed while the run was planned; rerun"))
                continue
            pictures.append(Picture(content, tuple(styles[p] for p in job.styles), init))
            ready.append(job)
        if not ready or self.stopped:
            return
        self.events.batch_started(ready)
        started = time.monotonic()
        outcomes = transfer_batch(pictures, self.config, self.net, self.events.step, bank)
        seconds = (time.monotonic() - started) / len(ready)  # a batch's images share its time
        for job, outcome in zip(ready, outcomes, strict=True):
            self.record(self.save(job, outcome, seconds))

    def save(self, job: Job, outcome: Result | OptimizationError, seconds: float) -> Outcome:
        """Write the result (atomically) or, for a failed optimisation, its last good image marked unfinished."""
        try:
            if isinstance(outcome, OptimizationError):
                assert isinstance(outcome.image, torch.Tensor)  # the engine always keeps the last good image
                kept = save_unfinished(outcome.image, job.output, {"error": outcome.message})
                return Outcome(job, FAILED, error=f"{job.content}: {outcome.message}; last good image in {kept}",
                               seconds=seconds)  # fmt: skip
            save_image(outcome.image, job.output, run_metadata(job.content, job.styles, self.config, outcome))
        except ImageError as err:
            return Outcome(job, FAILED, error=err.message, seconds=seconds)
        job.output.with_name(f"{job.output.stem}.unfinished{job.output.suffix}").unlink(missing_ok=True)
        height, width = outcome.image.shape[-2:]
        losses = {"total": outcome.loss, "content": outcome.content, "style": outcome.style}
        return Outcome(job, DONE, seconds=seconds, size=(width, height), iterations=outcome.iterations,
                       losses=losses, note=outcome.note)  # fmt: skip
