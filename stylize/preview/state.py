"""What the live page shows, as the run reports it: the picture, its losses over time, progress and ETA.

The run's thread writes (through `events.LiveEvents`), the server's threads read; one lock
guards it all and every write is cheap (numbers, and at most a few image copies a second), so the
run never waits for the page. Images are encoded only when a browser asks for them, in the
server's thread.
"""

from __future__ import annotations

import io
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from ..io.reading import load_image

IMAGE_EVERY = 0.5  # seconds: the picture is copied for the page at most this often (and at its last step)
THUMBNAIL = 512  # px: the photo and the style are shown at most this large
MESSAGES = 30  # the latest messages kept for the page


@dataclass
class Picture:
    """The picture being made: which job, its inputs, its progress and the losses so far."""

    index: int  # the job's position in the run (0-based)
    content: Path
    styles: tuple[Path, ...]
    output: Path
    started: float = field(default_factory=time.monotonic)
    history: list[list[float]] = field(default_factory=list)  # [iteration, seconds, total, content, style, tv]
    step: dict[str, Any] = field(default_factory=dict)  # stage, stages, size, iteration, iterations
    marks: list[list[Any]] = field(default_factory=list)  # [iteration, what changed]: weights steered here


class LiveState:
    def __init__(self, jobs: int, per_picture: int, weights: dict[str, float]) -> None:
        self._lock = threading.Lock()
        self.jobs, self.per_picture = jobs, per_picture  # iterations a picture gets at most
        self.weights = dict(weights)  # as the run last reported them
        self.version = 0  # bumped by every change
        self.started = time.monotonic()
        self.picture: Picture | None = None
        self.finished: list[dict[str, Any]] = []  # one per job done, skipped or failed
        self.seconds_made: list[float] = []  # seconds of each picture made (for the folder's ETA)
        self.messages: deque[str] = deque(maxlen=MESSAGES)
        self.image: np.ndarray | None = None  # (H, W, 3) uint8, the latest copy (no torch in the server's threads)
        self.image_version = 0
        self._copied = 0.0  # when the image was last copied
        self._encoded: tuple[int, bytes] | None = None
        self._thumbnails: dict[Path, bytes] = {}
        self.ended = False  # the run is over (the page may stay, --preview-keep)
        self.paused = False  # as the page's controls left it

    def _changed(self) -> None:
        self.version += 1

    def begin(self, index: int, content: Path, styles: tuple[Path, ...], output: Path) -> None:
        with self._lock:
            self.picture = Picture(index, content, styles, output)
            self.image, self._encoded = None, None
            self.image_version += 1
            self._changed()

    def step(self, iteration: int, losses: tuple[float, float, float, float], image: torch.Tensor,
             progress: dict[str, Any], weights: dict[str, float] | None, last: bool) -> None:  # fmt: skip
        """An iteration done: its losses, where the picture is, and (at most every IMAGE_EVERY s) its image."""
        now = time.monotonic()
        copy = last or now - self._copied >= IMAGE_EVERY
        snapshot = _pixels(image) if copy else None
        with self._lock:
            if self.picture is None:
                return
            self.picture.history.append([iteration, round(now - self.picture.started, 3), *losses])
            self.picture.step = progress
            if weights:
                changed = [f"{k} {v:g}" for k, v in weights.items() if self.weights.get(k) != v]
                if changed and self.picture.history[:-1]:  # a change during this picture, not its start
                    self.picture.marks.append([iteration - 1, ", ".join(changed)])
                self.weights = dict(weights)
            if snapshot is not None:
                self.image, self._copied = snapshot, now
                self.image_version += 1
            self._changed()

    def end(self, outcome: dict[str, Any], seconds: float) -> None:
        with self._lock:
            self.finished.append(outcome)
            if outcome["status"] == "done":
                self.seconds_made.append(seconds)
            self._changed()

    def say(self, message: str) -> None:
        with self._lock:
            self.messages.append(message)
            self._changed()

    def close(self) -> None:
        with self._lock:
            self.ended, self.paused = True, False
            self._changed()

    def set_paused(self, paused: bool) -> None:
        with self._lock:
            self.paused = paused
            self._changed()

    def latest(self) -> tuple[np.ndarray | None, Path | None, int]:
        """The latest image, the output it is for, and the picture's iterations done."""
        with self._lock:
            picture = self.picture
            done = int(picture.history[-1][0]) if picture and picture.history else 0
            return self.image, picture.output if picture else None, done

    def encoded_image(self) -> bytes | None:
        """The latest image as PNG bytes (encoded once per copy, by the thread that asks)."""
        with self._lock:
            image, version, cached = self.image, self.image_version, self._encoded
        if image is None:
            return None
        if cached is not None and cached[0] == version:
            return cached[1]
        data = _png(Image.fromarray(image, mode="RGB"))
        with self._lock:
            self._encoded = (version, data)
        return data

    def input_image(self, which: str) -> bytes | None:
        """The current picture's photo ('content') or first style ('style'), small: never a path from a request."""
        with self._lock:
            picture = self.picture
        if picture is None:
            return None
        path = picture.content if which == "content" else picture.styles[0]
        if path not in self._thumbnails:
            image = load_image(path)
            image.thumbnail((THUMBNAIL, THUMBNAIL))
            self._thumbnails[path] = _png(image)
        return self._thumbnails[path]

    def view(self, since: tuple[int, int] | None) -> tuple[dict[str, Any], tuple[int, int]]:
        """The page's data; `since` is (picture, points) the page already has: only newer loss points
        are sent, all of them for a new picture. Returns what to remember for the next call."""
        with self._lock:
            picture, now = self.picture, time.monotonic()
            known = since[1] if since and picture and since[0] == picture.index else 0
            history = picture.history[known:] if picture else []
            data = {"version": self.version, "jobs": self.jobs, "per_picture": self.per_picture, "paused": self.paused,
                    "weights": self.weights, "ended": self.ended,
                    "finished": self.finished[-50:], "done": len(self.finished), "messages": list(self.messages),
                    "image": self.image_version, "elapsed": round(now - self.started, 1),
                    "eta": self._run_eta(now), "picture": None, "history": history, "reset": known == 0}  # fmt: skip
            if picture is not None:
                data["picture"] = {"index": picture.index, "content": picture.content.name,
                                   "output": str(picture.output), "styles": [s.name for s in picture.styles],
                                   "step": picture.step, "marks": picture.marks,
                                   "eta": self._picture_eta(picture, now)}  # fmt: skip
            return data, (picture.index if picture else -1, known + len(history))

    def _picture_eta(self, picture: Picture, now: float) -> float | None:
        """Seconds left for the picture at its rate so far (its iteration cap: --iterations auto may end sooner)."""
        done = picture.history[-1][0] if picture.history else 0
        if not done:
            return None
        return round((now - picture.started) / done * max(0.0, self.per_picture - done), 1)

    def _run_eta(self, now: float) -> float | None:
        """Seconds left for the run: this picture's, then the rest at the mean time per picture so far."""
        left = self.jobs - len(self.finished) - (1 if self.picture and not self.ended else 0)
        current = self._picture_eta(self.picture, now) if self.picture and not self.ended else 0.0
        if current is None:
            return None
        per = sum(self.seconds_made) / len(self.seconds_made) if self.seconds_made else None
        if per is None:
            picture = self.picture
            per = (now - picture.started + current) if picture and left > 0 else 0.0
        return round(current + max(0, left) * per, 1)


def _pixels(image: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) in [0, 1] -> (H, W, 3) uint8, in the run's thread: torch called from the server's
    threads would start thread pools of its own that fight the run's for the cores (measured: +30%
    per iteration at 256 px with the picture fetched 4 times a second, before this)."""
    pixels = image.detach()[0].clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0)  # (H, W, 3)
    return pixels.cpu().contiguous().numpy()


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)  # fast: the page is on this machine or a tunnel
    return buffer.getvalue()
