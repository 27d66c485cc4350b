"""Pictures to bytes and back: what goes to a worker and what comes back, so no shared file system is needed.

Images travel as lossless PNG (8-bit, what a result is saved as anyway): a photo decoded by the
driver, a result quantised by the worker as `to_pil` would when saving. A result decoded back is the
same 8-bit picture, so the driver writes the same bytes a local run writes. Masks (small) travel as
they are, pickled by Ray.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from ..errors import OptimizationError
from ..io.tensors import to_pil, to_tensor
from ..optimize.engine import Result
from ..run.pictures import Picture, Resume


def png(image: Image.Image) -> bytes:
    """Lossless and quick (level 1: these bytes cross a network once and are decoded once)."""
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def unpng(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as opened:
        return opened.convert("RGB") if opened.mode != "RGB" else opened.copy()


@dataclass(frozen=True)
class PackedPicture:
    """A Picture with its photo, start and resume images as PNG bytes and its styles named by path."""

    content: bytes
    styles: tuple[Path, ...]
    init_image: bytes | None
    resume: tuple[Any, bytes] | None  # (ResumePoint, image)
    regions: Any  # Regions | None: masks, pickled as they are


def pack(picture: Picture, styles: tuple[Path, ...]) -> PackedPicture:
    resume = None if picture.resume is None else (picture.resume.point, png(picture.resume.image))
    init = None if picture.init_image is None else png(picture.init_image)
    return PackedPicture(png(picture.content), styles, init, resume, picture.regions)


def unpack(packed: PackedPicture, styles: dict[Path, Image.Image], init: dict[bytes, Image.Image]) -> Picture:
    """The Picture again; style images (and the one --init image) are shared objects, so that the
    worker's targets for them are computed once."""
    start = None
    if packed.init_image is not None:
        start = init.setdefault(packed.init_image, unpng(packed.init_image))
    resume = None if packed.resume is None else Resume(packed.resume[0], unpng(packed.resume[1]))
    return Picture(unpng(packed.content), tuple(styles[p] for p in packed.styles), start, resume, packed.regions)


@dataclass(frozen=True)
class PackedOutcome:
    """A result (or a failed optimisation with its last good image) on its way back to the driver."""

    image: bytes | None  # PNG; None: a failure without an image
    result: Result | None  # with a 0x0 image: the real one is `image`
    error: tuple[str, str | None] | None = None  # (message, hint) of an OptimizationError


def pack_outcome(outcome: Result | OptimizationError) -> PackedOutcome:
    if isinstance(outcome, OptimizationError):
        image = png(to_pil(outcome.image)) if isinstance(outcome.image, torch.Tensor) else None
        return PackedOutcome(image, None, (outcome.message, outcome.hint))
    return PackedOutcome(png(to_pil(outcome.image)), replace(outcome, image=torch.empty(0)))


def unpack_outcome(packed: PackedOutcome) -> Result | OptimizationError:
    image = None if packed.image is None else to_tensor(unpng(packed.image))
    if packed.result is None:
        message, hint = packed.error or ("the worker failed", None)
        error = OptimizationError(message, hint=hint)
        error.image = image
        return error
    assert image is not None
    return replace(packed.result, image=image)
