"""How the engine and an optimiser talk: an optimiser is a coroutine over one image.

Why coroutines: a batch optimises several images together, each with its *own* optimiser
state, but the expensive part (the network's forward and backward pass) should run once for
all of them. A coroutine yields the point it wants evaluated and is sent back an `Evaluation`;
the engine gathers the requests of every image, evaluates them in one pass, and answers each.
An image's trajectory therefore depends only on its own evaluations, never on which other
images shared its batch, and a batch of one is the plain algorithm.

Points and gradients are flat float32 vectors; the coroutines never touch the network.

Host reads: on a GPU every number the host reads waits for the card, so an optimiser keeps its
arithmetic on the device and asks for the few numbers its decisions need with its request (a
`Probe`): the slope of the gradient along its direction and any scalars it computed on the
device. The engine reads all of them, for every image of a round, in one go.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class Evaluation:
    loss: float  # the (scaled) objective at the point
    grad: torch.Tensor  # flat gradient at the point, float32
    terms: Any = None  # whatever the caller wants back with an accepted point (loss terms to report)
    slope: float = math.nan  # grad . the probe's direction (nan: the request had none)
    extras: tuple[float, ...] = ()  # the probe's device scalars, read with this evaluation


@dataclass(frozen=True)
class Probe:
    """A point to evaluate, with what to read back with it (see the module's docstring)."""

    point: torch.Tensor  # flat, as a plain request
    direction: torch.Tensor | None = None  # flat; the evaluation's slope is grad . direction
    extras: tuple[torch.Tensor, ...] = ()  # 0-dim tensors on the device, read with the evaluation


@dataclass(frozen=True)
class Accepted:
    """An iteration is finished: the image is now `point`, and `evaluation` was taken there (or, for
    Adam, just before the step)."""

    point: torch.Tensor
    evaluation: Evaluation


# A coroutine yields a point (a flat tensor or a `Probe`: "evaluate this, send me the Evaluation") or
# an `Accepted` (send None to go on). It returns a note if it stops on its own.
Request = torch.Tensor | Probe | Accepted
Coroutine = Generator[Request, Evaluation | None, str]
