"""Runs a video: its frames in order as one chain, each frame started from and pulled toward the last.

The first frame of a chain is made like any picture. Each later one gets an anchor (video/anchor.py):
the previous frame's picture, as written to disk, warped into it along the optical flow; it starts
there (new areas from its own --init) and is pulled toward it by the temporal term, with the `later`
settings (one size, fewer iterations). Reading the previous picture back from disk makes a rerun of a
killed run continue exactly as the run would have: at the first frame that is not on disk.

A frame that cannot be read or made breaks the chain: the run stops there, with every frame before
it kept. Nothing here prints.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import torch
from PIL import Image

from ..config import Config
from ..errors import ImageError, OptimizationError, SettingsError
from ..io.reading import load_image
from ..io.saving import remove_stale_parts
from ..io.tensors import to_pil
from ..network.loader import Network
from ..network.precision import resolve_precision
from ..optimize.engine import Result
from ..optimize.steering import Steering
from ..run.files import read_init
from ..run.pictures import Picture, transfer_batch
from ..run.regions import Masks
from ..run.styles import StyleBank
from ..video.anchor import frame_anchor
from ..video.chunks import Chunk, chain_start
from ..video.source import Frames
from .batches import load_styles
from .plan import Job, is_done
from .report import FAILED, SKIPPED, Events, JobOutcome, JsonLog, Report
from .results import save_outcome
from .runner import RunOptions, release_memory

Made = tuple[Image.Image, Image.Image]  # an input frame and its picture: the next frame's chain start


@dataclass(frozen=True)
class VideoWork:
    frames: Frames
    jobs: tuple[Job, ...]  # one per frame of the whole video, in order (job.index: the frame's number)
    chunk: Chunk  # the frames this run makes
    later: Config  # the settings of every frame after a chain's first (one size, fewer iterations)


def run_video(work: VideoWork, config: Config, net: Network, options: RunOptions, events: Events, report: Report,
              masks: Masks, steering: Steering | None = None) -> Report:  # fmt: skip
    """Make the chunk's frames in order (or skip those done); the report says what happened to each."""
    log = JsonLog(options.log)
    try:
        _Chain(work, config, net, options, events, report, log, masks, steering).run()
    finally:
        log.close()
    return report


