"""--video against independent per-frame stylisation with the real network: less flicker, the same quality.

A small version of benchmarks/video.py (which has the README's 24-frame figures): 8 frames of a
128x96 window panning over a shared photo, so the true motion is known.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import read_rgb
from video_clips import flicker, panning_clip, save_frames

pytest.importorskip("av")
pytest.importorskip("cv2")

JUDGE = Path(__file__).resolve().parents[2] / "shared" / "tools" / "judge.py"


def judged(outputs: list[Path], inputs: list[Path], style: Path) -> tuple[float, float]:
    scores = []
    for output, frame in zip(outputs, inputs, strict=True):
        done = subprocess.run([sys.executable, str(JUDGE), str(output), str(frame), str(style)],
                              capture_output=True, text=True, check=True)  # fmt: skip
        scores.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return float(np.mean([s["content_rel"] for s in scores])), float(np.mean([s["style_rel"] for s in scores]))


@pytest.mark.slow
def test_video_flickers_a_third_as_much_as_independent_frames_judged_as_close(
    shared_images: Path, tmp_path: Path
) -> None:
    if not JUDGE.is_file():
        pytest.skip("../shared/tools/judge.py is not present")
    from PIL import Image

    with Image.open(shared_images / "tubingen.jpg") as photo:
        frames = save_frames(panning_clip(photo.convert("RGB"), 8, size=(128, 96)), tmp_path / "frames")
    style = shared_images / "starry_night.jpg"
    common = ["--size", "128", "--progress", "none"]
    for args in ([str(frames), "-s", str(style), "-o", str(tmp_path / "independent")],
                 [str(frames), str(style), "-o", str(tmp_path / "video"), "--video"]):  # fmt: skip
        subprocess.run([sys.executable, "-m", "stylize", *args, *common], check=True, timeout=900)
    inputs = sorted(frames.iterdir())
    independent = sorted((tmp_path / "independent").glob("*.png"))
    video = sorted((tmp_path / "video").glob("*.png"))
    assert len(independent) == len(video) == 8
    flickers = [flicker([np.asarray(read_rgb(p), np.float32) for p in made]) for made in (independent, video)]
    assert flickers[1] <= flickers[0] / 3, flickers
    alone, chained = (judged(made, inputs, style) for made in (independent, video))
    (content_alone, style_alone), (content_video, style_video) = alone, chained
    assert content_video <= 1.1 * content_alone and style_video <= 1.1 * style_alone, (
        content_alone, style_alone, content_video, style_video)
