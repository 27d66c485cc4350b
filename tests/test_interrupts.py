"""Real runs in a subprocess, interrupted: SIGKILL at random moments, SIGINT (Ctrl-C)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import TINY_LAYERS, pattern_image, read_stderr_until
from PIL import Image

from stylize.io.metadata import read_metadata

pytestmark = pytest.mark.slow  # real processes, killed and interrupted
ENVIRONMENT = {**os.environ, "PYTHONWARNINGS": "ignore"}


def command(weights: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "stylize", *args, "--weights", str(weights), *TINY_LAYERS, "--device", "cpu"]


def test_sigkill_at_random_moments_never_leaves_a_broken_result(
    weights_file: Callable[[str, str], Path], images: dict[str, Path], tmp_path: Path
) -> None:
    photos, out = tmp_path / "photos", tmp_path / "out"
    photos.mkdir()
    for i in range(6):
        pattern_image(64, 48, seed=60 + i).save(photos / f"m{i}.png")
    run = command(weights_file("vgg19", "relu2_1"), str(photos), str(images["style"]), "-o", str(out),
                  "--size", "64", "--iterations", "30", "--batch-size", "2", "--progress", "lines")  # fmt: skip
    moments = random.Random(5).sample([x / 10 for x in range(5, 60)], 5)  # 0.5-6 s after the start
    for moment in moments:
        process = subprocess.Popen(run, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENVIRONMENT)
        time.sleep(moment)
        process.send_signal(signal.SIGKILL)
        process.wait()
        for path in out.iterdir() if out.is_dir() else []:
            if path.name.startswith("."):  # a .part file whose writer died mid-write: the next run removes it
                assert path.name.endswith(".part"), path.name
                continue
            assert path.name.endswith("_style.png"), f"unexpected {path.name} after a kill at {moment} s"
            with Image.open(path) as image:
                image.load()  # complete and decodable
            assert read_metadata(path)["iterations_done"] == 30
    finished = subprocess.run(run, capture_output=True, env=ENVIRONMENT, timeout=300)
    assert finished.returncode == 0, finished.stderr.decode()
    assert sorted(p.name for p in out.iterdir()) == [f"m{i}_style.png" for i in range(6)]


def test_sigint_keeps_the_unfinished_image_and_exits_130(
    weights_file: Callable[[str, str], Path], images: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out.png"
    run = command(weights_file("vgg19", "relu2_1"), str(images["content"]), str(images["style"]), "-o", str(out),
                  "--size", "48", "--iterations", "3000", "--optimizer", "adam", "--progress", "bars")  # fmt: skip
    process = subprocess.Popen(run, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENVIRONMENT)
    assert process.stderr is not None
    with process.stderr:  # Adam: L-BFGS converges on this tiny picture within a second; 3000 steps take 10 s or more
        read_stderr_until(process, b"loss=")  # optimising: the bar shows losses once an iteration is done
        process.send_signal(signal.SIGINT)
        rest = process.stderr.read()
        process.wait(timeout=60)
    assert process.returncode == 130
    kept = tmp_path / "out.unfinished.png"
    assert f"unfinished image saved to {kept}".encode() in rest
    assert not out.exists()
    metadata = read_metadata(kept)
    assert metadata["unfinished"] is True and metadata["iterations_done"] > 0
