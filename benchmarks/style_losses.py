"""--style-loss compared: balance, quality on several pairs (with a grid image), cost at 512 px, sliced schedules.

    python benchmarks/style_losses.py calibrate --size 256   # the style weight at which each loss keeps gram's content
    python benchmarks/style_losses.py quality --size 256 --grid samples/style_losses.jpg
    python benchmarks/style_losses.py cost --size 512        # s/iteration (3 interleaved rounds) and peak RSS
    python benchmarks/style_losses.py resample --size 256    # sliced: one set of directions, or redrawn

Every run uses the defaults but for --style-loss (and --style-weight where said); judged with
../shared/tools/judge.py at the output's size.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch
from common import JUDGE, ROOT, SAMPLES, SHARED, judge
from PIL import Image, ImageDraw

from stylize.config import STYLE_LOSSES, Config
from stylize.io.saving import save_image
from stylize.io.tensors import to_pil
from stylize.losses.style_losses import style_statistic
from stylize.network.loader import Network, load_network
from stylize.run.pictures import transfer

IMAGES = SHARED / "images"
PAIRS = (  # the five pairs of benchmarks/quality.py, then two it does not use
    (IMAGES / "tubingen.jpg", IMAGES / "starry_night.jpg"),
    (IMAGES / "tubingen.jpg", IMAGES / "the_scream.jpg"),
    (IMAGES / "tubingen.jpg", IMAGES / "shipwreck.jpg"),
    (IMAGES / "golden_gate.jpg", IMAGES / "starry_night.jpg"),
    (IMAGES / "golden_gate.jpg", IMAGES / "the_scream.jpg"),
    (IMAGES / "hoovertowernight.jpg", IMAGES / "woman-with-hat-matisse.jpg"),  # a portrait as the style
    (SAMPLES / "chelsea.jpg", SAMPLES / "swirls.jpg"),
)


def _open(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGB")


def make(net: Network, config: Config, pair: tuple[Path, Path], out: Path) -> dict[str, float]:
    """One picture with `config`, saved to `out`, judged; with its wall time."""
    start = time.perf_counter()
    result = transfer(_open(pair[0]), [_open(pair[1])], config, network=net)
    seconds = time.perf_counter() - start
    save_image(result.image, out)
    scores = judge(out, *pair) or {}
    return {"content_rel": scores.get("content_rel", math.nan), "style_rel": scores.get("style_rel", math.nan),
            "seconds": seconds, "iterations": result.iterations}  # fmt: skip


def calibrate(net: Network, config: Config, out: Path) -> None:
    """Per loss, the --style-weight whose judged content_rel is gram's at the default weight (two
    weights, then the log-linear interpolation between them, checked)."""
    pair = PAIRS[0]
    goal = make(net, config, pair, out / "gram.png")["content_rel"]
    print(f"gram at --style-weight {config.style_weight:g}: content_rel {goal:.4f}")
    for loss in STYLE_LOSSES[1:]:
        tried: dict[float, float] = {}
        for weight in (config.style_weight, config.style_weight * 8):
            tried[weight] = make(net, replace(config, style_loss=loss, style_weight=weight), pair,
                                 out / f"{loss}-{weight:g}.png")["content_rel"]  # fmt: skip
        (w1, c1), (w2, c2) = tried.items()
        slope = (c2 - c1) / (math.log(w2) - math.log(w1))
        guess = math.exp(math.log(w1) + (goal - c1) / slope) if slope > 0 else w2
        check = make(net, replace(config, style_loss=loss, style_weight=guess), pair, out / f"{loss}-{guess:.3g}.png")
        found = f"w={guess:.3g} -> content_rel {check['content_rel']:.4f} style_rel {check['style_rel']:.4f}"
        print(f"{loss}: " + ", ".join(f"w={w:g} content_rel {c:.4f}" for w, c in tried.items()) + f"; {found}")


def quality(net: Network, config: Config, out: Path, grid: Path | None) -> None:
    """Every pair with every loss at its default balance; a table, and the pictures as a grid."""
    rows: list[list[Path]] = []
    means: dict[str, list[tuple[float, float]]] = {loss: [] for loss in STYLE_LOSSES}
    print("pair | " + " | ".join(f"{loss} content/style (s)" for loss in STYLE_LOSSES))
    for content, style in PAIRS:
        row, cells = [], []
        for loss in STYLE_LOSSES:
            path = out / f"{content.stem}-{style.stem}-{loss}.png"
            scores = make(net, replace(config, style_loss=loss), (content, style), path)
            means[loss].append((scores["content_rel"], scores["style_rel"]))
            row.append(path)
            cells.append(f"{scores['content_rel']:.3f} / {scores['style_rel']:.3f} ({scores['seconds']:.0f})")
        rows.append(row)
        print(f"{content.stem} + {style.stem} | " + " | ".join(cells), flush=True)
    print("mean | " + " | ".join(f"{statistics.mean(c for c, _ in v):.3f} / {statistics.mean(s for _, s in v):.3f}"
                                 for v in means.values()))  # fmt: skip
    if grid is not None:
        make_grid(rows, grid)
        print(f"grid: {grid}")


def make_grid(rows: list[list[Path]], path: Path, cell: int = 256) -> None:
    """Rows = pairs (photo, painting, then one picture per loss), labelled columns; a JPEG."""
    columns = ["photo", "painting", *STYLE_LOSSES]
    label = 22
    sheet = Image.new("RGB", (cell * len(columns), label + cell * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    for c, name in enumerate(columns):
        draw.text((c * cell + 8, 4), name, fill="black")
    for r, (pair, row) in enumerate(zip(PAIRS, rows, strict=True)):
        for c, source in enumerate([*pair, *row]):
            image = _open(source)
            image.thumbnail((cell, cell), Image.Resampling.LANCZOS)
            sheet.paste(image, (c * cell + (cell - image.width) // 2, label + r * cell + (cell - image.height) // 2))
    sheet.save(path, quality=88)


def cost(net: Network, config: Config, size: int, out: Path) -> None:
    """Seconds per iteration at `size` (one size, 8 iterations, the first two dropped; 3 rounds,
    the losses interleaved) and each loss's peak RSS as a whole `stylize` process."""
    fixed = replace(config, size=size, scales=1, iterations=8)
    photo, painting = (_open(p) for p in PAIRS[0])
    seconds: dict[str, list[float]] = {loss: [] for loss in STYLE_LOSSES}
    for _ in range(3):
        for loss in STYLE_LOSSES:
            stamps: list[float] = []
            transfer(photo, [painting], replace(fixed, style_loss=loss), network=net,
                     on_step=lambda _, s=stamps: s.append(time.perf_counter()))  # type: ignore[misc]  # fmt: skip
            seconds[loss].append((stamps[-1] - stamps[1]) / (len(stamps) - 2))
    base = statistics.median(seconds["gram"])
    for loss, values in seconds.items():
        peak = _peak_rss(loss, size, out)
        middle = statistics.median(values)
        print(f"cost {loss}: {middle:.3f} s/iteration (min {min(values):.3f}, max {max(values):.3f}), "
              f"{middle / base:.2f}x gram; peak RSS {peak / 2**30:.2f} GiB")  # fmt: skip


