"""Stopping on a signal: SIGTERM and SIGHUP end a run the way Ctrl-C (SIGINT) does.

Schedulers (Slurm, SGE, PBS, Kubernetes, systemd, `timeout`) stop a job with SIGTERM, then
SIGKILL after a grace period; a closed terminal sends SIGHUP. Each becomes an exception in the
main thread, so the run unwinds, keeps its unfinished pictures and prints its summary, then exits
with 128 + the signal's number. From the first signal on, further ones are held: the saving is
never cut short (a SIGKILL still can be, and then the atomic writes leave no partial file).

A SIGINT that the process inherited as ignored (a background job of a non-interactive shell)
stays ignored, as POSIX wants; scripts should stop stylize with SIGTERM.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

import click

HANDLED = (signal.SIGTERM, signal.SIGHUP)


class Stopped(BaseException):
    """A run was stopped by a signal (BaseException, like KeyboardInterrupt: no `except Exception` swallows it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.exit_code = 128 + signum


def stop_words(stop: BaseException) -> str:
    """Why a run stopped, as its summary and messages say it: interrupted, or stopped by SIGTERM (SIGHUP)."""
    return "interrupted" if isinstance(stop, KeyboardInterrupt) else f"stopped by {stop}"


def _hold_further_signals() -> None:
    """Ignore further stop signals: the unfinished pictures are being saved."""
    for signum in (*HANDLED, signal.SIGINT):
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, lambda *_: None)


def say(line: str) -> None:
    """A message on stderr that cannot fail what is around it: after SIGHUP the terminal may be gone."""
    with contextlib.suppress(OSError):
        click.echo(line, err=True)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within: SIGTERM and SIGHUP raise Stopped, SIGINT KeyboardInterrupt (unless it was ignored).
    Once one came, the others are held from then until the process exits; otherwise the previous
    handlers are restored when the block is left."""
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        _hold_further_signals()
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Stopped(signum)

    signals = [*HANDLED] + ([signal.SIGINT] if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN else [])
    previous = {signum: signal.signal(signum, stop) for signum in signals}
    try:
        yield
    finally:
        if not stopping:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
