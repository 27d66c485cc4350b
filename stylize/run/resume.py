"""Resuming a killed run: the unfinished image it kept, checked to be this very picture, as the start.

A run stopped by a signal (or Ctrl-C) keeps each unfinished picture as OUT.unfinished.EXT with
its inputs, settings and progress (stage, iterations done). The same command run again finds it
and continues from that image for the iterations left, instead of starting over. One made from
other inputs or settings (but for those in `provenance.HOW_NOT_WHAT`), or kept from a failed
optimisation, is ignored with a reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..config import Config
from ..errors import ImageError
from ..io.metadata import read_metadata
from ..io.reading import image_size
from .files import unfinished_path
from .provenance import same_work
from .stages import ResumePoint


def find_resume(
    content: Path, styles: Sequence[Path], output: Path, config: Config, sizes: Sequence[tuple[int, int]]
) -> tuple[tuple[Path, ResumePoint] | None, str | None]:
    """(the unfinished file and where it stopped, None) when a killed run of this picture left one;
    (None, why it is not used) when one is there but does not fit; (None, None) when there is none.
    `sizes`: the picture's (width, height) at each stage of this run."""
    path = unfinished_path(output)
    if not path.is_file():
        return None, None
    try:
        stored = read_metadata(path)
    except ImageError:
        return None, f"{path}: carries no parameters to resume from; starting over"
    if "stage" not in stored:
        return None, f"{path}: kept from a failed optimisation; starting over"
    if not same_work(stored, content, styles, config):
        return None, f"{path}: made from other inputs or settings; starting over (it is replaced when done)"
    point = _point(stored, len(sizes))
    try:
        fits = point is not None and image_size(path) == tuple(sizes[point.stage - 1])
    except ImageError:
        fits = False
    if point is None or not fits:
        return None, f"{path}: does not fit this run's sizes; starting over"
    return (path, point), None


def _point(stored: dict[str, object], stages: int) -> ResumePoint | None:
    stage, done, total = stored.get("stage"), stored.get("stage_iterations_done"), stored.get("iterations_done")
    if not (isinstance(stage, int) and isinstance(done, int) and isinstance(total, int)):
        return None
    return ResumePoint(stage, done, total) if 1 <= stage <= stages and done >= 0 else None
