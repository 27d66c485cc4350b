"""Which device `--device auto` takes, and why: the GPU it found, or why a GPU that is there cannot be used.

One function answers for `stylize --version` and for the note a run prints when it falls back to
the CPU on a machine with a GPU, so the two always say the same thing.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

NVIDIA_DRIVER_FILE = Path("/proc/driver/nvidia/version")  # present where the NVIDIA kernel driver is loaded


@dataclass(frozen=True)
class DeviceChoice:
    device: str  # "cuda", "mps" or "cpu"
    reason: str  # one line: what was found, or why the GPU here is not used
    gpu_unused: bool  # a GPU is on this machine but this torch cannot use it


def auto_device() -> DeviceChoice:
    """The device `--device auto` runs on: a CUDA GPU, then Apple's MPS, then the CPU, with why."""
    with warnings.catch_warnings(record=True) as caught:  # torch warns when CUDA fails to start: that is the why
        warnings.simplefilter("always")
        cuda = torch.cuda.is_available()
    if cuda:
        name = torch.cuda.get_device_name(0)
        more = f" (and {torch.cuda.device_count() - 1} more)" if torch.cuda.device_count() > 1 else ""
        return DeviceChoice("cuda", f"CUDA GPU {name}{more}, torch built with CUDA {torch.version.cuda}", False)
    if torch.backends.mps.is_available():
        return DeviceChoice("mps", "Apple GPU (MPS)", False)
    driver = nvidia_driver()
    if driver is None:
        return DeviceChoice("cpu", "no CUDA or MPS GPU found", False)
    if torch.version.cuda is None:
        why = f"this torch {torch.__version__} is a CPU-only build"
        fix = "install a CUDA build of torch that suits the driver, then this package"
    else:
        why = f"this torch build (CUDA {torch.version.cuda}) cannot use it: {_cuda_failure(caught)}"
        fix = "install the torch build that matches the driver (or a newer driver), then this package"
    return DeviceChoice("cpu", f"an NVIDIA GPU is present (driver {driver}) but {why}; {fix}", True)


def nvidia_driver() -> str | None:
    """The NVIDIA kernel driver's version where one is loaded ("unknown" if unreadable), else None."""
    try:
        text = NVIDIA_DRIVER_FILE.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError:
        return "unknown"
    found = re.search(r"Kernel Module\s+(?:for \S+\s+)?(\d[\w.]*)", text)
    return found.group(1) if found else "unknown"


def _cuda_failure(caught: list[warnings.WarningMessage]) -> str:
    """torch's own words for why CUDA did not start (its warning's first sentence), or a plain default."""
    for warning in caught:
        text = str(warning.message).removeprefix("CUDA initialization:").strip()
        if text:
            first = re.split(r"(?<=[.)])\s", text, maxsplit=1)[0]
            return first.rstrip(".")
    return "CUDA did not start"