class _Chain:
    def __init__(self, work: VideoWork, config: Config, net: Network, options: RunOptions, events: Events,
                 report: Report, log: JsonLog, masks: Masks, steering: Steering | None) -> None:  # fmt: skip
        self.work, self.config, self.net, self.options, self.events = work, config, net, options, events
        self.report, self.log, self.masks, self.steering = report, log, masks, steering
        self.bank = StyleBank(net, config, resolve_precision(config.precision, net.device))
        self.next = 0  # the frame the chain reads next

    def record(self, outcome: JobOutcome) -> None:
        self.report.outcomes.append(outcome)
        self.log.write(outcome)
        self.events.finished(outcome)

    def stop(self, outcome: JobOutcome, why: str) -> None:
        self.record(outcome)
        self.report.stop_reason = self.report.stop_reason or why

    def run(self) -> None:
        chunk, jobs = self.work.chunk, self.work.jobs
        start = chunk.first if self.options.overwrite else chain_start(chunk, lambda i: is_done(jobs[i]))
        for index in range(chunk.first, start):
            self.record(JobOutcome(jobs[index], SKIPPED, note="already there (--overwrite to redo)"))
        if start > chunk.last:
            return
        remove_stale_parts(jobs[start].output.parent)  # left by a run that was killed while writing
        chunk_jobs = jobs[chunk.first : chunk.last + 1]
        self.styles = tuple(load_styles(chunk_jobs, self.config.max_pixels)[p] for p in jobs[start].styles)
        self.init = read_init(self.config)
        previous: Made | None = None
        try:
            for index, frame in self.frames_from(start, chunk):
                previous = self.step(index, frame, previous, start)
                if previous is None or self.report.stop_reason is not None:
                    return
        except ImageError as err:  # a frame that cannot be read: the chain cannot go around it
            failed = max(self.next, start)  # a frame before `start` is read for the flow into `start`
            self.stop(JobOutcome(jobs[failed], FAILED, error=err.message),
                      f"frame {failed + 1} cannot be read; the frames after it need it")  # fmt: skip

    def frames_from(self, start: int, chunk: Chunk) -> Iterator[tuple[int, Image.Image]]:
        """From the frame before `start` (the chain's start: on disk, or the lead-in of a chunk) to the chunk's end."""
        begin = start - 1 if start > chunk.first else (chunk.lead_in if chunk.lead_in is not None else start)
        self.next = begin
        for index, frame in self.work.frames.read(begin):
            if index > chunk.last:
                return
            yield index, frame

    def step(self, index: int, frame: Image.Image, previous: Made | None, start: int) -> Made | None:
        """Frame `index`: taken from disk (before `start`), made as the chunk's unwritten lead-in, or made and
        written; the chain's next start, or None when it broke."""
        self.next = index + 1
        if index < start and index >= self.work.chunk.first:
            return frame, load_image(self.work.jobs[index].output)
        write = index >= self.work.chunk.first
        job = self.work.jobs[index]
        started = time.monotonic()
        outcome = self.make(job, frame, previous)
        seconds = time.monotonic() - started
        if self.steering is not None and self.steering.skipping:
            self.steering.end_batch()
            self.stop(JobOutcome(job, SKIPPED, note="skipped from the preview page", seconds=seconds),
                      "a frame was skipped from the preview page; the frames after it need it")  # fmt: skip
            return None
        if self.steering is not None:
            self.steering.end_batch()
        if not write:
            return self.lead_in(frame, outcome)
        done = save_outcome(job, outcome, seconds, None, self.config if previous is None else self.work.later,
                            self.report, self.chain_note(index, previous))  # fmt: skip
        if done.status == FAILED:
            self.stop(done, f"frame {index + 1} failed; the frames after it need it")
            return None
        self.record(done)
        return frame, load_image(job.output)

    def lead_in(self, frame: Image.Image, outcome: Result | OptimizationError) -> Made | None:
        """The chain's start of a chunk after the first: its picture, as it would be written."""
        if isinstance(outcome, OptimizationError):
            first = self.work.jobs[self.work.chunk.first]
            self.stop(JobOutcome(first, FAILED, error=f"the frame before it, this stretch's start: {outcome.message}"),
                      "the stretch's first frame failed")  # fmt: skip
            return None
        return frame, to_pil(outcome.image)

    def make(self, job: Job, frame: Image.Image, previous: Made | None) -> Result | OptimizationError:
        try:
            regions = self.masks.regions(job.styles, job.content)
        except SettingsError as err:
            return OptimizationError(err.message)
        settings = self.config if previous is None else self.work.later
        self.events.batch_started([job])
        return make_frame(Picture(frame, self.styles, self.init, regions=regions), previous, settings, self.net,
                          self.bank, self.events, self.steering)  # fmt: skip

    def chain_note(self, index: int, previous: Made | None) -> dict[str, Any]:
        """What a frame's file says of its place in the video (with the picture's settings and inputs)."""
        chained = previous is not None
        return {"video": {"frame": index + 1, "frames": len(self.work.jobs), "chained": chained,
                          "temporal_weight": self.work.later.temporal_weight if chained else 0}}  # fmt: skip


def make_frame(picture: Picture, previous: Made | None, settings: Config, net: Network, bank: StyleBank,
               events: Events, steering: Steering | None = None) -> Result | OptimizationError:  # fmt: skip
    """One frame (`picture.content`), anchored to the last frame's picture (`previous`: its input frame and
    its picture as written) when there is one; `settings`: the chain's first frame's or the later frames'."""
    if previous is not None:
        picture = replace(picture, anchor=frame_anchor(previous[0], picture.content, previous[1]))
    try:
        (outcome,) = transfer_batch([picture], settings, net, events.step, bank, events.tile, steering)
    except (torch.cuda.OutOfMemoryError, MemoryError):
        release_memory(net.device)
        width, height = picture.content.size
        return OptimizationError(f"ran out of memory at {width}x{height}", hint="use a smaller --size")
    return outcome
