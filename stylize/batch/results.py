"""A job's result written (atomically) or, for a failed optimisation, its last good image kept; its outcome.

A result that cannot be written because of where it goes (a full disk or quota, a file-size limit,
a read-only or forbidden folder) stops the run: the next one could not be written either.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Sequence
from typing import Any

from PIL import Image

from ..config import Config
from ..errors import ImageError, OptimizationError, WriteError
from ..io.saving import remove_stale_parts
from ..optimize.engine import Result
from ..run.files import keep_last_good, save_result
from .plan import Job, is_done
from .report import DONE, FAILED, SKIPPED, JobOutcome, Report

# Write failures that no later result would escape: they stop the run.
STOPPING_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM}


def save_outcome(job: Job, outcome: Result | OptimizationError, seconds: float, alpha: Image.Image | None,
                 config: Config, report: Report, extra: dict[str, Any] | None = None) -> JobOutcome:  # fmt: skip
    """Write the result (atomically) or, for a failed optimisation, its last good image marked unfinished;
    a write failure that no later result would escape stops the run (`report`)."""
    try:
        if isinstance(outcome, OptimizationError):
            kept = keep_last_good(outcome, job.output, job.content, job.styles, config)
            error = f"{job.content}: " + (f"{outcome.message}; last good image in {kept}" if kept else str(outcome))
            return JobOutcome(job, FAILED, error=error, seconds=seconds)
        save_result(outcome, job.output, job.content, job.styles, config, alpha, extra)
    except ImageError as err:
        if isinstance(err, WriteError) and err.errno in STOPPING_ERRNOS:
            report.stop_reason = f"cannot write to {job.output.parent}"
        return JobOutcome(job, FAILED, error=err.message, seconds=seconds)
    height, width = outcome.image.shape[-2:]
    losses = {"total": outcome.loss, "content": outcome.content, "style": outcome.style}
    return JobOutcome(job, DONE, seconds=seconds, size=(width, height), iterations=outcome.iterations,
                      losses=losses, note=outcome.note)  # fmt: skip


def jobs_to_make(jobs: Sequence[Job], overwrite: bool, record: Callable[[JobOutcome], None]) -> list[Job]:
    """The jobs whose results are not there yet (the others recorded as skipped, unless `overwrite`); the part
    files a killed writer left in their folders are cleared."""
    todo = []
    for job in jobs:
        if not overwrite and is_done(job):
            record(JobOutcome(job, SKIPPED, note="already there (--overwrite to redo)"))
        else:
            todo.append(job)
    for folder in {job.output.parent for job in todo}:
        remove_stale_parts(folder)  # left by a run that was killed while writing
    return todo
