"""--video against independent per-frame stylisation: flicker, judged quality, and time per frame.

    python benchmarks/video.py [--clip pan|zoom] [--frames 24] [--size 256] [--out build/bench-video]

Clips, made here from ../shared/images (the samples where it is absent):
  pan   a 256x192 window moving 4 px right and 2 px down per frame over tubingen.jpg, so the true
        motion is known; flicker is measured along it.
  zoom  a slow zoom (1% a frame) and drift over golden_gate.jpg, the long side --size; flicker is
        measured along the optical flow found between the input frames (OpenCV DIS), on the pixels
        it trusts.
Both runs are whole `stylize` processes on the same frames, style (starry_night.jpg) and settings:
`stylize FRAMES/ -s STYLE -o independent/` (a folder run: each frame on its own) and
`stylize FRAMES/ STYLE -o video/ --video --video-out video.mp4`. Reported:
- flicker: mean absolute difference (0..1) between each stylised frame and the previous stylised
  frame carried along the motion, over the pixels seen in both; the ratio video / independent.
- content_rel and style_rel of every frame by ../shared/tools/judge.py against its own input frame
  (mean over frames); the ratio video / independent.
- seconds per frame from each run's --log (the optimisation's time, network loading excluded): the
  video's first frame, and the median [min, max] of its later frames over the first.
`--extra "--temporal-weight 30"` passes flags to the video run (to choose defaults).
`--independent-frames N` makes only the first N frames independently (it costs a full run a frame);
flicker and judged scores then compare both runs over those N frames.
`--figure PREFIX` makes no pictures: it puts the input, independent and video frames of an earlier
run side by side, PREFIX.jpg (four frames) and PREFIX.webp (animated, the compared frames in a loop).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shlex
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
from common import ROOT, SAMPLES, SHARED
from PIL import Image

sys.path.insert(0, str(ROOT / "tests"))
from video_clips import SHIFT, panning_clip

from stylize.video.flow import frame_flow, warp


def source(name: str, fallback: str) -> Path:
    shared = SHARED / "images" / name
    return shared if shared.is_file() else SAMPLES / fallback


def zoom_clip(picture: Image.Image, count: int, long_side: int) -> list[Image.Image]:
    """A window that shrinks 1% a frame and drifts right, each frame scaled to `long_side`."""
    width, height = picture.size
    frames = []
    for t in range(count):
        scale = 0.75 * 0.99**t
        w, h = width * scale, height * scale
        left, top = (width - w) * (0.3 + 0.4 * t / max(1, count - 1)), (height - h) * 0.5
        box = (left, top, left + w, top + h)
        size = (long_side, round(long_side * h / w)) if w >= h else (round(long_side * w / h), long_side)
        frames.append(picture.resize(size, Image.Resampling.LANCZOS, box=box))
    return frames


def flicker(pictures: list[np.ndarray], inputs: list[np.ndarray], true_shift: bool) -> float:
    diffs = []
    for t in range(1, len(pictures)):
        before, now = pictures[t - 1].astype(np.float32) / 255, pictures[t].astype(np.float32) / 255
        if true_shift:
            dx, dy = SHIFT
            diffs.append(float(np.abs(now[:-dy, :-dx] - before[dy:, dx:]).mean()))
            continue
        pair = frame_flow(inputs[t - 1], inputs[t])
        trusted = pair.confidence() > 0
        carried = warp(before, pair.backward)
        diffs.append(float(np.abs(now - carried).mean(axis=2)[trusted].mean()))
    return float(np.mean(diffs))


def stylize(frames: Path, style: Path, out: Path, size: int, video: bool, extra: list[str]) -> list[dict[str, Any]]:
    log = out.with_suffix(".jsonl")
    log.unlink(missing_ok=True)
    command = [sys.executable, "-m", "stylize", str(frames), "-s", str(style), "-o", f"{out}/", "--size", str(size),
               "--log", str(log), "--progress", "lines"]  # fmt: skip
    if video:
        command = [sys.executable, "-m", "stylize", str(frames), str(style), "-o", f"{out}/", "--size", str(size),
                   "--log", str(log), "--progress", "lines", "--video", "--video-out", f"{out}.mp4", *extra]
    subprocess.run(command, check=True)
    return [json.loads(line) for line in log.read_text().splitlines()]


def judged(outputs: list[Path], inputs: list[Path], style: Path) -> tuple[float, float] | None:
    judge_py = SHARED / "tools" / "judge.py"
    if not judge_py.is_file():
        return None
    spec = importlib.util.spec_from_file_location("judge", judge_py)
    assert spec is not None and spec.loader is not None
    judge = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(judge_py.parent))
    spec.loader.exec_module(judge)
    import torch

    torch.set_grad_enabled(False)
    net = judge.vgg19_caffe()
    scores = [judge.judge(net, str(o), str(i), str(style), None) for o, i in zip(outputs, inputs, strict=True)]
    return statistics.mean(s["content_rel"] for s in scores), statistics.mean(s["style_rel"] for s in scores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", choices=("pan", "zoom"), default="pan")
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench-video")
    parser.add_argument("--extra", default="", help="flags for the video run, e.g. \"--temporal-weight 30\"")
    parser.add_argument("--skip-independent", action="store_true", help="reuse the independent frames in --out")
    parser.add_argument("--independent-frames", type=int, default=0, help="only the first N (0: all)")
    parser.add_argument("--figure", type=Path, default=None, help="PREFIX of the side-by-side pictures")
    args = parser.parse_args()
    out = args.out / args.clip
    if args.figure is not None:
        figure(out, args.figure)
        return
    frames_dir = out / "frames"
    frames_dir.mkdir(parents=True, exist_ok=True)
    if args.clip == "pan":
        with Image.open(source("tubingen.jpg", "chelsea.jpg")) as photo:
            frames = panning_clip(photo.convert("RGB"), args.frames)
    else:
        with Image.open(source("golden_gate.jpg", "chelsea.jpg")) as photo:
            frames = zoom_clip(photo.convert("RGB"), args.frames, args.size)
    for index, frame in enumerate(frames):
        frame.save(frames_dir / f"{index + 1:04d}.png")
    style = source("starry_night.jpg", "swirls.jpg")
    compared = args.independent_frames or args.frames
    first_frames = out / "first-frames"
    first_frames.mkdir(exist_ok=True)
    for index, frame in enumerate(frames[:compared]):
        frame.save(first_frames / f"{index + 1:04d}.png")
    inputs = sorted(frames_dir.glob("*.png"))[:compared]
    frames = frames[:compared]
    rows = {}
    for name, video in (("independent", False), ("video", True)):
        if name == "independent" and args.skip_independent:
            log: list[dict[str, Any]] = []
        else:
            source_dir = frames_dir if video else first_frames
            log = stylize(source_dir, style, out / name, args.size, video, shlex.split(args.extra))
        outputs = sorted(p for p in (out / name).glob("*.png") if not p.name.startswith("."))[:compared]
        pictures = [np.asarray(Image.open(p).convert("RGB")) for p in outputs]
        small = [np.asarray(f.resize(Image.open(outputs[0]).size, Image.Resampling.LANCZOS)) for f in frames]
        rows[name] = {"flicker": flicker(pictures, small, args.clip == "pan"), "judged": judged(outputs, inputs, style),
                      "seconds": [entry["seconds"] for entry in log if entry["status"] == "done"]}  # fmt: skip
    report(rows, args)


def figure(out: Path, prefix: Path) -> None:
    """Input | independent | --video, for the frames both runs made: a still of four and an animation."""
    independent = sorted(p for p in (out / "independent").glob("*.png") if not p.name.startswith("."))
    video = sorted(p for p in (out / "video").glob("*.png") if not p.name.startswith("."))[: len(independent)]
    inputs = sorted((out / "first-frames").glob("*.png"))[: len(independent)]
    rows = []
    for frame, alone, chained in zip(inputs, independent, video, strict=True):
        pictures = [Image.open(p).convert("RGB") for p in (alone, chained)]
        size = pictures[0].size
        pictures.insert(0, Image.open(frame).convert("RGB").resize(size, Image.Resampling.LANCZOS))
        row = Image.new("RGB", (size[0] * 3 + 8, size[1]), "white")
        for k, picture in enumerate(pictures):
            row.paste(picture, (k * (size[0] + 4), 0))
        rows.append(row)
    picks = [rows[round(i * (len(rows) - 1) / 3)] for i in range(4)]
    still = Image.new("RGB", (picks[0].width, (picks[0].height + 4) * 4 - 4), "white")
    for k, row in enumerate(picks):
        still.paste(row, (0, k * (row.height + 4)))
    still.save(prefix.with_suffix(".jpg"), quality=88)
    rows[0].save(prefix.with_suffix(".webp"), save_all=True, append_images=rows[1:], duration=150, loop=0,
                 quality=55, method=6)  # fmt: skip


def report(rows: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    print(json.dumps(rows))
    ind, vid = rows["independent"], rows["video"]
    print(f"\n{args.clip} clip, {args.frames} frames, --size {args.size}, video flags: {args.extra or '(defaults)'}")
    print("| run | flicker | content_rel | style_rel |\n|---|---|---|---|")
    for name, row in rows.items():
        content, style = row["judged"] or (float("nan"), float("nan"))
        print(f"| {name} | {row['flicker']:.4f} | {content:.4f} | {style:.4f} |")
    if ind["judged"] and vid["judged"]:
        print(f"| video / independent | {vid['flicker'] / ind['flicker']:.3f} | "
              f"{vid['judged'][0] / ind['judged'][0]:.3f} | {vid['judged'][1] / ind['judged'][1]:.3f} |")  # fmt: skip
    seconds = vid["seconds"]
    if len(seconds) > 1:
        later = [s / seconds[0] for s in seconds[1:]]
        print(f"\nvideo: first frame {seconds[0]:.1f} s; later frames {statistics.median(seconds[1:]):.1f} s, "
              f"{statistics.median(later):.3f} [{min(later):.3f}, {max(later):.3f}] of the first")  # fmt: skip
    if ind["seconds"]:
        print(f"independent: {statistics.median(ind['seconds']):.1f} s a frame (median; frames in batches of "
              "the CPU's size share their time)")


if __name__ == "__main__":
    main()
