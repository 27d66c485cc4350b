"""A folder in one call against a shell loop of single calls, measured in the same run.

    python benchmarks/batch.py [--images 8] [--size 256] [--iterations auto] [--device auto] [--no-judge]

Makes IMAGES content photos of SIZE px (256x192 crops of the photos in ../shared/images, or of
samples/ where that is absent) and one style, then times
  (a) a shell loop: `for f in photos/*; do stylize "$f" style -o loop/...; done`
  (b) one call:     `stylize photos/ style -o folder/`
with the same settings, and reports the peak memory of the largest single process. It then
compares the two sets of pictures: their mean 8-bit difference, and (where ../shared holds the
judge) their mean judged content and style distances. Expect the pixels to differ: a photo made
beside another runs each layer on its share of the cores, alone on all of them, so the sums
round differently, and 100 L-BFGS iterations grow that rounding into other stroke placements
(one photo on 1 thread vs 2, fp32, does the same); the judged quality should not move. The last
line is machine-readable:

    batch images=... size=... device=... loop_s=... folder_s=... ratio=... content_delta_pct=... style_delta_pct=...
"""

from __future__ import annotations

import argparse
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import SAMPLES, SHARED, judge
from PIL import Image

STYLE_NAMES = ("starry_night.jpg", "swirls.jpg")


def make_photos(folder: Path, count: int, size: int) -> Path:
    """`count` distinct landscape crops, all size x 3/4 size, and the style image's path."""
    images = SHARED / "images"
    source = images if images.is_dir() else SAMPLES
    photos = sorted(p for p in source.glob("*.jpg") if p.name not in STYLE_NAMES and "before" not in p.name)
    style = next(source / n for n in STYLE_NAMES if (source / n).is_file())
    width, height = size, size * 3 // 4
    for i in range(count):
        with Image.open(photos[i % len(photos)]) as opened:
            image = opened.convert("RGB")
        shift = i // len(photos)  # a different crop when photos repeat
        crop_w = image.width * (4 - shift % 3) // 4
        crop = image.crop((image.width - crop_w, 0, image.width, min(image.height, crop_w * 3 // 4)))
        crop.resize((width, height), Image.Resampling.LANCZOS).save(folder / f"photo{i:02d}.png")
    return style


def timed(command: str) -> float:
    started = time.monotonic()
    subprocess.run(["bash", "-c", command], check=True)
    return time.monotonic() - started


def mean_difference(a: Path, b: Path) -> float:
    """Mean absolute 8-bit difference between same-named images of two folders."""
    total = []
    for image in sorted(a.iterdir()):
        with Image.open(image) as x, Image.open(b / image.name) as y:
            diff = np.abs(np.asarray(x.convert("RGB"), np.int16) - np.asarray(y.convert("RGB"), np.int16))
        total.append(float(diff.mean()))
    return sum(total) / len(total)


def judged(results: Path, photos: Path, style: Path) -> tuple[float, float] | None:
    """Mean content_rel and style_rel of a folder of results, or None without the judge."""
    scores = []
    for result in sorted(results.iterdir()):
        photo = photos / f"{result.stem.rsplit('_' + style.stem, 1)[0]}.png"
        score = judge(result, photo, style)
        if score is None:
            return None
        scores.append((score["content_rel"], score["style_rel"]))
    return sum(c for c, _ in scores) / len(scores), sum(s for _, s in scores) / len(scores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--iterations", default="auto", help="a count, or auto (the default)")
    parser.add_argument("--no-judge", action="store_true", help="skip judging the pictures (it runs on the CPU)")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stylize-batch-"))
    photos, loop, folder = work / "photos", work / "loop", work / "folder"
    for path in (photos, loop, folder):
        path.mkdir()
    style = make_photos(photos, args.images, args.size)
    stylize = f"{shlex.quote(sys.executable)} -m stylize"
    flags = f"--size {args.size} --iterations {args.iterations} --device {args.device} --quiet"
    loop_command = (f'for f in {photos}/*.png; do {stylize} "$f" {shlex.quote(str(style))} '
                    f'-o "{loop}/$(basename "$f" .png)_{style.stem}.png" {flags}; done')  # fmt: skip
    folder_command = f"{stylize} {photos} {shlex.quote(str(style))} -o {folder}/ {flags}"
    print(f"{args.images} photos of {args.size} px, style {style.name}, {args.iterations} iterations; in {work}")
    loop_s = timed(loop_command)
    print(f"(a) shell loop of single calls: {loop_s:.1f} s ({loop_s / args.images:.1f} s per image)", flush=True)
    folder_s = timed(folder_command)
    print(f"(b) one call on the folder:     {folder_s:.1f} s ({folder_s / args.images:.1f} s per image)", flush=True)
    peak_gib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # KiB on Linux
    print(f"peak RSS of the largest process: {peak_gib:.2f} GiB; mean pixel difference (a) vs (b): "
          f"{mean_difference(loop, folder):.2f} of 255")  # fmt: skip
    deltas = "content_delta_pct=nan style_delta_pct=nan"
    scores = (None, None) if args.no_judge else (judged(loop, photos, style), judged(folder, photos, style))
    if scores[0] is not None and scores[1] is not None:
        (c_loop, s_loop), (c_folder, s_folder) = scores
        print(f"judged, mean of {args.images}: (a) content_rel {c_loop:.4f} style_rel {s_loop:.4f}; "
              f"(b) content_rel {c_folder:.4f} style_rel {s_folder:.4f}")  # fmt: skip
        content_delta, style_delta = 100 * (c_folder / c_loop - 1), 100 * (s_folder / s_loop - 1)
        deltas = f"content_delta_pct={content_delta:+.1f} style_delta_pct={style_delta:+.1f}"
    device = _device(args.device)
    print(f"batch images={args.images} size={args.size} device={device} loop_s={loop_s:.1f} folder_s={folder_s:.1f} "
          f"ratio={folder_s / loop_s:.3f} {deltas}")  # fmt: skip


def _device(spec: str) -> str:
    from stylize.network.devices import resolve_device

    return resolve_device(spec).type


if __name__ == "__main__":
    main()
