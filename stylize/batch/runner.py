"""Runs a work list: skips what is done, makes pictures of one size in batches, reports each outcome.

Finished results are skipped, pictures alike are made in batches (`batches`), a picture a killed
run left unfinished continues from where it stopped, each result is written atomically, and
every outcome is reported. Nothing here prints. Photos are read ahead of their batch, and on a GPU
results are written behind it, on one file thread (`overlap`).

Each input is isolated: an unreadable or corrupt photo or a failed optimisation ends that job
only (reported with a one-line error), unless `fail_fast`. A result that cannot be written
because of where it goes (a full disk or quota, a file-size limit, a read-only or forbidden
folder) stops the run: the next one could not be written either.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
from PIL import Image

from ..config import Config
from ..errors import OptimizationError
from ..network.devices import memory_budget
from ..network.loader import Network
from ..network.memory import plan_note
from ..network.precision import resolve_precision
from ..optimize.engine import Result
from ..optimize.steering import Steering
from ..run.files import read_init
from ..run.pictures import Picture, transfer_batch
from ..run.regions import Masks, load_masks
from ..run.stages import memory_plan
from ..run.styles import StyleBank
from .batches import Batch, Grouping, load_styles
from .overlap import FileWork
from .plan import Job
from .reads import Read, prepare, read_batch
from .report import SKIPPED, Events, JobOutcome, JsonLog, Recorder, Report
from .results import jobs_to_make, save_outcome


@dataclass(frozen=True)
class RunOptions:
    overwrite: bool = False  # redo results that already exist
    resume: bool = True  # continue pictures from the unfinished images a killed run left
    fail_fast: bool = False  # stop at the first failed job
    log: Path | None = None  # append one JSON line per job here


def run_jobs(
    jobs: Sequence[Job], config: Config, net: Network, options: RunOptions, events: Events,
    report: Report | None = None, masks: Masks | None = None, steering: Steering | None = None,
) -> Report:  # fmt: skip
    """Make every job's result (or skip or fail it); the report (`report`, if given, so that a caller
    that is interrupted still has it) says what happened to each. `masks`: the run's, read for the
    whole list of styles (default: read here, for the jobs' styles in order). `steering`: the live
    page's controls (a batch it skips is reported skipped and not written)."""
    report, log = report or Report(), JsonLog(options.log)
    masks = masks or load_masks(config, list(dict.fromkeys(p for job in jobs for p in job.styles)))
    runner = _Runner(config, net, options, events, report, log, masks, steering)
    try:
        runner.run(jobs)
    finally:
        log.close()
    return report


def writes_behind(device: torch.device) -> bool:
    """Whether results are written on the file thread while the next batch computes: on a GPU (a CPU
    computes on every core already, and there the writes take a small part of a batch's time)."""
    return device.type == "cuda"


def release_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()


class _Runner:
    def __init__(
        self, config: Config, net: Network, options: RunOptions, events: Events, report: Report, log: JsonLog,
        masks: Masks, steering: Steering | None,
    ) -> None:  # fmt: skip
        self.config, self.net, self.options, self.events, self.masks = config, net, options, events, masks
        self.steering = steering
        self.report, self.log = report, log
        recorder = Recorder(report, log, events, options.fail_fast)
        self.record, self.failed = recorder.record, recorder.failed
        self.grouping = Grouping(config, net.device, options.resume, self.failed, events.warning, events.info)

    @property
    def stopped(self) -> bool:
        return self.report.stop_reason is not None

    def run(self, jobs: Sequence[Job]) -> None:
        todo = jobs_to_make(jobs, self.options.overwrite, self.record)
        if not todo:
            return
        styles = load_styles(todo, self.config.max_pixels)
        init = read_init(self.config)
        bank = StyleBank(self.net, self.config, resolve_precision(self.config.precision, self.net.device))
        batches = self.grouping.batches(todo)
        self.check_memory(batches)
        files = FileWork(writing=writes_behind(self.net.device))
        try:
            upcoming = files.read(partial(self.read_batch, batches[0])) if batches else None
            for number, batch in enumerate(batches):
                if self.stopped or upcoming is None:
                    return
                read = upcoming.result()
                later = batches[number + 1] if number + 1 < len(batches) else None
                upcoming = files.read(partial(self.read_batch, later)) if later is not None else None
                self.run_batch(batch, read, styles, init, bank, files)
        finally:
            files.close(self.record)

    def check_memory(self, batches: list[Batch]) -> None:
        """Before any work: the largest batch must fit in memory, in tiles if need be (else ResourceError
        saying what would); says how it fits when that is not whole."""
        if not batches:
            return
        largest = max(batches, key=lambda b: b.sizes[-1][0] * b.sizes[-1][1] * len(b.jobs))
        (width, height), budget = largest.sizes[-1], memory_budget(self.config.max_memory, self.net.device)
        plan = memory_plan(self.config, (width, height), len(largest.jobs), budget)  # ResourceError if it cannot fit
        note = plan_note(plan, width, height, len(largest.jobs), budget)
        if note:
            self.events.info(note)

    def read_batch(self, batch: Batch) -> list[Read | JobOutcome]:
        return read_batch(batch, self.config, self.masks, self.options.overwrite, self.grouping.unfinished)

    def run_batch(self, batch: Batch, read: list[Read | JobOutcome], styles: dict[Path, Image.Image],
                  init: Image.Image | None, bank: StyleBank, files: FileWork) -> None:  # fmt: skip
        prepared = prepare(read, batch, styles, init, self.config, self.masks, self.events, self.record)
        pictures, ready, alphas = prepared.pictures, prepared.jobs, prepared.alphas
        if not ready or self.stopped:
            return
        started = time.monotonic()
        outcomes = self.transfer(pictures, ready, bank, batch.sizes[-1])
        seconds = (time.monotonic() - started) / len(ready)  # a batch's images share its time
        files.report_writes(self.record)  # the last batch's, written while this one computed
        skipped = self.steering is not None and self.steering.skipping
        for job, outcome, alpha in zip(ready, outcomes, alphas, strict=True):
            if skipped:
                self.record(JobOutcome(job, SKIPPED, note="skipped from the preview page", seconds=seconds))
            elif not self.stopped:
                files.write(partial(save_outcome, job, outcome, seconds, alpha, self.config, self.report), self.record)
        if self.steering is not None:
            self.steering.end_batch()

    def transfer(
        self, pictures: list[Picture], jobs: list[Job], bank: StyleBank, size: tuple[int, int]
    ) -> list[Result | OptimizationError]:
        self.events.batch_started(jobs)
        return transfer_halving(pictures, self.config, self.net, bank, self.events, size, self.steering)


def transfer_halving(
    pictures: list[Picture], config: Config, net: Network, bank: StyleBank, events: Events, size: tuple[int, int],
    steering: Steering | None = None,
) -> list[Result | OptimizationError]:  # fmt: skip
    """transfer_batch; when the device runs out of memory, the two halves one after the other."""
    try:
        return transfer_batch(pictures, config, net, events.step, bank, events.tile, steering)
    except (torch.cuda.OutOfMemoryError, MemoryError):  # torch.OutOfMemoryError from torch 2.5 on; the same class
        release_memory(net.device)
        width, height = size
        if len(pictures) == 1:
            failure = OptimizationError(f"ran out of memory at {width}x{height} on {net.device.type}",
                                        hint="use a smaller --size")  # fmt: skip
            return [failure]
        half = len(pictures) // 2
        events.warning(f"out of memory with {len(pictures)} pictures of {width}x{height} at once; "
                       f"retrying {half} at a time")  # fmt: skip
        first = transfer_halving(pictures[:half], config, net, bank, events, size, steering)
        return first + transfer_halving(pictures[half:], config, net, bank, events, size, steering)
