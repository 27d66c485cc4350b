"""Jobs -> batches: pictures alike (the same size at every stage, the same resume point) in groups.

Also what a batch run reads once for all its batches (the styles) and what it tells a user about
a photo's size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image

from ..config import Config
from ..errors import ImageError
from ..io.reading import image_size, load_image
from ..network.devices import default_batch_size
from ..run.resume import find_resume
from ..run.stages import ResumePoint, stage_sizes
from .plan import Job

Sizes = tuple[tuple[int, int], ...]  # (width, height) of a picture at each stage: pictures alike share a batch


@dataclass(frozen=True)
class Batch:
    sizes: Sizes
    point: ResumePoint | None  # where a killed run stopped these pictures; None: from the start
    jobs: tuple[Job, ...]


@dataclass
class Grouping:
    """Groups jobs into batches; reads each photo's header (and any unfinished image) once."""

    config: Config
    device: torch.device
    resume: bool  # continue from unfinished images a killed run left
    on_failed: Callable[[Job, str], None]  # a job whose photo cannot be read
    on_warning: Callable[[str], None]
    on_info: Callable[[str], None]
    unfinished: dict[Job, Path] = field(default_factory=dict)  # the unfinished image each resumed job starts from

    def batches(self, jobs: Sequence[Job]) -> list[Batch]:
        """In the order of the work list (by first appearance of each kind), at most the batch size each."""
        groups: dict[tuple[Sizes, ResumePoint | None], list[Job]] = {}
        for job in jobs:
            try:
                sizes = stage_sizes(image_size(job.content, self.config.max_pixels), self.config)
            except ImageError as err:
                self.on_failed(job, err.message)
                continue
            groups.setdefault((sizes, self.resume_point(job, sizes)), []).append(job)
        batches = []
        for (sizes, point), group in groups.items():
            width, height = sizes[-1]
            size = self.config.batch_size or default_batch_size(self.device, width * height)
            batches += [Batch(sizes, point, tuple(group[i : i + size])) for i in range(0, len(group), size)]
        return batches

    def resume_point(self, job: Job, sizes: Sizes) -> ResumePoint | None:
        if not self.resume:
            return None
        found, why_not = find_resume(job.content, job.styles, job.output, self.config, sizes)
        if why_not:
            self.on_warning(why_not)
        if found is None:
            return None
        path, point = found
        self.unfinished[job] = path
        self.on_info(f"{job.output}: resuming from {path} ({point.total_done} iterations done)")
        return point


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
