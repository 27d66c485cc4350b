"""Steering a run while it works: new weights, pause, stop and keep, skip (what --preview's page sends).

The page's server writes from its own thread; the engine reads between two evaluation rounds
and never waits on the page (only a pause holds it, on purpose). A changed weight changes the
objective, so the engine forgets its curvature memory and restarts L-BFGS from the current image
(`engine.optimize_batch`); each picture's Result lists the changes that applied to it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from ..config import check_weight
from ..errors import SettingsError

STEERABLE = ("content", "style", "tv")  # the weights a page may change (LossWeights' field names)
PAUSE_POLL = 0.1  # seconds between looks at the flags while paused (Ctrl-C is handled in between)


@dataclass(frozen=True)
class WeightChange:
    iteration: int  # the picture's iterations done when the new value took effect (over all sizes)
    name: str  # content, style or tv
    value: float


@dataclass(frozen=True)
class Directive:
    """What the engine is to do now: take new weights (their names and values), stop its pictures."""

    weights: dict[str, float]
    stop: bool = False


def checked_weight(name: str, value: object) -> float:
    """A weight as the CLI would take it (finite, >= 0), or SettingsError saying what is wrong."""
    if name not in STEERABLE:
        raise SettingsError(f"unknown weight {name!r}", hint=f"one of {', '.join(STEERABLE)}")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise SettingsError(f"--{name}-weight must be a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise SettingsError(f"--{name}-weight must be a number, got {value!r}") from None
    check_weight(name, number)
    return number


class Steering:
    """The controls of a running run; thread-safe. Writers: set_weight, pause, resume, stop, skip.
    Reader: the engine (`start`, `between`), and the runner (`end_batch`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._weights: dict[str, float] = {}  # every weight changed so far in this run (it holds for later pictures)
        self._pending: dict[str, float] = {}  # changed since the engine last looked
        self._running = threading.Event()
        self._running.set()
        self._stop = self._skip = False

    def set_weight(self, name: str, value: object) -> float:
        number = checked_weight(name, value)
        with self._lock:
            self._weights[name] = self._pending[name] = number
        return number

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def stop(self, skip: bool = False) -> None:
        """End the current batch's pictures now: kept as they are, or (`skip`) not written at all."""
        with self._lock:
            self._stop, self._skip = True, self._skip or skip
        self._running.set()

    def weights(self) -> dict[str, float]:
        """Every weight changed so far (name -> value)."""
        with self._lock:
            return dict(self._weights)

    def start(self) -> dict[str, float]:
        """A new optimisation starts: the weights changed so far, which it uses from the start."""
        with self._lock:
            self._pending.clear()
            return dict(self._weights)

    def between(self) -> Directive:
        """Between two evaluation rounds: waits while paused, then says what changed."""
        while not self._running.wait(PAUSE_POLL):
            pass
        with self._lock:
            changed, self._pending = self._pending, {}
            return Directive(changed, self._stop)

    @property
    def skipping(self) -> bool:
        """Whether the current batch is to be left unwritten."""
        with self._lock:
            return self._skip

    def end_batch(self) -> None:
        """The batch is finished: a stop or skip asked for it is spent."""
        with self._lock:
            self._stop = self._skip = False


def picture_changes(stages: list[tuple[int, tuple[WeightChange, ...]]], initial: dict[str, float]
                    ) -> tuple[WeightChange, ...]:  # fmt: skip
    """A picture's changes over all its sizes: each stage's (counted from `base`, the iterations done
    before it), only where a value differs from the one in force (starting from `initial`)."""
    in_force, kept = dict(initial), []
    for base, changes in stages:
        for change in changes:
            if in_force.get(change.name) != change.value:
                in_force[change.name] = change.value
                kept.append(WeightChange(base + change.iteration, change.name, change.value))
    return tuple(kept)
