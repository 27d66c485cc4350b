"""A batch's inputs read (photos, unfinished images, masks) and made into Pictures, with what a user should know.

The local runner reads a batch on its file thread ahead of the batch; a fleet's driver reads it before
handing it to a worker. Either way a photo that cannot be read fails alone, and the same notes are said.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from ..config import Config
from ..errors import ImageError, SettingsError
from ..io.reading import Decoded, load_image
from ..run.files import read_photo
from ..run.pictures import Picture, Resume
from ..run.regions import Masks, Regions
from ..run.stages import stage_sizes
from .batches import Batch, size_notes
from .plan import Job, is_done
from .report import FAILED, SKIPPED, Events, JobOutcome


@dataclass(frozen=True)
class Read:
    """A job's inputs, read ahead of its batch."""

    job: Job
    decoded: Decoded
    resume: Resume | None
    regions: Regions | None


@dataclass(frozen=True)
class Prepared:
    """A batch's pictures to make, their jobs and the photos' transparency (kept for the results)."""

    pictures: list[Picture]
    jobs: list[Job]
    alphas: list[Image.Image | None]


def read_batch(batch: Batch, config: Config, masks: Masks, overwrite: bool,
               unfinished: dict[Job, Path]) -> list[Read | JobOutcome]:  # fmt: skip
    """Each job's photo, unfinished image (`unfinished`: where a resumed job starts) and masks (nothing
    reported here: this may run on a file thread), or the outcome of a job that needs no work (made
    meanwhile) or cannot be done (unreadable)."""
    read: list[Read | JobOutcome] = []
    for job in batch.jobs:
        if not overwrite and is_done(job):  # another run on the same folder made it meanwhile
            read.append(JobOutcome(job, SKIPPED, note="made meanwhile by another run"))
            continue
        try:
            decoded = read_photo(job.content, config)
            path = unfinished.get(job)
            resume = None if batch.point is None or path is None else Resume(batch.point, load_image(path))
            regions = masks.regions(job.styles, job.content)  # a photo's own mask may be missing
        except (ImageError, SettingsError) as err:
            read.append(JobOutcome(job, FAILED, error=err.message))
            continue
        read.append(Read(job, decoded, resume, regions))
    return read


def prepare(
    read: list[Read | JobOutcome], batch: Batch, styles: dict[Path, Image.Image], init: Image.Image | None,
    config: Config, masks: Masks, events: Events, record: Callable[[JobOutcome], None],
) -> Prepared:  # fmt: skip
    """The batch's pictures; outcomes known already are recorded, a photo changed since planning fails, and
    what a user should know of a photo's size or masks is said."""
    prepared = Prepared([], [], [])
    for item in read:
        if isinstance(item, JobOutcome):
            record(item)
            continue
        job, decoded = item.job, item.decoded
        if stage_sizes(decoded.image.size, config) != batch.sizes:  # the file changed since planning
            record(JobOutcome(job, FAILED, error=f"{job.content}: changed while the run was planned; rerun"))
            continue
        made = batch.sizes[-1]
        for note in (*decoded.notes, *size_notes(job.content, decoded.image.size, made, config.size),
                     *masks.notes(item.regions, decoded.image.size, str(job.content))):  # fmt: skip
            events.warning(note)
        picture = Picture(decoded.image, tuple(styles[p] for p in job.styles), init, item.resume, item.regions)
        prepared.pictures.append(picture)
        prepared.jobs.append(job)
        prepared.alphas.append(decoded.alpha)
    return prepared
