"""A folder run on a fleet: planned and written here as a local run is, made by the workers.

The work list, the skips, the batches (pictures alike, resume points) and the reading of each photo
are the local runner's (batch/); each batch goes to a worker as bytes, and each result comes back
and is written here with the one save path, so the files are those of a local run with the same
settings. What a worker had not finished when the run was stopped is kept as an unfinished image.

The driver decodes and writes results on WRITERS threads (PNG coding releases Python's lock): one
512 px PNG takes it about 65 ms to write (measured: docs/benchmarks/scale.md), so on one thread a
driver would keep up with one or two GPUs only. Every write is waited for before the run returns.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

import torch
from PIL import Image

from ..batch.batches import Batch, Grouping, load_styles
from ..batch.plan import Job
from ..batch.reads import prepare, read_batch
from ..batch.report import FAILED, Events, JobOutcome, JsonLog, Recorder, Report
from ..batch.results import jobs_to_make, save_outcome
from ..batch.runner import RunOptions
from ..config import Config
from ..io.tensors import to_tensor
from ..network.devices import MAX_CPU_BATCH, MAX_GPU_BATCH
from ..run.files import read_init, save_unfinished
from ..run.provenance import unfinished_metadata
from ..run.regions import Masks
from .orders import Answer, BatchOrder, Where
from .packing import PackedOutcome, pack, unpack_outcome, unpng
from .pool import RETRIES, Handlers, Pool, Task

WRITERS = min(4, os.cpu_count() or 1)  # threads writing results on the driver


@dataclass(frozen=True)
class Sent:
    """What the driver keeps of a batch it sent: its jobs and their photos' transparency."""

    jobs: tuple[Job, ...]
    alphas: tuple[Image.Image | None, ...]


def run_fleet_jobs(jobs: Sequence[Job], config: Config, pool: Pool, options: RunOptions, events: Events,
                   report: Report, masks: Masks) -> Report:  # fmt: skip
    """Make every job's result on the fleet (or skip or fail it), as `run_jobs` does on this machine."""
    log = JsonLog(options.log)
    try:
        _Driver(config, pool, options, events, report, log, masks).run(jobs)
    finally:
        log.close()
    return report


class _Driver:
    def __init__(self, config: Config, pool: Pool, options: RunOptions, events: Events, report: Report,
                 log: JsonLog, masks: Masks) -> None:  # fmt: skip
        self.config, self.pool, self.options, self.events = config, pool, options, events
        self.report, self.log, self.masks = report, log, masks
        recorder = Recorder(report, log, events, options.fail_fast)
        self.record, self.failed = recorder.record, recorder.failed
        self.writer = ThreadPoolExecutor(WRITERS, thread_name_prefix="stylize-write")
        self.writing: list[Future[JobOutcome]] = []
        planning = replace(config, batch_size=config.batch_size or fleet_batch_size(pool))
        self.grouping = Grouping(planning, torch.device("cpu"), options.resume, self.failed, events.warning,
                                 events.info)  # fmt: skip

    def run(self, jobs: Sequence[Job]) -> None:
        todo = jobs_to_make(jobs, self.options.overwrite, self.record)
        if not todo:
            return
        self.styles = load_styles(todo, self.config.max_pixels)
        self.init = read_init(self.config)
        handlers = Handlers(self.answered, self.task_failed, self.retried,
                            stopping=lambda: self.report.stop_reason is not None, tick=self.writes_done)  # fmt: skip
        try:
            self.pool.run(self.tasks(self.grouping.batches(todo)), handlers)
        finally:
            self.writes_done(wait=True)
            self.writer.shutdown()

    def tasks(self, batches: list[Batch]) -> Iterator[Task]:
        """Each batch read and packed when a worker is about to need it."""
        for batch in batches:
            read = read_batch(batch, self.config, self.masks, self.options.overwrite, self.grouping.unfinished)
            prepared = prepare(read, batch, self.styles, self.init, self.config, self.masks, self.events, self.record)
            if not prepared.jobs:
                continue
            order = BatchOrder(tuple(pack(p, j.styles) for p, j in zip(prepared.pictures, prepared.jobs, strict=True)),
                               batch.sizes[-1])  # fmt: skip
            yield Task(order, Sent(tuple(prepared.jobs), tuple(prepared.alphas)))

    def answered(self, task: Task, answer: Answer) -> list[Task]:
        sent: Sent = task.subject
        for warning in answer.warnings:
            self.events.warning(f"{answer.where.host}: {warning}")
        for unfinished in answer.unfinished:
            job = sent.jobs[unfinished.index]
            metadata = unfinished_metadata(job.content, job.styles, self.config, dict(unfinished.progress))
            kept = save_unfinished(to_tensor(unpng(unfinished.image)), job.output, metadata)
            self.events.info(f"unfinished image saved to {kept}")
        seconds = answer.seconds / max(1, len(sent.jobs))
        for job, packed, alpha in zip(sent.jobs, answer.outcomes, sent.alphas, strict=False):
            if len(self.writing) >= 4 * WRITERS:  # results arrive faster than they are written: wait here
                self.writes_done(wait=True)
            self.writing.append(self.writer.submit(self.write, job, packed, alpha, seconds, answer.where))
        return []

    def write(self, job: Job, packed: PackedOutcome, alpha: Image.Image | None, seconds: float,
              where: Where) -> JobOutcome:  # fmt: skip
        """On a writer thread: the result written (or a failure's last good image kept); its outcome."""
        if self.report.stop_reason is not None and self.report.stop_reason.startswith("cannot write"):
            return JobOutcome(job, FAILED, error=f"{job.output}: not written ({self.report.stop_reason})")
        done = save_outcome(job, unpack_outcome(packed), seconds, alpha, self.config, self.report)
        return replace(done, worker=where.to_dict())

    def writes_done(self, wait: bool = False) -> None:
        """Record the writes that have finished (all of them, with `wait`), in the order they were handed over."""
        while self.writing and (wait or self.writing[0].done()):
            self.record(self.writing.pop(0).result())

    def task_failed(self, task: Task, why: str) -> None:
        for job in task.subject.jobs:
            self.failed(job, f"{job.content}: {why}")

    def retried(self, task: Task, why: str, where: Where | None) -> None:
        jobs: tuple[Job, ...] = task.subject.jobs
        host = where.host if where else "a node"
        self.events.warning(f"a worker on {host} was lost ({why}); its {len(jobs)} picture(s) go to another "
                            f"worker (try {task.tries + 1} of {RETRIES + 1})")  # fmt: skip
        self.log.write({"event": "retry", "outputs": [str(j.output) for j in jobs], "error": why, "try": task.tries + 1,
                        "worker": where.to_dict() if where else None})  # fmt: skip


def fleet_batch_size(pool: Pool) -> int:
    """--batch-size 0 on a fleet: per CPU worker one picture per thread (at most 4, as on one machine); on a
    GPU 16 (MAX_GPU_BATCH), halved by the worker where they do not fit (the driver cannot see the workers' memory)."""
    if any(slot.gpus for slot in pool.slots):
        return MAX_GPU_BATCH
    return max(1, min(MAX_CPU_BATCH, min(slot.threads for slot in pool.slots)))
