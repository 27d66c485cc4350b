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


def test_a_run_that_cannot_fit_is_refused_with_a_size_that_would(monkeypatch: pytest.MonkeyPatch) -> None:
    from stylize.errors import ResourceError

    cpu = torch.device("cpu")
    monkeypatch.setattr(devices, "available_memory", lambda: 4 * 2**30)
    assert devices.check_memory(cpu, (512, 384), 1, 512) is None
    warning = devices.check_memory(cpu, (1024, 768), 1, 1024)  # 3 GiB of 4
    assert warning is not None and "GiB" in warning
    with pytest.raises(ResourceError, match="2048x1536") as refused:
        devices.check_memory(cpu, (2048, 1536), 1, 2048)
    suggested = int(refused.value.hint.split("--size ")[1].split()[0])  # type: ignore[union-attr]
    assert 512 <= suggested < 2048
    assert devices.memory_needed(suggested * (suggested * 3 // 4), 1) <= 4 * 2**30  # the suggestion fits
    devices.check_memory(cpu, (suggested, suggested * 3 // 4), 1, suggested)  # and is not refused
    with pytest.raises(ResourceError) as batch_too_big:
        devices.check_memory(cpu, (512, 384), 8, 512)
    assert "--batch-size" in (batch_too_big.value.hint or "")
