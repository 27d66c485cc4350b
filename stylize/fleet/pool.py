"""The workers of a run: started on their slots, checked, handed orders, and replaced when they die.

The driver's one loop: hand each idle worker the next task, wait (a second at a time, so that a
stop signal is heard) for any answer, and pass it on. A worker that dies mid-order (its process
killed, its node lost) loses nothing that was written: another is made on its slot (up to RESTARTS
times; on another node if its node is gone and one has room), and the task goes back to the front
of the queue for any worker, at most RETRIES times. A task a worker fails for its own reasons (a bug) fails alone.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..config import Config
from ..errors import StylizeError
from .cluster import check_versions
from .orders import Answer, BatchOrder, FramesOrder, Slot, Where
from .worker import Inputs, Worker, versions

RESTARTS = 3  # times a slot's worker is made again after dying (its network is loaded again)
RETRIES = 2  # times a task whose worker died is handed out again
STOP_SECONDS = 20.0  # how long a stopped run waits for its workers' unfinished images
ORPHANED_SECONDS = 300.0  # work left and no live worker for this long (starting or restarting): the run gives up on it


@dataclass
class Task:
    """An order for a worker, and what the driver knows of it."""

    order: BatchOrder | FramesOrder
    subject: Any  # what the caller needs to handle the answer (its jobs)
    tries: int = 0

    @property
    def method(self) -> str:
        return "make_batch" if isinstance(self.order, BatchOrder) else "make_frames"


@dataclass
class Handlers:
    """What the driver does with each answer (new tasks: a video stretch's next frames), with a task that
    cannot be done, with a retry (a log line), and with a newly ready worker."""

    answered: Callable[[Task, Answer], Iterable[Task]]
    failed: Callable[[Task, str], None]
    retried: Callable[[Task, str, Where | None], None]
    joined: Callable[[Where], None] = lambda where: None
    stopping: Callable[[], bool] = lambda: False  # no new task is handed out (a full disk: nothing more can be written)
    tick: Callable[[], None] = lambda: None  # called at least once a second (writes finished on other threads)


@dataclass
class Pool:
    ray: Any
    slots: list[Slot]
    config: Config
    styles: dict[Any, bytes]
    weights: bytes | None = None
    later: Config | None = None
    actors: list[Any] = field(default_factory=list)
    where: dict[Any, Where] = field(default_factory=dict)  # actor -> who it is, once ready
    inputs: Any = None  # the ref of the styles and weights
    slot_of: dict[Any, int] = field(default_factory=dict)  # actor -> its slot's number
    restarts: dict[int, int] = field(default_factory=dict)  # slot number -> workers made again on it

    def start(self) -> None:
        # in the object store once for all workers, held here (also for the workers made again later)
        self.inputs = self.ray.put(Inputs(self.styles, self.weights))
        for number in range(len(self.slots)):
            self.actors.append(self.new_worker(number))

    def new_worker(self, number: int) -> Any:
        """A worker on slot `number`'s node (elsewhere if that node is gone and another has room)."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        slot = self.slots[number]
        options = {"num_cpus": slot.threads, "num_gpus": slot.gpus, "max_concurrency": 2,  # the 2nd thread hears `halt`
                   "scheduling_strategy": NodeAffinitySchedulingStrategy(slot.node, soft=True)}  # fmt: skip
        actor = self.ray.remote(Worker).options(**options).remote(self.config, slot, [self.inputs], self.later)
        self.slot_of[actor] = number
        return actor

    def replace_worker(self, actor: Any) -> Any | None:
        """A worker that died is ended for good and, while restarts are left, another takes its slot."""
        self.ray.kill(actor, no_restart=True)
        number = self.slot_of[actor]
        self.restarts[number] = self.restarts.get(number, 0) + 1
        if self.restarts[number] > RESTARTS:
            return None
        new = self.new_worker(number)
        self.actors.append(new)
        return new

    def run(self, tasks: Iterable[Task], handlers: Handlers) -> None:
        """Every task done (or failed); returns when none is left. A stop signal (an exception raised in
        this thread) halts the workers first: their answers (unfinished images) still reach `handlers`."""
        run = _Run(self, iter(tasks), handlers)
        try:
            run.loop()
        except SystemError as err:  # a signal while Ray's compiled code ran (ray.wait, ray.get): see below
            stop = signal_cause(err)
            run.halt()
            if stop is None:
                raise
            raise stop from None
        except BaseException:
            run.halt()
            raise

    def shutdown(self) -> None:
        """Each worker removes its files (a few seconds at most), then ends."""
        closing = [actor.close.remote() for actor in self.actors]
        with contextlib.suppress(Exception):
            self.ray.wait(closing, num_returns=len(closing), timeout=5.0)
        for actor in self.actors:
            with contextlib.suppress(Exception):  # one that is gone already
                self.ray.kill(actor, no_restart=True)


class _Run:
    def __init__(self, pool: Pool, fresh: Iterator[Task], handlers: Handlers) -> None:
        self.pool, self.ray, self.fresh, self.handlers = pool, pool.ray, fresh, handlers
        self.queue: deque[Task] = deque()  # tasks to hand out before fresh ones: retries, a stretch's next frames
        self.running: dict[Any, tuple[Any, Task]] = {}  # answer ref -> (actor, task)
        self.waking: dict[Any, Any] = {a.describe.remote(): a for a in pool.actors}  # ref -> an actor not yet ready
        self.idle: list[Any] = []
        self.orphaned_since: float | None = None

    def loop(self) -> None:
        mine = versions()
        while True:
            self.pull()
            while self.idle and self.queue and not self.handlers.stopping():
                actor, task = self.idle.pop(0), self.queue.popleft()
                self.running[getattr(actor, task.method).remote(task.order)] = (actor, task)
                self.pull()
            if not self.running and (not self.queue or self.handlers.stopping()):
                return
            self.check_orphaned()
            self.handlers.tick()
            refs = [*self.running, *self.waking]
            if not refs:
                continue
            done, _ = self.ray.wait(refs, num_returns=1, timeout=1.0)
            for ref in done:
                if ref in self.waking:
                    self.woke(ref, mine)
                else:
                    self.answered(ref)

    def pull(self) -> None:
        """Keep one fresh task ready (made only when needed: each holds its pictures' bytes)."""
        if not self.queue:
            task = next(self.fresh, None)
            if task is not None:
                self.queue.append(task)

    def woke(self, ref: Any, mine: dict[str, str]) -> None:
        actor = self.waking.pop(ref)
        try:
            where: Where = self.ray.get(ref)
        except self.ray.exceptions.RayError:  # it died while starting: made again (while restarts are left)
            new = self.pool.replace_worker(actor)
            if new is not None:
                self.waking[new.describe.remote()] = new
            return
        check_versions(mine, where.versions, where.host)
        if actor not in self.pool.where:
            self.handlers.joined(where)
        self.pool.where[actor] = where
        self.idle.append(actor)

    def answered(self, ref: Any) -> None:
        actor, task = self.running.pop(ref)
        try:
            answer: Answer = self.ray.get(ref)
        except self.ray.exceptions.RayTaskError as err:  # raised inside the worker: this task's own problem
            cause = err.cause if isinstance(err.cause, StylizeError) else None
            self.handlers.failed(task, str(cause) if cause else f"the worker failed: {type(err.cause).__name__}")
            self.idle.append(actor)
            return
        except self.ray.exceptions.RayError as err:  # the worker (or its node) died: its task goes again
            self.lost(actor, task, err)
            return
        self.idle.append(actor)
        for follow in reversed(list(self.handlers.answered(task, answer))):
            self.queue.appendleft(follow)

    def lost(self, actor: Any, task: Task, err: BaseException) -> None:
        task.tries += 1
        why = f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else 'lost'}"
        if task.tries > RETRIES:
            self.handlers.failed(task, f"its worker died {task.tries} times (last: {why})")
        else:
            self.handlers.retried(task, why, self.pool.where.get(actor))
            self.queue.appendleft(task)
        new = self.pool.replace_worker(actor)
        if new is not None:
            self.waking[new.describe.remote()] = new  # takes work once its network is loaded

    def check_orphaned(self) -> None:
        """Work left, no worker alive or busy: wait for restarts a while, then fail what is left."""
        if not self.queue or self.idle or self.running:
            self.orphaned_since = None
            return
        now = time.monotonic()
        self.orphaned_since = self.orphaned_since or now
        if not self.waking or now - self.orphaned_since > ORPHANED_SECONDS:
            while self.queue:
                self.handlers.failed(self.queue.popleft(), "no worker of the fleet is left to make it")
                self.pull()

    def halt(self) -> None:
        """Stop every busy worker and pass on what they answer (unfinished images), for STOP_SECONDS at most."""
        for actor, _ in self.running.values():
            actor.halt.remote()
        deadline = time.monotonic() + STOP_SECONDS
        while self.running and time.monotonic() < deadline:
            done, _ = self.ray.wait(list(self.running), num_returns=1, timeout=max(0.1, deadline - time.monotonic()))
            for ref in done:
                actor, task = self.running.pop(ref)
                try:
                    answer = self.ray.get(ref)
                except self.ray.exceptions.RayError:  # lost while stopping: nothing of it was written anyway
                    continue
                self.handlers.answered(task, answer)


def signal_cause(err: SystemError) -> BaseException | None:
    """The stop (KeyboardInterrupt, or the CLI's exception for SIGTERM) that a signal handler raised while a
    compiled Ray function ran: Cython hands it back as SystemError "returned a result with an exception
    set", the handler's exception chained. None if the SystemError is something else."""
    cause = err.__cause__ or err.__context__
    return cause if isinstance(cause, BaseException) and not isinstance(cause, Exception) else None
