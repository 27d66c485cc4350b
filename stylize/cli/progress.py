"""What a run shows while it works: progress bars or lines, --save-every snapshots, unfinished images.

Bars: a bar over the files and a bar per batch beneath it; lines: one per file, for logs and
pipes. On Ctrl-C the current batch's unfinished images are kept.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from tqdm import tqdm

from ..batch.report import DONE, FAILED, SKIPPED, Events, JobOutcome
from ..config import Config
from ..run.stages import config_stages

if TYPE_CHECKING:  # the engine imports torch; keep --help fast
    from ..batch.plan import Job
    from ..optimize.engine import Step
    from ..optimize.tiles.tiling import TileStep

PROGRESS_MODES = ("auto", "bars", "lines", "none")
FILES_BAR = "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]"  # desc: "files k/N"


def progress_mode(choice: str, single: bool = False) -> str:
    """auto: bars on a terminal (and always for one picture, `single`), plain lines in logs and pipes."""
    if choice != "auto":
        return choice
    return "bars" if single or sys.stderr.isatty() else "lines"


class Messages(Events):
    """Warnings and notes, said unless the mode is none; `write` puts a line above any bar."""

    mode = "lines"

    def warning(self, message: str) -> None:
        if self.mode != "none":
            self.write(f"stylize: warning: {message}")

    def info(self, message: str) -> None:
        if self.mode != "none":
            self.write(f"stylize: {message}")

    def bars_open(self) -> bool:
        return False

    def write(self, line: str) -> None:
        if self.bars_open():
            tqdm.write(line, file=sys.stderr)
        else:
            click.echo(line, err=True)


class Progress(Messages):
    """Draws the run's progress; `mode` is bars, lines or none."""

    def __init__(self, jobs: int, config: Config, mode: str) -> None:
        self.jobs, self.config, self.mode = jobs, config, mode
        self.batch: list[Job] = []
        self.latest: dict[int, Step] = {}  # picture index in the batch -> its latest step
        stages = config_stages(config)
        self.per_picture = sum(s.iterations for s in stages)  # at most, with --iterations auto
        self.credited: dict[int, float] = {}  # picture index -> share of the files bar given so far
        self.seen = 0  # outcomes so far
        self.computing: str | None = None  # the device and precision, said when the first batch starts
        self.files: Any = None
        if mode == "bars" and jobs > 1:
            self.files = tqdm(total=jobs, desc=f"files 0/{jobs}", unit="file", file=sys.stderr, dynamic_ncols=True,
                              bar_format=FILES_BAR)  # fmt: skip
        self.bar: Any = None
        self.bar_stage = 0
        self.terms = ""  # the losses the bar shows, as of the latest step

    def batch_started(self, jobs: Sequence[Job]) -> None:
        self.batch, self.latest, self.credited = list(jobs), {}, {i: 0.0 for i in range(len(jobs))}
        if self.computing is not None:  # said once, when the first batch starts: what the run computes on
            self.info(self.computing)
            self.computing = None

    def step(self, step: Step) -> None:
        if self.bar is None or step.stage != self.bar_stage:
            height, width = step.image.shape[-2:]
            self._open_bar(step.stage, step.stages, step.images, step.iterations, step.iteration - 1, (width, height))
        self.bar.update(1)
        terms = {"loss": f"{step.loss:.4g}", "content": f"{step.content:.3f}", "style": f"{step.style:.4f}"}
        if self.config.tv_weight > 0:
            terms["tv"] = f"{step.tv:.2e}"
        self.terms = ", ".join(f"{name}={value}" for name, value in terms.items())
        self.bar.set_postfix_str(self.terms, refresh=False)
        self.latest[step.index] = step
        done = step.overall  # over all stages of this picture
        if self.files is not None:  # the files bar moves with every iteration, so its ETA is smooth
            share = done / self.per_picture
            self.files.update(share - self.credited[step.index])
            self.credited[step.index] = share
        every = self.config.save_every
        if every and done % every == 0:
            from ..io.saving import save_image

            output = self.batch[step.index].output
            save_image(step.image, output.with_name(f"{output.stem}.{done:04d}{output.suffix}"))

    def tile(self, tile: TileStep) -> None:
        """A size in tiles: its bar opens with its first tile (an iteration can take minutes) and says which tile."""
        if self.bar is None or tile.stage != self.bar_stage:
            self._open_bar(tile.stage, tile.stages, tile.images, tile.iterations, tile.done, tile.size, tile.tiles)
        self.bar.set_postfix_str(f"{self.terms}, " * bool(self.terms) + f"tile {tile.tile}/{tile.tiles}", refresh=True)

    def _open_bar(self, stage: int, stages: int, images: int, iterations: int, done: int, size: tuple[int, int],
                  tiles: int | None = None) -> None:  # fmt: skip
        """One bar per batch and size: each size costs differently, so each gets its own ETA."""
        self.close_bar(complete=True)
        self.terms = ""
        label = f"{size[0]}x{size[1]}" + (f" x{images}" if images > 1 else "")
        label += f" ({stage}/{stages})" if stages > 1 else ""
        label += f" in {tiles} tiles" if tiles else ""
        single = stages == 1 and images == 1 and self.jobs == 1 and not tiles
        self.bar = tqdm(total=iterations * images, initial=done * images, desc=None if single else label, unit="it",
                        disable=self.mode != "bars", dynamic_ncols=True, file=sys.stderr,
                        leave=self.jobs == 1, position=1 if self.files is not None else None)  # fmt: skip
        self.bar_stage = stage

    def finished(self, outcome: JobOutcome) -> None:
        self.seen += 1
        for place in [i for i, job in enumerate(self.batch) if job is outcome.job]:
            self.latest.pop(place, None)  # written (or failed): nothing of it is unfinished
        if outcome.status == DONE and len(self.batch) and outcome.job is self.batch[-1]:
            self.close_bar(complete=True)  # before the files bar moves on, so that its count comes last
        if self.files is not None:
            if outcome.status == SKIPPED:  # skips cost nothing: leave them out of the rate and the ETA
                self.files.total -= 1
            else:
                index = next((i for i, job in enumerate(self.batch) if job is outcome.job), None)
                self.files.update(1.0 - self.credited.pop(index, 0.0) if index is not None else 1.0)
            self.files.set_description_str(f"files {self.seen}/{self.jobs}")
        self._tell(outcome)

    def _tell(self, outcome: JobOutcome) -> None:
        if outcome.status == FAILED:
            self.write(f"stylize: error: {outcome.error}")
        elif self.mode == "lines" or (self.mode == "bars" and self.jobs == 1):
            self.write(f"{self._counter()}{describe(outcome)}")

    def _counter(self) -> str:
        return f"[{self.seen}/{self.jobs}] " if self.jobs > 1 else ""

    def bars_open(self) -> bool:
        return self.files is not None or self.bar is not None

    def save_unfinished(self) -> list[Path]:
        """On Ctrl-C or a stop signal: keep what the current batch has made so far, marked unfinished,
        with what a rerun needs to resume it."""
        from ..run.files import save_unfinished
        from ..run.provenance import unfinished_metadata

        self.close()
        kept = []
        for index, step in sorted(self.latest.items()):
            job = self.batch[index]
            progress = {"iterations_done": step.overall, "stage": step.stage,
                        "stage_iterations_done": step.iteration}  # fmt: skip
            metadata = unfinished_metadata(job.content, job.styles, self.config, progress)
            kept.append(save_unfinished(step.image, job.output, metadata))
        return kept

    def close_bar(self, complete: bool = False) -> None:
        """`complete`: the size is done, even if --iterations auto stopped it before its cap."""
        if self.bar is not None:
            if complete and self.bar.n < self.bar.total:
                self.bar.total = self.bar.n
                self.bar.refresh()
            self.bar.close()
            self.bar = None

    def close(self) -> None:
        self.close_bar()
        if self.files is not None:
            self.files.close()
            self.files = None


def describe(outcome: JobOutcome) -> str:
    job = outcome.job
    if outcome.status == SKIPPED:
        return f"skipped {job.output} ({outcome.note or 'already there; --overwrite to redo'})"
    size = f"{outcome.size[0]}x{outcome.size[1]}, " if outcome.size else ""
    note = f"; {outcome.note}" if outcome.note else ""
    return f"wrote {job.output} ({size}{outcome.iterations} iterations, {outcome.seconds:.0f}s{note})"
