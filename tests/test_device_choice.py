"""`--device auto`'s choice and its reason: one explanation for `--version` and for a run's CPU fallback."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from conftest import Run

from stylize.cli.command import main
from stylize.network import device_choice
from stylize.network.device_choice import auto_device

TOO_OLD = ("CUDA initialization: The NVIDIA driver on your system is too old (found version 11040). Please update "
           "your GPU driver by downloading and installing a new version from the URL: http://www.nvidia.com/Download/"
           "index.aspx (Triggered internally at /pytorch/c10/cuda/CUDAFunctions.cpp:119.)")  # fmt: skip


def _fake_gpu(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cuda_build: str | None, warning: str | None) -> None:
    """A machine whose NVIDIA driver is loaded but whose torch cannot start CUDA (as torch itself warns)."""
    driver = tmp_path / "version"
    driver.write_text("NVRM version: NVIDIA UNIX x86_64 Kernel Module  470.57.02  Tue Jul 13 16:14:05 UTC 2021\n")
    monkeypatch.setattr(device_choice, "NVIDIA_DRIVER_FILE", driver)
    monkeypatch.setattr(torch.version, "cuda", cuda_build)

    def unavailable() -> bool:
        if warning:
            warnings.warn(warning, UserWarning, stacklevel=1)
        return False

    monkeypatch.setattr(torch.cuda, "is_available", unavailable)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


def test_no_gpu_is_the_cpu_without_complaint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(device_choice, "NVIDIA_DRIVER_FILE", tmp_path / "absent")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    choice = auto_device()
    assert (choice.device, choice.gpu_unused) == ("cpu", False)
    assert choice.reason == "no CUDA or MPS GPU found"


def test_a_driver_too_old_for_this_torch_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _fake_gpu(monkeypatch, tmp_path, "13.0", TOO_OLD)
    choice = auto_device()  # torch's warning is taken in as the reason, not printed (warnings are errors here)
    assert (choice.device, choice.gpu_unused) == ("cpu", True)
    assert "driver 470.57.02" in choice.reason and "CUDA 13.0" in choice.reason
    assert "driver on your system is too old (found version 11040)" in choice.reason
    assert "matches the driver" in choice.reason and "\n" not in choice.reason


def test_a_cpu_only_torch_beside_a_gpu_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _fake_gpu(monkeypatch, tmp_path, None, None)
    choice = auto_device()
    assert choice.gpu_unused and "CPU-only build" in choice.reason and "install a CUDA build" in choice.reason


def test_version_prints_the_package_torch_and_the_device(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _fake_gpu(monkeypatch, tmp_path, "13.0", TOO_OLD)
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("stylize ") and "(neural-stylize)" in lines[0]
    assert f"torch {torch.__version__}" in lines[1]
    assert lines[2] == f"--device auto: cpu ({auto_device().reason})"


def test_a_run_that_falls_back_to_the_cpu_says_why(run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _fake_gpu(monkeypatch, tmp_path, "13.0", TOO_OLD)
    result = run("--device", "auto")
    assert result.exit_code == 0, result.output
    assert f"stylize: note: running on the CPU: {auto_device().reason}" in result.output
    assert "running on the CPU" not in run("--device", "cpu").output  # asked for: no note


def test_an_install_hint_names_the_clone_it_was_installed_from(monkeypatch: pytest.MonkeyPatch) -> None:
    """From a clone (`pip install -e .`) the hint installs the extra from that folder; elsewhere by name."""
    from importlib import metadata

    from stylize import version

    class Installed:
        def __init__(self, direct_url: str | None) -> None:
            self.direct_url = direct_url

        def read_text(self, name: str) -> str | None:
            return self.direct_url if name == "direct_url.json" else None

    clone = '{"url": "file:///home/me/src/stylize%20x", "dir_info": {"editable": true}}'
    monkeypatch.setattr(metadata, "distribution", lambda name: Installed(clone))
    assert version.install_hint("video") == "pip install -e '/home/me/src/stylize x[video]'"
    monkeypatch.setattr(metadata, "distribution", lambda name: Installed(None))  # from an index or a wheel
    assert version.install_hint("video") == "pip install 'neural-stylize[video]'"


def test_a_run_says_which_device_and_precision_it_computes_with(run: Run) -> None:
    for precision, name in (("fp32", "float32"), ("bf16", "bfloat16")):
        result = run("--precision", precision, "--threads", "1")
        assert result.exit_code == 0, result.output
        assert f"stylize: computing on the CPU (1 thread), network in {name}" in result.output
    assert "computing on" not in run("--quiet").output