def _peak_rss(loss: str, size: int, out: Path) -> int:
    """Peak RSS in bytes of `stylize` making one `size` px picture with `loss` (12 iterations)."""
    photo, painting = PAIRS[0]
    args = [sys.executable, "-m", "stylize", str(photo), str(painting), "-o", str(out / f"peak-{loss}.png"),
            "--size", str(size), "--scales", "1", "--iterations", "12", "--style-loss", loss, "-q"]  # fmt: skip
    child = subprocess.Popen(args, cwd=ROOT)
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"{' '.join(args)} failed ({status})")
    return usage.ru_maxrss * 1024


def resample(net: Network, config: Config, out: Path, rounds: int = 4, each: int = 25) -> None:
    """Sliced: one set of directions for `rounds * each` iterations, against redrawing the set every
    `each` iterations (the L-BFGS history restarted with it), and against restarting alone. Scored
    by the judge and by the sliced loss on 8 sets of directions none of the arms used."""
    pair = PAIRS[0]
    photo, painting = (_open(p) for p in pair)
    sliced = replace(config, style_loss="sliced", iterations=each)
    arms = {"one set": [0] * 1, "restarted, same set": [0] * rounds, "redrawn each restart": list(range(rounds))}
    for arm, seeds in arms.items():
        image: Image.Image | None = None
        start = time.perf_counter()
        for seed in seeds:
            step = replace(sliced, seed=seed, iterations=each * rounds // len(seeds))
            step = step if image is None else replace(step, init=Path("previous"))
            image = to_pil(transfer(photo, [painting], step, network=net, init_image=image).image)
        assert image is not None
        path = out / f"resample-{arm.replace(' ', '-').replace(',', '')}.png"
        image.save(path)
        scores = judge(path, *pair) or {}
        held_out = _held_out_sliced(net, config, image, painting)
        content, style = scores.get("content_rel", math.nan), scores.get("style_rel", math.nan)
        judged = f"content_rel {content:.4f} style_rel {style:.4f}"
        print(f"resample {arm}: {time.perf_counter() - start:.0f} s, {judged}, held-out sliced error {held_out:.4f}")


def _held_out_sliced(net: Network, config: Config, image: Image.Image, painting: Image.Image) -> float:
    """The sliced style error of `image`, averaged over 8 direction sets (seeds 1000..1007)."""
    from stylize.io.tensors import resize_exact, to_tensor
    from stylize.optimize.targets import style_targets
    from stylize.run.stages import long_side_size

    width, height = long_side_size(painting.size, config.size)
    style_t = to_tensor(resize_exact(painting, height, width))
    with torch.no_grad():
        features = net.extractor(to_tensor(image))
    values = []
    for seed in range(1000, 1008):
        statistic = style_statistic("sliced", seed)
        targets = style_targets(net.extractor, net.choice, [style_t], statistic=statistic)
        values += [float(statistic.error(features[lw.name], targets[lw.name], None, None)) for lw in net.choice.style]
    return statistics.mean(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("part", choices=["calibrate", "quality", "cost", "resample"])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--out", type=Path, default=None, help="where the pictures go (default: a temp dir)")
    parser.add_argument("--grid", type=Path, default=None, help="quality: write the grid image here")
    args = parser.parse_args()
    if not JUDGE.is_file():
        sys.exit(f"style_losses.py needs {SHARED} (images and tools/judge.py)")
    out = args.out or Path(tempfile.mkdtemp(prefix="style-losses-"))
    out.mkdir(parents=True, exist_ok=True)
    config = Config(size=args.size, device="cpu")
    net = load_network(config)
    if args.part == "calibrate":
        calibrate(net, config, out)
    elif args.part == "quality":
        quality(net, config, out, args.grid)
    elif args.part == "cost":
        cost(net, config, args.size, out)
    else:
        resample(net, config, out)
    print(f"pictures in {out}")


if __name__ == "__main__":
    main()
