"""Numeric precision of the network's forward and backward passes (--precision).

Only the VGG network runs in reduced precision (its weights cast once, `FeatureExtractor.in_precision`,
rather than by autocast, which casts frozen weights again on every pass): the Gram matrices, the
losses, the image and the L-BFGS state stay in float32 (see `losses.core.gram`, `losses.fused` and
`optimize.objective.Objective`). As the fast.ai lesson warns, half-precision gradients of tiny
losses round to zero; the objective is multiplied by the pixel count before back-propagating,
which keeps per-pixel gradients O(1) (`optimize.evaluation.evaluate_together`).

`auto` picks what measured faster without a visible loss (benchmarks/speed.py, docs/benchmarks/speed.md):
bfloat16 on CUDA GPUs that support it and on CPUs with native bfloat16 instructions (1.75x per
evaluation on an AVX-512-BF16 CPU, the same judged quality), float16 on older CUDA GPUs, and
float32 elsewhere (Apple MPS, CPUs without bfloat16 units, where emulation is slower).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from ..config import PRECISIONS
from ..errors import SettingsError

_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_precision(name: str, device: torch.device) -> torch.dtype:
    """The dtype the network computes in for `name` on `device`."""
    if name not in PRECISIONS:
        raise SettingsError(f"unknown precision {name!r}", hint=f"choose one of {', '.join(PRECISIONS)}")
    if name != "auto":
        if device.type == "mps" and name != "fp32":
            raise SettingsError(f"--precision {name} is not supported on MPS", hint="use --precision fp32 or auto")
        return _DTYPES[name]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "cpu" and _cpu_has_native_bf16():
        return torch.bfloat16
    return torch.float32


def _cpu_has_native_bf16() -> bool:
    # oneDNN also "supports" bf16 on plain AVX-512 by emulation, which is slower than float32;
    # only the native instructions (AVX512-BF16, AMX) pay.
    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # an older or non-x86 build
        return False


TF32_PRODUCTS = True  # float32 matrix products in TF32 on CUDA during an evaluation (benchmarks switch it off)


@contextlib.contextmanager
def tf32_products(device: torch.device) -> Iterator[None]:
    """On CUDA, float32 matrix products (the Gram matrices and their gradients) in TF32 while inside; the
    process's own setting is restored after. At a batch of 8 on an H200 the Gram products in full float32
    were the largest GPU cost (40%). Their judged quality holds: `benchmarks/quality.py --size 256` with
    the fused Gram's operands rounded to TF32's 10-bit mantissa on a CPU left every judged distance on
    the five shared pairs at most 0.5% above the commit before this module's fused terms
    (docs/benchmarks/speed.md). Elsewhere nothing changes."""
    if device.type != "cuda" or not TF32_PRODUCTS:
        yield
        return
    matmul = torch.backends.cuda.matmul
    before = matmul.allow_tf32
    matmul.allow_tf32 = True
    try:
        yield
    finally:
        matmul.allow_tf32 = before
