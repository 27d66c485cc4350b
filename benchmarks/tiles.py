"""Big pictures, measured: whole `stylize` processes (peak RSS, wall time), seams, tiled against whole.

    python benchmarks/tiles.py big [--size 4096] [--iterations 30] [--max-memory 8G] [--tile 0] [--scales 0]
                                   [--limit S]
    python benchmarks/tiles.py seams IMAGE --tile 512
    python benchmarks/tiles.py quality [--size 1024] [--tile 256] [--iterations 30] [--sheet FILE]
    python benchmarks/tiles.py evaluation [--sizes 256,512,1024] [--precision auto]
    python benchmarks/tiles.py timing [--size 4096] [--tile 784]

- big: `stylize tubingen.jpg starry_night.jpg -o OUT --size N --iterations K` as a child process;
  its peak RSS (the kernel's ru_maxrss of the child, exact), wall time and what it printed (the
  tiles note, each finished size). `--limit S` sends SIGTERM after S seconds: the run keeps its
  unfinished image, and the same command continues it.
- seams: the result's mean absolute difference between neighbouring pixels across the lines
  where tile borders fell (the final size's grid for --tile, as stylize lays it out) over the same
  on every other line; a control grid shifted by half a tile, and `--against` the same picture
  made whole, say what the ratio is by chance.
- quality: the same picture whole and in tiles (--tile), both judged at the output's size by
  ../shared/tools/judge.py; `--sheet` writes them side by side.
- evaluation: peak RSS of one forward and backward pass at each size in a fresh process (what
  network/memory.py's EVALUATED and BASE come from).
- timing: seconds per evaluation at 512 px whole and at --size in --tile px tiles (what a big
  run's time per iteration is made of), with the time the tiled targets take.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch
from common import SHARED, judge
from PIL import Image

from stylize.network.memory import ALIGN, MARGIN
from stylize.optimize.tiles.tile_grid import tile_grid

IMAGES = SHARED / "images"
STYLIZE = [sys.executable, "-m", "stylize"]


def run_stylize(args: list[str], limit: float | None = None) -> tuple[int, float, int, str]:
    """(exit code, wall seconds, peak RSS bytes, stderr) of one `stylize` process; SIGTERM after `limit` s."""
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen([*STYLIZE, *args], stderr=err, stdout=subprocess.DEVNULL, text=True)
        timer = threading.Timer(limit or 0, child.send_signal, [signal.SIGTERM])
        if limit is not None:
            timer.start()
        _, status, usage = os.wait4(child.pid, 0)  # the child's own peak, from the kernel
        timer.cancel()
        child.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return child.returncode, time.monotonic() - started, usage.ru_maxrss * 1024, err.read()


def big(args: argparse.Namespace) -> None:
    flags = ["--size", str(args.size), "--iterations", str(args.iterations), "--progress", "lines"]
    flags += ["--max-memory", args.max_memory] if args.max_memory else []
    flags += ["--tile", str(args.tile)] if args.tile else []
    flags += ["--scales", str(args.scales)] if args.scales else []
    flags += ["--device", args.device] if args.device else []
    command = [str(IMAGES / "tubingen.jpg"), str(IMAGES / "starry_night.jpg"), "-o", str(args.out), *flags]
    print("stylize", " ".join(command), flush=True)
    code, wall, peak, err = run_stylize(command, args.limit)
    print(err.strip())
    print(f"big exit={code} wall_s={wall:.0f} peak_rss_gib={peak / 2**30:.2f}")


def seam_ratio(image: np.ndarray, rows: list[int], cols: list[int]) -> tuple[float, float, float]:
    """(rows, columns, all) ratio: mean |difference| across the given borders over across every other line."""
    pixels = image.astype(np.float64)
    across_rows = np.abs(np.diff(pixels, axis=0)).mean(axis=(1, 2))  # [y]: between rows y and y + 1
    across_cols = np.abs(np.diff(pixels, axis=1)).mean(axis=(0, 2))
    row_mask = np.zeros(len(across_rows), bool)
    row_mask[[r - 1 for r in rows]] = True
    col_mask = np.zeros(len(across_cols), bool)
    col_mask[[c - 1 for c in cols]] = True
    on = np.concatenate([across_rows[row_mask], across_cols[col_mask]])
    off = np.concatenate([across_rows[~row_mask], across_cols[~col_mask]])
    by_rows = across_rows[row_mask].mean() / across_rows[~row_mask].mean() if rows else float("nan")
    by_cols = across_cols[col_mask].mean() / across_cols[~col_mask].mean() if cols else float("nan")
    return float(by_rows), float(by_cols), float(on.mean() / off.mean())


def seams(args: argparse.Namespace) -> None:
    for path in (args.image, *([args.against] if args.against else [])):
        with Image.open(path) as opened:
            print(f"{path}:")
            _seams(np.asarray(opened.convert("RGB")), args.tile)


def _seams(image: np.ndarray, tile: int) -> None:
    height, width = image.shape[:2]
    tiles = tile_grid(height, width, tile // ALIGN * ALIGN, MARGIN, ALIGN)
    rows = sorted({t.core[0] for t in tiles} - {0})
    cols = sorted({t.core[2] for t in tiles} - {0})
    r, c, both = seam_ratio(image, rows, cols)
    half = tile // 2
    _, _, control = seam_ratio(image, [y + half for y in rows if y + half < height],
                               [x + half for x in cols if x + half < width])  # fmt: skip
    print(f"grid {len(cols) + 1}x{len(rows) + 1} tiles of {tile} px on {width}x{height}; borders at rows "
          f"{rows} and columns {cols}")  # fmt: skip
    print(f"seams rows={r:.3f} columns={c:.3f} all={both:.3f} control_shifted_half_a_tile={control:.3f}")


def quality(args: argparse.Namespace) -> None:
    content, style = IMAGES / "tubingen.jpg", IMAGES / "starry_night.jpg"
    made = {}
    for name, tile in (("whole", 0), ("tiled", args.tile)):
        out = args.out / f"quality_{name}_{args.size}.png"
        flags = ["--size", str(args.size), "--iterations", str(args.iterations), "--tile", str(tile)]
        code, wall, peak, _ = run_stylize([str(content), str(style), "-o", str(out), *flags, "--progress", "lines"])
        scores = judge(out, content, style) or {}
        made[name] = scores
        print(f"{name}: exit={code} wall_s={wall:.0f} peak_rss_gib={peak / 2**30:.2f} "
              f"content_rel={scores.get('content_rel')} style_rel={scores.get('style_rel')}", flush=True)  # fmt: skip
    for key in ("content_rel", "style_rel"):
        if key in made["whole"] and key in made["tiled"]:
            print(f"quality {key} tiled/whole={made['tiled'][key] / made['whole'][key]:.3f}")
    if args.sheet:
        images = [Image.open(args.out / f"quality_{name}_{args.size}.png").convert("RGB") for name in made]
        sheet = Image.new("RGB", (sum(i.width for i in images), max(i.height for i in images)), "white")
        for k, image in enumerate(images):
            sheet.paste(image, (k * images[0].width, 0))
        sheet.save(args.sheet, quality=88)


EVALUATION = """
import resource, sys, torch
from stylize.config import Config
from stylize.network.loader import load_network
from stylize.network.precision import resolve_precision
from stylize.optimize.evaluation import evaluate_together, read
from stylize.optimize.objective import LossWeights, Objective
from stylize.optimize.targets import Targets, content_features, style_targets
side, precision = int(sys.argv[1]), sys.argv[2]
config = Config(precision=precision)
net = load_network(config)
dtype = resolve_precision(config.precision, net.device)
photo = torch.rand(1, 3, side * 3 // 4, side)
targets = Targets(content_features(net.extractor, net.choice, photo, dtype),
                  style_targets(net.extractor, net.choice, [torch.rand(1, 3, 256, 256)], None, dtype))
before = int(open('/proc/self/statm').read().split()[1]) * 4096
read(evaluate_together(Objective(net.extractor, net.choice, targets, LossWeights(1, 5, 0, 10), dtype), photo, [0]))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(side, photo.shape[-1] * photo.shape[-2], dtype, before, peak)
"""


def evaluation(args: argparse.Namespace) -> None:
    for side in (int(s) for s in args.sizes.split(",")):
        done = subprocess.run([sys.executable, "-c", EVALUATION, str(side), args.precision], capture_output=True,
                              text=True, check=True)  # fmt: skip
        _, pixels, dtype, before, peak = done.stdout.split()
        print(f"{side} px ({pixels} px, {dtype}): before {int(before) / 2**30:.2f} GiB, peak {int(peak) / 2**30:.2f} "
              f"GiB, {(int(peak) - int(before)) / int(pixels):.0f} B per pixel evaluated")  # fmt: skip


def timing(args: argparse.Namespace) -> None:
    """Seconds per evaluation: tubingen + starry_night at 512 px whole, then at --size in --tile px tiles."""
    from stylize.config import Config
    from stylize.io.tensors import resize_exact, to_tensor
    from stylize.network.layers import layer_stride
    from stylize.network.loader import load_network
    from stylize.network.precision import resolve_precision
    from stylize.optimize.evaluation import evaluate_together
    from stylize.optimize.objective import LossWeights, Objective
    from stylize.optimize.targets import Targets, content_features, style_targets
    from stylize.optimize.tiles.tile_grid import Tiling
    from stylize.optimize.tiles.tiling import TiledEvaluation

    config = Config()
    net = load_network(config)
    dtype, weights = resolve_precision(config.precision, net.device), LossWeights(1, 5, 0, 10)
    with Image.open(IMAGES / "tubingen.jpg") as c, Image.open(IMAGES / "starry_night.jpg") as s:
        content, style = c.convert("RGB"), s.convert("RGB")

    def at(image: Image.Image, long_side: int) -> torch.Tensor:
        scale = long_side / max(image.size)
        return to_tensor(resize_exact(image, round(image.height * scale), round(image.width * scale)))

    photo, painting = at(content, 512), at(style, 512)
    targets = Targets(content_features(net.extractor, net.choice, photo, dtype),
                      style_targets(net.extractor, net.choice, [painting], None, dtype))  # fmt: skip
    whole = Objective(net.extractor, net.choice, targets, weights, dtype)
    evaluate_together(whole, photo, [0])  # warm up
    started = time.perf_counter()
    evaluate_together(whole, photo, [0])
    small = time.perf_counter() - started
    print(f"{photo.shape[-1]}x{photo.shape[-2]} whole: {small:.2f} s per evaluation", flush=True)
    tiling = Tiling(args.tile, MARGIN, {name: layer_stride(config.model, name) for name in net.extractor.layers})
    photo, painting = at(content, args.size), at(style, args.size)
    started = time.perf_counter()
    styles = style_targets(net.extractor, net.choice, [painting], None, dtype, tiling=tiling)
    tiled = Objective(net.extractor, net.choice, Targets({}, styles), weights, dtype)
    evaluation = TiledEvaluation(tiled, [photo], tiling)
    print(f"targets in {len(evaluation.tiles)} tiles: {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    evaluation(tiled, photo, [0])
    big = time.perf_counter() - started
    print(f"{photo.shape[-1]}x{photo.shape[-2]} in {len(evaluation.tiles)} tiles of {args.tile} px: {big:.0f} s per "
          f"evaluation, {big / small:.0f}x the small one")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parts = parser.add_subparsers(dest="part", required=True)
    p = parts.add_parser("big")
    p.add_argument("--size", type=int, default=4096)
    p.add_argument("--iterations", default="30")
    p.add_argument("--max-memory", default=None)
    p.add_argument("--tile", type=int, default=0)
    p.add_argument("--scales", type=int, default=0, help="--scales for stylize (1: only the final size)")
    p.add_argument("--device", default=None)
    p.add_argument("--limit", type=float, default=None, help="SIGTERM after this many seconds")
    p.add_argument("--out", type=Path, default=Path("big.png"))
    p = parts.add_parser("seams")
    p.add_argument("image", type=Path)
    p.add_argument("--tile", type=int, required=True)
    p.add_argument("--against", type=Path, default=None, help="the same picture made whole (its ratio, same lines)")
    p = parts.add_parser("quality")
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--tile", type=int, default=256)
    p.add_argument("--iterations", default="30")
    p.add_argument("--out", type=Path, default=Path("."))
    p.add_argument("--sheet", type=Path, default=None)
    p = parts.add_parser("timing")
    p.add_argument("--size", type=int, default=4096)
    p.add_argument("--tile", type=int, default=784)
    p = parts.add_parser("evaluation")
    p.add_argument("--sizes", default="256,512,1024")
    p.add_argument("--precision", default="auto")
    args = parser.parse_args()
    {"big": big, "seams": seams, "quality": quality, "evaluation": evaluation, "timing": timing}[args.part](args)


if __name__ == "__main__":
    main()
