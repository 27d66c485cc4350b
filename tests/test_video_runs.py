"""A video run in a real process: killed in the middle, then rerun, the chain continues at the right frame."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import TINY_LAYERS, read_stderr_until
from video_clips import panning_clip, save_frames, texture

pytest.importorskip("av")
pytest.importorskip("cv2")


@pytest.mark.slow
def test_killed_in_the_middle_a_rerun_continues_at_the_first_missing_frame(
    weights_file: Callable[[str, str], Path], images: dict[str, Path], tmp_path: Path
) -> None:
    frames = save_frames(panning_clip(texture(300, 200), 6, size=(64, 48)), tmp_path / "frames")

    def command(out: str) -> list[str]:
        return [sys.executable, "-m", "stylize", str(frames), str(images["style"]), "-o", str(tmp_path / out),
                "--video", "--weights", str(weights_file("vgg19", "relu2_1")), *TINY_LAYERS, "--size", "48",
                "--iterations", "40", "--video-iterations", "40", "--device", "cpu", "--progress", "lines",
                "--log", str(tmp_path / f"{out.strip('/')}.jsonl")]  # fmt: skip

    whole = subprocess.run(command("whole/"), capture_output=True, timeout=300)
    assert whole.returncode == 0, whole.stderr.decode()
    process = subprocess.Popen(command("out/"), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        read_stderr_until(process, rb"wrote \S*000003\.png", seconds=240)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 143
    finally:
        process.kill()
        process.wait()
        assert process.stderr is not None
        process.stderr.close()
    written = sorted(p.name for p in (tmp_path / "out").glob("0*.png") if ".unfinished" not in p.name)
    assert written[:3] == ["000001.png", "000002.png", "000003.png"] and len(written) < 6
    kept = {name: (tmp_path / "out" / name).read_bytes() for name in written}
    again = subprocess.run(command("out/"), capture_output=True, timeout=300)
    assert again.returncode == 0, again.stderr.decode()
    log = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    statuses = [entry["status"] for entry in log[-6:]]  # the rerun's lines
    assert statuses == ["skipped"] * len(written) + ["done"] * (6 - len(written))
    for name, data in kept.items():
        assert (tmp_path / "out" / name).read_bytes() == data  # not made again
    for index in range(1, 7):  # and the chain went on as if never killed
        name = f"{index:06d}.png"
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name
    assert not list((tmp_path / "out").glob("*.unfinished.*"))
