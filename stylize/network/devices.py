"""Which torch device a run uses, how much memory a picture needs, and how many fit at once."""

from __future__ import annotations

import os

import torch

from ..errors import SettingsError
from .device_choice import auto_device


def resolve_device(spec: str) -> torch.device:
    """`auto` -> CUDA, then MPS, then CPU; an explicit device must exist (else a usage error)."""
    if spec == "auto":
        return torch.device(auto_device().device)
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


# Memory one picture needs while it is optimised whole, per output pixel (network/memory.py has the
# model this comes from): activations and their gradients (2.5 KiB measured in fp32), the L-BFGS
# history (50 pairs, 1.2 KiB), the image and the optimiser's vectors; sizes the default batch.
BYTES_PER_PIXEL = 4096
MAX_GPU_BATCH = 16  # more images per pass stop paying once the GPU is full
MAX_CPU_BATCH = 4  # images side by side on the CPU (each gets its share of the cores)


# Where a scheduler says how many CPUs a job was given (Slurm, SGE/UGE, PBS Pro), and OpenMP's own
# setting; the least of these and the affinity mask is what a run may use.
ALLOCATION_VARIABLES = ("SLURM_CPUS_PER_TASK", "NSLOTS", "NCPUS", "OMP_NUM_THREADS")


def allowed_cpus() -> int:
    """CPUs this process may use: its affinity mask (`taskset`, cgroup cpusets), capped by a
    scheduler's allocation or OMP_NUM_THREADS where those are set to a positive number."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        count = os.cpu_count() or 1
    for name in ALLOCATION_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            count = min(count, int(value))
    return max(1, count)


def use_threads(threads: int) -> int:
    """Compute on `threads` CPU threads (0: allowed_cpus()); side-by-side workers share them. The count."""
    count = threads or allowed_cpus()
    torch.set_num_threads(count)
    return count


def cpu_cores() -> int:
    """Threads torch computes with here: the cores, or fewer where OMP_NUM_THREADS (or
    torch.set_num_threads) says so, as when several processes share a machine."""
    return max(1, torch.get_num_threads())


def default_batch_size(device: torch.device, pixels: int) -> int:
    """How many pictures of `pixels` pixels to optimise together on `device` when --batch-size is 0.

    CPU: one per core, up to MAX_CPU_BATCH (they run side by side; measured on 2 cores, 2 images
    at a time make 8% more pictures per hour than one at a time), and no more than fit in half of
    the available memory. CUDA: as many as fit in half of the free memory, up to MAX_GPU_BATCH.
    MPS: one (its memory is the system's).
    """
    need = pixels * BYTES_PER_PIXEL
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return max(1, min(MAX_GPU_BATCH, free // 2 // need))
    if device.type == "cpu":
        return max(1, min(MAX_CPU_BATCH, cpu_cores(), available_memory() // 2 // need))
    return 1


def available_memory() -> int:
    """Bytes the system can give without swapping (MemAvailable), or the free pages where that is unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 2**40  # unknown: do not limit by memory


def memory_available(device: torch.device) -> int:
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    return available_memory()


def memory_held(device: torch.device) -> int:
    """Bytes this process already holds on `device` (resident memory on the CPU; torch's allocations on a GPU)."""
    if device.type == "cuda":
        return int(torch.cuda.memory_reserved(device))
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return 0


def memory_budget(max_memory: int, device: torch.device) -> int:
    """Bytes a run may use: `max_memory` (--max-memory), or 0 for what is free now plus what this
    process already holds (its network is part of BASE)."""
    return max_memory or memory_available(device) + memory_held(device)
