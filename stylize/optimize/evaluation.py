"""Evaluating the objective and its gradient for the images of a batch that asked for it.

Loss scaling: the objective is O(1) (relative errors), so its gradient per pixel is about
1/(H*W). As the fast.ai lesson notes, tiny losses give gradients that vanish in low precision;
the objective is back-propagated times H*W so that per-pixel gradients are O(1) at every size.

Two ways, chosen per device, with the same answers (up to float rounding):
- together: one forward and backward pass over a (k, 3, H, W) batch. Fills a GPU.
- side by side (CPU): each image on its own worker thread with its share of the cores. On a CPU
  one image already keeps the cores busy, so a bigger batch buys nothing (measured at 256x192
  in bf16 on 2 cores: 0.254 s per image alone, 0.258 in a batch of 2, 0.278 in a batch of 8),
  but two images on one core each beat one image on two cores (0.248 s per image, not 0.269):
  every layer runs without waiting for its slowest thread.
Each image's loss depends only on its own pixels and targets, so neither way lets images
influence each other.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import torch

from ..network.devices import cpu_cores
from ..network.precision import tf32_products
from .objective import Objective
from .optimizers.protocol import Evaluation, Probe


@dataclass(frozen=True)
class NonFinite:
    reason: str  # what became inf/NaN


@dataclass(frozen=True)
class Evaluated:
    """Evaluations of k points, still on the device (nothing read yet)."""

    scalars: torch.Tensor  # (k, 5) float32: total, content, style, tv (unscaled), and 1 where the gradient is finite
    grads: list[torch.Tensor]  # k flat gradients, each scaled by `scale`
    scale: float  # H*W: what the losses are multiplied by before backward


EvaluationOutcome = Evaluation | NonFinite
# (objective, points (k, 3, H, W), rows of the objective's targets) -> their evaluations, on the device
Evaluate = Callable[[Objective, torch.Tensor, Sequence[int]], Evaluated]


def evaluate_together(objective: Objective, points: torch.Tensor, rows: Sequence[int]) -> Evaluated:
    """One pass over all points. The loss is scaled by H*W before backward (see above)."""
    image = points.detach().clone().requires_grad_(True)
    scale = float(image.shape[-1] * image.shape[-2])
    with tf32_products(image.device):
        terms = objective(image, rows)
        (terms.total.sum() * scale).backward()  # type: ignore[no-untyped-call]
    assert image.grad is not None
    grads = image.grad.reshape(len(rows), -1)  # (k, 3*H*W)
    finite = torch.isfinite(grads).all(dim=1)
    scalars = torch.stack([terms.total.detach(), terms.content.detach(), terms.style.detach(), terms.tv.detach(),
                           finite.to(terms.total.dtype)], 1)  # fmt: skip
    return Evaluated(scalars.float(), list(grads.unbind()), scale)


def read(evaluated: Evaluated, probes: Sequence[Probe | None] | None = None) -> list[EvaluationOutcome]:
    """The outcomes of an evaluation round, with each probe's slope and extras: one host read in all."""
    probes = probes if probes is not None else [None] * len(evaluated.grads)
    parts = [evaluated.scalars.reshape(-1)]
    for grad, probe in zip(evaluated.grads, probes, strict=True):
        if probe is not None and probe.direction is not None:
            parts.append(torch.stack([grad.dot(probe.direction), *probe.extras]).float())
    values = torch.cat(parts).tolist()  # the round's one host read
    outcomes: list[EvaluationOutcome] = []
    at = 5 * len(probes)
    for i, (grad, probe) in enumerate(zip(evaluated.grads, probes, strict=True)):
        total, content, style, tv, finite = values[5 * i : 5 * i + 5]
        slope, extras = math.nan, ()
        if probe is not None and probe.direction is not None:
            slope, extras = values[at], tuple(values[at + 1 : at + 1 + len(probe.extras)])
            at += 1 + len(probe.extras)
        if not math.isfinite(total):
            outcomes.append(NonFinite(f"loss became {total}"))
        elif not finite:
            outcomes.append(NonFinite("gradient became non-finite"))
        else:
            outcomes.append(Evaluation(total * evaluated.scale, grad, (total, content, style, tv), slope, extras))
    return outcomes


class SideBySide:
    """Evaluates each image on its own worker thread, each with `cores // workers` threads of its own."""

    def __init__(self, workers: int, cores: int) -> None:
        threads = max(1, cores // workers)
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="stylize-eval",
                                       initializer=lambda: torch.set_num_threads(threads))  # fmt: skip

    def __call__(self, objective: Objective, points: torch.Tensor, rows: Sequence[int]) -> Evaluated:
        if len(rows) == 1:  # alone: all the cores in this thread
            return evaluate_together(objective, points, rows)
        jobs = [self.pool.submit(evaluate_together, objective, points[i : i + 1], [row]) for i, row in enumerate(rows)]
        done = [job.result() for job in jobs]
        return Evaluated(torch.cat([d.scalars for d in done]), [d.grads[0] for d in done], done[0].scale)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)  # on Ctrl-C: finish the running evaluations only


def evaluation_for(device: torch.device, batch: int) -> tuple[Evaluate, Callable[[], None]]:
    """How to evaluate a batch of `batch` images on `device`, and how to release what that needs."""
    if device.type != "cpu" or batch == 1:
        return evaluate_together, lambda: None
    side_by_side = SideBySide(min(batch, cpu_cores()), cpu_cores())
    return side_by_side, side_by_side.close
