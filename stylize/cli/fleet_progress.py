"""A fleet run's progress on the driver: one bar (or one line per picture) for the whole run.

The bar counts pictures (skips leave the total, so that the rate and the time left are the work's),
and says each worker's rate in pictures a minute; lines add the worker that made each picture and
the time left. Iterations are not shown: they happen on other machines.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from tqdm import tqdm

from ..batch.report import FAILED, SKIPPED, JobOutcome
from .progress import Messages, describe

PICTURES_BAR = "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]"


class FleetProgress(Messages):
    def __init__(self, jobs: int, mode: str) -> None:
        self.jobs, self.mode = jobs, mode
        self.seen = self.made = 0
        self.started = time.monotonic()
        self.per_worker: dict[str, int] = {}  # "host pid" -> pictures made
        self.bar: Any = None
        if mode == "bars":
            self.bar = tqdm(total=jobs, desc=f"pictures 0/{jobs}", unit="picture", file=sys.stderr,
                            dynamic_ncols=True, bar_format=PICTURES_BAR)  # fmt: skip

    def finished(self, outcome: JobOutcome) -> None:
        self.seen += 1
        if outcome.status != SKIPPED:
            self.made += 1
        if outcome.worker is not None:
            key = f"{outcome.worker['host']} {outcome.worker['pid']}"
            self.per_worker[key] = self.per_worker.get(key, 0) + 1
        if self.bar is not None:
            if outcome.status == SKIPPED:
                self.bar.total -= 1
            else:
                self.bar.update(1)
            self.bar.set_description_str(f"pictures {self.seen}/{self.jobs}")
            self.bar.set_postfix_str(self.rates(), refresh=True)
        if outcome.status == FAILED:
            self.write(f"stylize: error: {outcome.error}")
        elif self.mode == "lines":
            where = f" on {outcome.worker['host']}, {outcome.worker['device']}" if outcome.worker else ""
            self.write(f"[{self.seen}/{self.jobs}] {describe(outcome)}{where}{self.time_left()}")

    def rates(self) -> str:
        """Each worker's pictures a minute since the run started."""
        minutes = max(time.monotonic() - self.started, 1e-3) / 60
        return ", ".join(f"{key}: {count / minutes:.1f}/min" for key, count in sorted(self.per_worker.items()))

    def time_left(self) -> str:
        left = self.jobs - self.seen
        if not self.made or not left:
            return ""
        seconds = (time.monotonic() - self.started) / self.made * left
        return f"; about {int(seconds // 60)}m{int(seconds % 60):02d}s left"

    def bars_open(self) -> bool:
        return self.bar is not None

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
