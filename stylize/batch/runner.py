"""Runs a work list: skips what is done, makes pictures of one size in batches, reports each outcome.

Finished results are skipped, pictures of one size are grouped into batches, each result is
written atomically, and every outcome is reported. Nothing here prints.

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
from ..errors import ImageError, OptimizationError
from ..io.reading import image_size, load_image
from ..io.saving import remove_stale_parts
from ..network.devices import check_memory, default_batch_size
from ..network.loader import Network
from ..network.precision import resolve_precision
from ..optimize.engine import Result
from ..run.files import keep_last_good, read_init, read_photo, save_result
from ..run.pictures import Picture, transfer_batch
from ..run.stages import stage_sizes
from ..run.styles import StyleBank
from .plan import Job, is_done
from .report import DONE, FAILED, SKIPPED, Events, JobOutcome, JsonLog, Report

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


def load_styles(jobs: Sequence[Job], max_pixels: int) -> dict[Path, Image.Image]:
    """Every style image, decoded once. Styles are few and chosen by hand: a bad one stops the run
    before any work (raises ImageError), rather than failing every job that uses it."""
    return {path: load_image(path, max_pixels) for path in dict.fromkeys(p for job in jobs for p in job.styles)}


def size_notes(path: Path, size: tuple[int, int], made: tuple[int, int], long_side: int) -> list[str]:
    """What a user should know about the size a photo is made at."""
    notes = []
    if max(made) > long_side:
        notes.append(f"{path}: {size[0]}x{size[1]} is very wide or tall; made at {made[0]}x{made[1]} so that its "
                     f"shorter side has {min(made)} px, the least the network takes")  # fmt: skip
    elif max(made) >= 4 * max(size):
        notes.append(f"{path}: {size[0]}x{size[1]} is upscaled {max(made) / max(size):.0f}x to {made[0]}x{made[1]}; "
                     "expect a soft picture")  # fmt: skip
    return notes


def release_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()


class _Runner:
    def __init__(
        self, config: Config, net: Network, options: RunOptions, events: Events, report: Report, log: JsonLog
    ) -> None:
        self.config, self.net, self.options, self.events = config, net, options, events
        self.report, self.log = report, log
        self.stopped = False

    def record(self, outcome: JobOutcome) -> None:
        self.report.outcomes.append(outcome)
        self.log.write(outcome)
        self.events.finished(outcome)
        if outcome.status == FAILED and self.options.fail_fast:
            self.stopped = self.report.stopped_early = True

    def run(self, jobs: Sequence[Job]) -> None:
        todo = []
        for job in jobs:
            if not self.options.overwrite and is_done(job):
                self.record(JobOutcome(job, SKIPPED, note="already there (--overwrite to redo)"))
            else:
                todo.append(job)
        if not todo:
            return
        for folder in {job.output.parent for job in todo}:
            remove_stale_parts(folder)  # left by a run that was killed while writing
        styles = load_styles(todo, self.config.max_pixels)
        init = read_init(self.config)
        bank = StyleBank(self.net, self.config, resolve_precision(self.config.precision, self.net.device))
        batches = self.batches(todo)
        self.check_memory(batches)
        for sizes, batch in batches:
            if self.stopped:
                return
            self.run_batch(batch, sizes, styles, init, bank)

    def check_memory(self, batches: list[tuple[Sizes, list[Job]]]) -> None:
        """Before any work: the largest batch must fit in memory (else ResourceError with a size that would)."""
        if not batches:
            return
        sizes, batch = max(batches, key=lambda b: b[0][-1][0] * b[0][-1][1] * len(b[1]))
        warning = check_memory(self.net.device, sizes[-1], len(batch), self.config.size)
        if warning:
            self.events.warning(warning)

    def batches(self, jobs: Sequence[Job]) -> list[tuple[Sizes, list[Job]]]:
        """Jobs whose pictures have the same size at every stage, in groups of at most the batch size,
        in the order of the work list (by first appearance of each size). Unreadable headers fail here."""
        groups: dict[Sizes, list[Job]] = {}
        for job in jobs:
            try:
                sizes = stage_sizes(image_size(job.content, self.config.max_pixels), self.config)
            except ImageError as err:
                self.record(JobOutcome(job, FAILED, error=err.message))
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
        pictures, ready, alphas = [], [], []
        for job in jobs:
            try:
                decoded = read_photo(job.content, self.config)
            except ImageError as err:
                self.record(JobOutcome(job, FAILED, error=err.message))
                continue
            if stage_sizes(decoded.image.size, self.config) != sizes:  # the file changed since its header was read
                self.record(JobOutcome(job, FAILED, error=f"{job.content}: changed while the run was planned; rerun"))
                continue
            for note in (*decoded.notes, *size_notes(job.content, decoded.image.size, sizes[-1], self.config.size)):
                self.events.warning(note)
            pictures.append(Picture(decoded.image, tuple(styles[p] for p in job.styles), init))
            ready.append(job)
            alphas.append(decoded.alpha)
        if not ready or self.stopped:
            return
        started = time.monotonic()
        outcomes = self.transfer(pictures, ready, bank, sizes[-1])
        seconds = (time.monotonic() - started) / len(ready)  # a batch's images share its time
        for job, outcome, alpha in zip(ready, outcomes, alphas, strict=True):
            self.record(self.save(job, outcome, seconds, alpha))

    def transfer(
        self, pictures: list[Picture], jobs: list[Job], bank: StyleBank, size: tuple[int, int]
    ) -> list[Result | OptimizationError]:
        """transfer_batch; when the device runs out of memory, the two halves one after the other."""
        self.events.batch_started(jobs)
        try:
            return transfer_batch(pictures, self.config, self.net, self.events.step, bank)
        except (torch.OutOfMemoryError, MemoryError):
            release_memory(self.net.device)
            width, height = size
            if len(pictures) == 1:
                failure = OptimizationError(f"ran out of memory at {width}x{height} on {self.net.device.type}",
                                            hint="use a smaller --size")  # fmt: skip
                return [failure]
            half = len(pictures) // 2
            self.events.warning(f"out of memory with {len(pictures)} pictures of {width}x{height} at once; "
                                f"retrying {half} at a time")  # fmt: skip
            first = self.transfer(pictures[:half], jobs[:half], bank, size)
            return first + self.transfer(pictures[half:], jobs[half:], bank, size)

    def save(
        self, job: Job, outcome: Result | OptimizationError, seconds: float, alpha: Image.Image | None
    ) -> JobOutcome:
        """Write the result (atomically) or, for a failed optimisation, its last good image marked unfinished."""
        try:
            if isinstance(outcome, OptimizationError):
                kept = keep_last_good(outcome, job.output)
                error = f"{job.content}: " + (f"{outcome.message}; last good image in {kept}" if kept else str(outcome))
                return JobOutcome(job, FAILED, error=error, seconds=seconds)
            save_result(outcome, job.output, job.content, job.styles, self.config, alpha)
        except ImageError as err:
            return JobOutcome(job, FAILED, error=err.message, seconds=seconds)
        height, width = outcome.image.shape[-2:]
        losses = {"total": outcome.loss, "content": outcome.content, "style": outcome.style}
        return JobOutcome(job, DONE, seconds=seconds, size=(width, height), iterations=outcome.iterations,
                       losses=losses, note=outcome.note)  # fmt: skip
