"""A video on a fleet: its stretches (as --shard cuts them, each with its lead-in frame) made side by side.

Each stretch is a chain made a segment of frames at a time by whichever worker is free: a segment
starts from the frame before it and that frame's picture as written here (read back from disk, as
a local chain does), so a lost worker costs one segment, and a rerun continues at the first missing
frame of each stretch. Frames go out as PNG bytes, read from the video here; the driver writes
every frame, and the encode (--video-out) runs here at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from PIL import Image

from ..batch.batches import load_styles
from ..batch.plan import is_done
from ..batch.report import FAILED, SKIPPED, Events, JobOutcome, JsonLog, Recorder, Report
from ..batch.results import save_outcome
from ..batch.runner import RunOptions
from ..batch.video_run import VideoWork
from ..config import Config
from ..errors import ImageError, OptimizationError, SettingsError
from ..io.reading import load_image
from ..io.saving import remove_stale_parts
from ..optimize.engine import Result
from ..run.files import read_init
from ..run.pictures import Picture
from ..run.regions import Masks
from ..video.chunks import Chunk, chain_start, video_chunk
from .orders import Answer, FramesOrder, Where
from .packing import pack, png, unpack_outcome
from .pool import RETRIES, Handlers, Pool, Task

SEGMENT = 8  # frames a worker makes per order: what a lost worker costs, and how often the driver writes


@dataclass
class Stretch:
    """One stretch of the video and where its chain is."""

    number: int
    chunk: Chunk
    frames: Iterator[tuple[int, Image.Image]]  # the video read from this stretch's first frame to make on
    previous: tuple[Image.Image, Image.Image] | None = None  # the last frame made and its picture as written
    lead_in: bool = False  # the next order starts with the lead-in frame (made, not written)
    sent: tuple[int, ...] = ()  # the frames of the order in flight
    inputs: tuple[Image.Image, ...] = ()
    ended: bool = False  # a frame of it failed: the frames after it need it


def run_fleet_video(work: VideoWork, stretches: int, config: Config, pool: Pool, options: RunOptions, events: Events,
                    report: Report, masks: Masks) -> Report:  # fmt: skip
    """Make the video's frames on the fleet in `stretches` stretches (0: one per worker), or skip those done."""
    log = JsonLog(options.log)
    try:
        _VideoDriver(work, config, pool, options, events, report, log, masks).run(stretches or len(pool.slots))
    finally:
        log.close()
    return report


