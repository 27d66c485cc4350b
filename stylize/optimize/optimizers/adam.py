"""Adam (Kingma & Ba 2015) as a coroutine over one image (see `protocol`): no history, less memory."""

from __future__ import annotations

import math

import torch

from .protocol import Accepted, Coroutine

ADAM_BETAS, ADAM_EPS = (0.9, 0.999), 1e-8


def adam(start: torch.Tensor, learning_rate: float) -> Coroutine:
    """Adam (Kingma & Ba 2015) with bias correction, pixels clamped to [0, 1] after each step."""
    x = start.detach().clone()
    (beta1, beta2), m, v, count = ADAM_BETAS, torch.zeros_like(x), torch.zeros_like(x), 0
    while True:
        here = yield x
        assert here is not None
        count += 1
        m.mul_(beta1).add_(here.grad, alpha=1 - beta1)
        v.mul_(beta2).addcmul_(here.grad, here.grad, value=1 - beta2)
        denominator = (v.sqrt() / math.sqrt(1 - beta2**count)).add_(ADAM_EPS)
        x = x.addcdiv(m, denominator, value=-learning_rate / (1 - beta1**count)).clamp_(0.0, 1.0)
        yield Accepted(x, here)
