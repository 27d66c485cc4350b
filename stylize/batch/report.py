"""What happened to each job, the events a run reports, the summary and exit code, the JSON-lines log."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import SettingsError, WriteError
from .plan import Job

if TYPE_CHECKING:  # the engine imports torch; the CLI imports this module early
    from ..optimize.engine import Step
    from ..optimize.tiles.tiling import TileStep

DONE, SKIPPED, FAILED = "done", "skipped", "failed"


@dataclass(frozen=True)
class JobOutcome:
    job: Job
    status: str  # done, skipped or failed
    error: str | None = None  # one line naming the file and the problem
    seconds: float = 0.0  # wall time of the batch that made it (shared by its images)
    size: tuple[int, int] | None = None  # (width, height) of the result
    iterations: int = 0
    losses: dict[str, float] | None = None  # total, content, style of the result
    note: str | None = None  # why an optimisation ended early, or what it recovered from
    worker: dict[str, Any] | None = None  # on a fleet (--ray): the host, device and process that made it

    def to_dict(self) -> dict[str, Any]:
        fleet = {} if self.worker is None else {"worker": self.worker}
        return {
            "index": self.job.index,
            "content": str(self.job.content),
            "styles": [str(s) for s in self.job.styles],
            "output": str(self.job.output),
            "status": self.status,
            "error": self.error,
            "seconds": round(self.seconds, 3),
            "size": list(self.size) if self.size else None,
            "iterations": self.iterations,
            "losses": self.losses,
            "note": self.note,
            **fleet,
        }


@dataclass
class Report:
    outcomes: list[JobOutcome] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    stop_reason: str | None = None  # why the run stopped before the end (--fail-fast, a full disk, ...)

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        """0: every job done or already there; 1: some failed."""
        return 1 if self.count(FAILED) else 0

    def summary(self, planned: int) -> str:
        elapsed = time.monotonic() - self.started
        minutes, seconds = divmod(round(elapsed), 60)
        text = f"{self.count(DONE)} done, {self.count(SKIPPED)} skipped, {self.count(FAILED)} failed"
        left = planned - len(self.outcomes)
        if left:
            text += f", {left} not started ({self.stop_reason or 'interrupted'})"
        return f"{text} in {minutes}m{seconds:02d}s"


class JsonLog:
    """Appends one JSON object per outcome to a file, flushed at once (a killed run keeps its lines)."""

    def __init__(self, path: Path | None) -> None:
        self.file: TextIO | None = None
        if path is not None:
            try:
                self.file = path.open("a", encoding="utf-8")
            except OSError as err:
                raise SettingsError(f"--log {path}: cannot open for writing ({err.strerror or err})") from None

    def write(self, outcome: JobOutcome | dict[str, Any]) -> None:
        """One line (an outcome, or an event such as a fleet's retry), flushed; a log that cannot be written
        (a full disk) stops the run with a WriteError."""
        if self.file is None:
            return
        line = outcome.to_dict() if isinstance(outcome, JobOutcome) else outcome
        try:
            self.file.write(json.dumps(line, sort_keys=True) + "\n")
            self.file.flush()
        except OSError as err:
            name = self.file.name
            self.close()
            raise WriteError(f"--log {name}: cannot write ({err.strerror or err})", err.errno) from None

    def close(self) -> None:
        if self.file is not None:
            with contextlib.suppress(OSError):  # a full disk is reported by write(); the file closes anyway
                self.file.close()
            self.file = None


class Events:
    """What the runner tells its caller; the CLI overrides these to draw progress."""

    def batch_started(self, jobs: Sequence[Job]) -> None:
        """`jobs` are optimised together now; Step.index i is jobs[i]."""

    def step(self, step: Step) -> None:
        """An iteration of one picture of the current batch is done."""

    def tile(self, tile: TileStep) -> None:
        """A size in tiles: one more tile of the current evaluation is done."""

    def finished(self, outcome: JobOutcome) -> None:
        """A job is done, skipped or failed."""

    def warning(self, message: str) -> None:
        """Something a user should know that does not stop the job (an animation's first frame was used, ...)."""

    def info(self, message: str) -> None:
        """What the run does that a user may want to know (a picture resumes where a killed run stopped)."""


class Recorder:
    """Where each outcome goes: the report, the --log and the events; a failure stops a --fail-fast run."""

    def __init__(self, report: Report, log: JsonLog, events: Events, fail_fast: bool) -> None:
        self.report, self.log, self.events, self.fail_fast = report, log, events, fail_fast

    def record(self, outcome: JobOutcome) -> None:
        self.report.outcomes.append(outcome)
        self.log.write(outcome)
        self.events.finished(outcome)
        if outcome.status == FAILED and self.fail_fast and self.report.stop_reason is None:
            self.report.stop_reason = "--fail-fast"

    def failed(self, job: Job, error: str) -> None:
        self.record(JobOutcome(job, FAILED, error=error))