class _VideoDriver:
    def __init__(self, work: VideoWork, config: Config, pool: Pool, options: RunOptions, events: Events,
                 report: Report, log: JsonLog, masks: Masks) -> None:  # fmt: skip
        self.work, self.config, self.pool, self.options, self.events = work, config, pool, options, events
        self.report, self.log, self.masks = report, log, masks
        self.record = Recorder(report, log, events, fail_fast=False).record  # a video stops at its own failures

    def run(self, count: int) -> None:
        jobs, frames = self.work.jobs, len(self.work.jobs)
        self.styles = load_styles(jobs[:1], self.config.max_pixels)
        self.init = read_init(self.config)
        remove_stale_parts(jobs[0].output.parent)
        tasks = []
        for number in range(1, min(count, frames) + 1):
            chunk = video_chunk(frames, (number, min(count, frames)))
            start = chunk.first if self.options.overwrite else chain_start(chunk, lambda i: is_done(jobs[i]))
            for index in range(chunk.first, start):
                self.record(JobOutcome(jobs[index], SKIPPED, note="already there (--overwrite to redo)"))
            if start <= chunk.last:
                task = self.first_task(number, chunk, start)
                tasks += [task] if task is not None else []
        self.pool.run(tasks, Handlers(self.answered, self.task_failed, self.retried))

    def first_task(self, number: int, chunk: Chunk, start: int) -> Task | None:
        """The stretch's first order: from its lead-in, from the frame before `start` on disk, or from the start."""
        begin = start - 1 if start > chunk.first else (chunk.lead_in if chunk.lead_in is not None else start)
        stretch = Stretch(number, chunk, self.work.frames.read(begin), lead_in=start == chunk.first and begin < start)
        try:
            if start > chunk.first:
                _, frame = next(stretch.frames)
                stretch.previous = (frame, load_image(self.work.jobs[start - 1].output))
            return self.next_task(stretch)
        except ImageError as err:
            self.stop_stretch(stretch, start, err.message)
            return None

    def next_task(self, stretch: Stretch) -> Task | None:
        """The next SEGMENT frames of the stretch (the lead-in and one more, first); None when it is done, or
        ends at a frame that cannot be read or whose mask is missing (a failure: the frames after it need it)."""
        if stretch.ended:
            return None
        sent: list[int] = []
        inputs, packed = [], []
        try:
            for index, frame in stretch.frames:
                if index > stretch.chunk.last:  # the next stretch's frames: made by its own chain
                    break
                job = self.work.jobs[index]
                try:
                    regions = self.masks.regions(job.styles, job.content)
                except SettingsError as err:
                    self.stop_stretch(stretch, index, err.message)
                    break
                picture = Picture(frame, tuple(self.styles[p] for p in job.styles), self.init, regions=regions)
                sent.append(index)
                inputs.append(frame)
                packed.append(pack(picture, job.styles))
                if index >= stretch.chunk.last or len(sent) >= SEGMENT + stretch.lead_in:
                    break
        except ImageError as err:
            self.stop_stretch(stretch, (sent[-1] + 1) if sent else stretch.chunk.first, err.message)
        if not sent or (stretch.lead_in and len(sent) == 1):
            return None
        stretch.sent, stretch.inputs = tuple(sent), tuple(inputs)
        previous = None if stretch.previous is None else (png(stretch.previous[0]), png(stretch.previous[1]))
        order = FramesOrder(tuple(packed), previous, stretch.lead_in, self.work.jobs[0].output.suffix)
        return Task(order, stretch)

    def answered(self, task: Task, answer: Answer) -> list[Task]:
        stretch: Stretch = task.subject
        for warning in answer.warnings:
            self.events.warning(f"{answer.where.host}: {warning}")
        seconds, lead = answer.seconds / max(1, len(answer.outcomes)), stretch.lead_in
        for number, (index, packed) in enumerate(zip(stretch.sent, answer.outcomes, strict=False)):
            outcome = unpack_outcome(packed)
            if number == 0 and lead:
                if isinstance(outcome, OptimizationError):
                    self.stop_stretch(stretch, stretch.chunk.first, f"the frame before it, this stretch's start: "
                                      f"{outcome.message}")  # fmt: skip
                    return []
                continue
            if not self.write(stretch, index, outcome, seconds, answer.where, chained=number > 0):
                return []
        stretch.lead_in = False
        if answer.stopped or len(answer.outcomes) < len(stretch.sent):
            return []
        follow = self.next_task(stretch)
        return [follow] if follow is not None else []

    def write(self, stretch: Stretch, index: int, outcome: Result | OptimizationError, seconds: float, where: Where,
              chained: bool) -> bool:  # fmt: skip
        """Frame `index` written (its chain's next start read back from disk); False where the stretch ends.
        `chained`: made from the frame before it (else the chain's first frame, with the first frame's settings)."""
        job, chained = self.work.jobs[index], chained or stretch.previous is not None
        settings = self.work.later if chained else self.config
        note = {"video": {"frame": index + 1, "frames": len(self.work.jobs), "chained": chained,
                          "temporal_weight": self.work.later.temporal_weight if chained else 0}}  # fmt: skip
        done = save_outcome(job, outcome, seconds, None, settings, self.report, note)
        self.record(replace(done, worker=where.to_dict()))
        if done.status == FAILED:
            stretch.ended = True
            why = f"frame {index + 1} failed; the frames after it need it"
            self.report.stop_reason = self.report.stop_reason or why
            return False
        stretch.previous = (stretch.inputs[stretch.sent.index(index)], load_image(job.output))
        return True

    def stop_stretch(self, stretch: Stretch, index: int, error: str) -> None:
        stretch.ended = True
        self.record(JobOutcome(self.work.jobs[index], FAILED, error=error))
        self.report.stop_reason = self.report.stop_reason or f"stretch {stretch.number} stopped at frame {index + 1}"

    def task_failed(self, task: Task, why: str) -> None:
        stretch: Stretch = task.subject
        first = stretch.sent[int(stretch.lead_in)]  # an order always holds a frame after its lead-in
        self.stop_stretch(stretch, first, f"{self.work.jobs[first].content}: {why}")

    def retried(self, task: Task, why: str, where: Where | None) -> None:
        stretch: Stretch = task.subject
        host = where.host if where else "a node"
        self.events.warning(f"a worker on {host} was lost ({why}); stretch {stretch.number}'s frames "
                            f"{stretch.sent[0] + 1}-{stretch.sent[-1] + 1} go to another worker "
                            f"(try {task.tries + 1} of {RETRIES + 1})")  # fmt: skip
        self.log.write({"event": "retry", "frames": [i + 1 for i in stretch.sent], "error": why,
                        "try": task.tries + 1, "worker": where.to_dict() if where else None})  # fmt: skip
