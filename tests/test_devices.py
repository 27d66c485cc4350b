from __future__ import annotations

import pytest
import torch

from stylize.network import devices


def test_the_cpu_batch_follows_the_cores_and_the_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    cpu = torch.device("cpu")
    monkeypatch.setattr(devices, "cpu_cores", lambda: 2)
    monkeypatch.setattr(devices, "available_memory", lambda: 64 * 2**30)
    assert devices.default_batch_size(cpu, 256 * 192) == 2
    monkeypatch.setattr(devices, "cpu_cores", lambda: 64)
    assert devices.default_batch_size(cpu, 256 * 192) == devices.MAX_CPU_BATCH
    big = 2048 * 1536  # 12 GiB each by the estimate: one at a time on a 24 GiB machine
    monkeypatch.setattr(devices, "available_memory", lambda: 20 * 2**30)
    assert devices.default_batch_size(cpu, big) == 1
    monkeypatch.setattr(devices, "available_memory", lambda: 0)
    assert devices.default_batch_size(cpu, 16) == 1  # never zero


def test_available_memory_is_known_here() -> None:
    assert devices.available_memory() > 2**20
