"""A folder run's file work beside the device's: the next batch's photos read, the last batch's results written.

On a GPU a batch of 512 px pictures takes a fraction of a second, about what decoding its photos
and encoding its PNGs take on the host; done one after the other, the card waits for the files.
One worker thread does the file work in order (reads of batch i+1 while batch i computes, writes
of batch i while batch i+1 computes); the run's thread reports every outcome, in the order the
work list has them per batch, and waits for the writes still running before it returns, also when
it is stopped, so that every finished picture is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from .report import JobOutcome

T = TypeVar("T")


class FileWork:
    """The run's file thread; `writing`: results are written on it too (else in the caller's thread)."""

    def __init__(self, writing: bool) -> None:
        self.writing = writing
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="stylize-files")
        self.writes: list[Future[JobOutcome]] = []

    def read(self, call: Callable[[], T]) -> Future[T]:
        return self.pool.submit(call)

    def write(self, call: Callable[[], JobOutcome], record: Callable[[JobOutcome], None]) -> None:
        """Write a result now, or on the thread (reported by the next `report_writes`)."""
        if self.writing:
            self.writes.append(self.pool.submit(call))
        else:
            record(call())

    def report_writes(self, record: Callable[[JobOutcome], None]) -> None:
        """Wait for the writes handed over so far and report them, in order."""
        writes, self.writes = self.writes, []
        for done in writes:
            record(done.result())

    def close(self, record: Callable[[JobOutcome], None]) -> None:
        try:
            self.report_writes(record)
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)
