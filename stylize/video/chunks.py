"""Which frames a run of a video makes: its chunk (with --shard), and where a rerun continues.

A video is a chain: each frame starts from the one before. So `--shard K/N` splits it into N
contiguous chunks (not interleaved frames), and each chunk after the first also stylises the
frame before it as its chain's start (`lead_in`, one frame that overlaps the chunk before; it is
not written: that chunk writes it). A chunk's first frame is therefore not constrained by the
earlier chunk's pictures: where chunks meet, the video may jump once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Chunk:
    first: int  # 0-based, the first frame this run writes
    last: int  # the last one (inclusive); last < first: nothing to do
    lead_in: int | None  # the frame before `first`, stylised as the chain's start but not written

    @property
    def count(self) -> int:
        return max(0, self.last - self.first + 1)


def video_chunk(frames: int, shard: tuple[int, int] | None) -> Chunk:
    """The K-th of N contiguous chunks of `frames` frames (all of them without a shard)."""
    k, n = shard or (1, 1)
    first, end = (frames * (k - 1)) // n, (frames * k) // n
    return Chunk(first, end - 1, first - 1 if first > 0 else None)


def chain_start(chunk: Chunk, done: Callable[[int], bool]) -> int:
    """The first frame of the chunk that is not on disk (`done`): a rerun continues there. Frames after it
    are made again even where a file is there, since each depends on the one before. chunk.last + 1: all done."""
    for index in range(chunk.first, chunk.last + 1):
        if not done(index):
            return index
    return chunk.last + 1
