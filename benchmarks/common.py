"""Helpers shared by the benchmarks: the judge, peak memory, the machine's matmul throughput."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

import torch

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
SHARED = ROOT.parent / "shared"
JUDGE = SHARED / "tools" / "judge.py"


def judge(output: Path, content: Path, style: Path) -> dict[str, float] | None:
    """The shared judge's scores of `output` (content_rel, style_rel), or None where it is absent."""
    if not JUDGE.is_file():
        return None
    done = subprocess.run([sys.executable, str(JUDGE), str(output), str(content), str(style)],
                          capture_output=True, text=True, check=True)  # fmt: skip
    scores: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return scores


class PeakMemory:
    """Peak memory during a `with` block: CUDA's allocator peak, or this process's RSS sampled every 20 ms."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            self.peak_bytes = _rss_bytes()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak_bytes = max(self.peak_bytes, _rss_bytes())

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.peak_bytes = torch.cuda.max_memory_allocated(self.device)
        elif self._thread is not None:
            self._stop.set()
            self._thread.join()
            self.peak_bytes = max(self.peak_bytes, _rss_bytes())

    @property
    def label(self) -> str:
        what = "GPU allocated" if self.device.type == "cuda" else "process RSS"
        return f"{self.peak_bytes / 2**30:.2f} GiB ({what})"


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def matmul_flops_per_second(device: torch.device, dtype: torch.dtype, seconds: float = 1.0) -> float:
    """Measured dense matrix-multiply throughput (FLOP/s) of this machine in `dtype`."""
    n = 2048
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    torch.mm(a, b)  # warm up
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        torch.mm(a, b)
        count += 1
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    return 2 * n**3 * count / (time.perf_counter() - start)


def conv_flops(network: torch.nn.Sequential, height: int, width: int) -> int:
    """FLOPs of one forward pass of the convolutions of `network` on a (1, 3, height, width) image."""
    total, h, w = 0, height, width
    for module in network:
        if isinstance(module, torch.nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            total += 2 * module.in_channels * module.out_channels * k * h * w
        elif isinstance(module, torch.nn.MaxPool2d):
            h, w = h // 2, w // 2
    return total
