"""Which torch device a run uses."""

from __future__ import annotations

import torch

from .errors import SettingsError


def resolve_device(spec: str) -> torch.device:
    """`auto` -> CUDA, then MPS, then CPU; an explicit device must exist (else a usage error)."""
    if spec == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(spec)
    except RuntimeError:
        raise SettingsError(f"unknown device {spec!r}", hint="use auto, cpu, cuda, cuda:N or mps") from None
    if device.type not in ("cpu", "cuda", "mps"):
        raise SettingsError(f"unsupported device {spec!r}", hint="use auto, cpu, cuda, cuda:N or mps")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise SettingsError(f"--device {spec}: no CUDA GPU is available here", hint="use --device cpu or auto")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise SettingsError(f"--device {spec}: only {torch.cuda.device_count()} CUDA device(s) here")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise SettingsError("--device mps: Apple's MPS backend is not available here", hint="use --device cpu")
    return device
