"""Painterly harmonization (--harmonize) on the paper's 12 examples in ../shared/harmonize/.

    python benchmarks/harmonize.py [--sizes 700 512] [--examples 0 1 ...] [--out build/harmonize]
    python benchmarks/harmonize.py --time-check 1   # one example at 700 px against a default run
    python benchmarks/harmonize.py --strength       # the style strength estimate against the paper's classifier

For each example and size: our result through the Python API (time, peak memory), and for ours,
the naive composite and the paper's result (made at 700 px; resized to the other sizes), with the
shared judge's network (Caffe VGG19, ../shared/tools/vgg19caffe.py):
- gain: inside the pasted mask, the sliced distance (64 random directions, 128 quantiles, relu1_1
  to relu5_1, each layer relative to the painting's own quantiles' mean square) between the
  picture's features and the painting's features outside the region, over the naive composite's.
  Below 1: more like the painting than the paste is.
- gram: the judge's relative Gram error over its sixteen ReLU layers, the same two sets of positions.
- content: relu4_2 relative error against the naive composite inside the mask.
- outside: the largest change (8-bit levels) from the painting outside the region (ours: the
  region stylize used; the paper's: its dilated mask; at other sizes than 700 px, the paper's result
  is resized, so a level or two of its outside change is the resizing's).
A contact sheet (painting | naive | ours | paper) per size goes to --out (not committed).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from common import SHARED, PeakMemory
from PIL import Image

EXAMPLES = SHARED / "harmonize"
sys.path.insert(0, str(SHARED / "tools"))
DIRECTIONS, QUANTILES = 64, 128
SLICED_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]


def picture(path: Path, size: tuple[int, int]) -> torch.Tensor:
    image = Image.open(path).convert("RGB")
    if image.size != size:
        image = image.resize(size, Image.Resampling.LANCZOS)
    return torch.from_numpy(np.asarray(image, dtype=np.float32) / 255).permute(2, 0, 1)[None]


class Judge:
    """The shared judge's network and the measures above."""

    def __init__(self) -> None:
        from vgg19caffe import NAMES, to_input, vgg19_caffe  # the shared judge's network

        self.net, self.names, self.to_input = vgg19_caffe(), NAMES, to_input
        self.relus = [n for n in NAMES if n.startswith("relu")]

    @torch.no_grad()
    def features(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        out, x = {}, self.to_input(image)
        for i, name in enumerate(self.names):
            x = self.net[i](x)
            if name in self.relus:
                out[name] = x[0]
            if name == self.relus[-1]:
                break
        return out

    @staticmethod
    def at(feature: torch.Tensor, mask: np.ndarray) -> torch.Tensor:
        """(C, k): the feature's positions where the mask covers at least half of them."""
        share = F.interpolate(torch.from_numpy(mask.astype(np.float32))[None, None], size=feature.shape[-2:],
                              mode="area").reshape(-1)  # fmt: skip
        inside = torch.nonzero(share >= 0.5).squeeze(1)
        if inside.numel() == 0:
            inside = torch.nonzero(share > 0).squeeze(1)
        return feature.reshape(feature.shape[0], -1)[:, inside]

    def measures(self, image: torch.Tensor, naive: torch.Tensor, painting: torch.Tensor, pasted: np.ndarray,
                 region: np.ndarray) -> dict[str, float]:  # fmt: skip
        fi, fn, fp = self.features(image), self.features(naive), self.features(painting)
        sliced, gram = [], []
        for name in self.relus:
            ours, theirs = self.at(fi[name], pasted), self.at(fp[name], ~region)
            if name in SLICED_LAYERS:
                sliced.append(_sliced(ours, theirs, name))
            g1, g2 = _gram(ours), _gram(theirs)
            gram.append(float((g1 - g2).pow(2).sum() / g2.pow(2).sum()))
        base = [_sliced(self.at(fn[n], pasted), self.at(fp[n], ~region), n) for n in SLICED_LAYERS]
        c1, c2 = self.at(fi["relu4_2"], pasted), self.at(fn["relu4_2"], pasted)
        return {"gain": float(np.mean(sliced) / np.mean(base)), "gram": float(np.mean(gram)),
                "content": float((c1 - c2).pow(2).sum() / c2.pow(2).sum())}  # fmt: skip


def _gram(f: torch.Tensor) -> torch.Tensor:
    return f @ f.T / f.numel()


def _sliced(ours: torch.Tensor, theirs: torch.Tensor, name: str) -> float:
    generator = torch.Generator().manual_seed(len(name) * 7919 + ours.shape[0])
    directions = torch.randn(DIRECTIONS, ours.shape[0], generator=generator)
    directions /= directions.norm(dim=1, keepdim=True)
    levels = (torch.arange(QUANTILES) + 0.5) / QUANTILES
    q1 = torch.quantile(directions @ ours, levels, dim=1)
    q2 = torch.quantile(directions @ theirs, levels, dim=1)
    return float((q1 - q2).pow(2).mean() / q2.pow(2).mean())


def outside_change(image: torch.Tensor, painting: torch.Tensor, region: np.ndarray) -> int:
    diff = (image * 255).round().sub((painting * 255).round()).abs().amax(1)[0].numpy()
    return int(diff[~region].max()) if (~region).any() else 0


def run_ours(n: int, size: int, out: Path) -> dict[str, float]:
    from stylize import Config, Harmonize, harmonize
    from stylize.network.loader import load_network

    config = Config(size=size)
    net = load_network(config)
    naive, painting = Image.open(EXAMPLES / f"{n}_naive.jpg"), Image.open(EXAMPLES / f"{n}_target.jpg")
    masks = Harmonize(Image.open(EXAMPLES / f"{n}_c_mask.jpg").convert("L"))
    with PeakMemory(net.device) as peak:
        started = time.perf_counter()
        result = harmonize(naive, painting, masks, config, network=net)
        seconds = time.perf_counter() - started
    from stylize.io.tensors import to_pil

    to_pil(result.image).save(out)
    return {"seconds": seconds, "peak_mib": peak.peak_bytes / 2**20}


def region_of(n: int, size: tuple[int, int]) -> np.ndarray:
    from stylize import Harmonize
    from stylize.run.harmonize.masks import region_mask

    return region_mask(Harmonize(Image.open(EXAMPLES / f"{n}_c_mask.jpg").convert("L")), size[1], size[0])


def mask_at(path: Path, size: tuple[int, int]) -> np.ndarray:
    from stylize.run.harmonize.masks import cut

    return cut(Image.open(path), size[1], size[0])


def measure_example(judge: Judge, n: int, size: int, out: Path, ours: bool = True) -> list[dict[str, object]]:
    from stylize.run.stages import long_side_size

    naive_file = EXAMPLES / f"{n}_naive.jpg"
    dims = long_side_size(Image.open(naive_file).size, size)
    rows: list[dict[str, object]] = []
    painting, naive = picture(EXAMPLES / f"{n}_target.jpg", dims), picture(naive_file, dims)
    pasted = mask_at(EXAMPLES / f"{n}_c_mask.jpg", dims)
    entries = []
    if ours:
        result = out / f"{n}_ours_{size}.png"
        timing = run_ours(n, size, result)
        entries.append(("ours", result, region_of(n, dims), timing))
    paper_region = mask_at(EXAMPLES / f"{n}_c_mask_dilated.jpg", dims)
    entries.append(("paper", EXAMPLES / f"{n}_paper.png", paper_region, {}))  # made at 700 px, resized to others
    for who, path, region, timing in entries:
        image = picture(path, dims)
        row: dict[str, object] = {"example": n, "size": size, "who": who, **timing}
        row.update(judge.measures(image, naive, painting, pasted, region))
        row["outside"] = outside_change(image, painting, region)
        rows.append(row)
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
    return rows


def contact_sheet(rows: list[dict[str, object]], size: int, out: Path, height: int = 200) -> Path:
    """painting | naive | ours | paper, one row per example."""
    examples = sorted({int(str(r["example"])) for r in rows if r["size"] == size})
    lines = []
    for n in examples:
        files = [EXAMPLES / f"{n}_target.jpg", EXAMPLES / f"{n}_naive.jpg", out / f"{n}_ours_{size}.png",
                 EXAMPLES / f"{n}_paper.png"]  # fmt: skip
        images = [Image.open(f).convert("RGB") for f in files if f.is_file()]
        images = [i.resize((round(i.width * height / i.height), height)) for i in images]
        line = Image.new("RGB", (sum(i.width for i in images) + 8 * len(images), height), "white")
        x = 0
        for image in images:
            line.paste(image, (x, 0))
            x += image.width + 8
        lines.append(line)
    sheet = Image.new("RGB", (max(line.width for line in lines), (height + 8) * len(lines)), "white")
    for k, line in enumerate(lines):
        sheet.paste(line, (0, k * (height + 8)))
    path = out / f"sheet_{size}.png"
    sheet.save(path)
    return path


def summary(rows: list[dict[str, object]]) -> None:
    for size in sorted({int(str(r["size"])) for r in rows}):
        for who in ("ours", "paper"):
            mine = [r for r in rows if r["size"] == size and r["who"] == who]
            if not mine:
                continue
            med = {k: statistics.median(float(str(r[k])) for r in mine) for k in ("gain", "gram", "content")}
            worst_gain = max(float(str(r["gain"])) for r in mine)
            outside = max(int(str(r["outside"])) for r in mine)
            extra = ""
            if who == "ours":
                extra = (f", median {statistics.median(float(str(r['seconds'])) for r in mine):.1f} s, "
                         f"peak {max(float(str(r['peak_mib'])) for r in mine):.0f} MiB")  # fmt: skip
            print(f"{size} px {who}: median gain {med['gain']:.3f} (worst {worst_gain:.3f}), median gram "
                  f"{med['gram']:.3f}, median content {med['content']:.3f}, outside <= {outside}{extra}")  # fmt: skip


def strength_check() -> None:
    """The style strength estimate against the paper's classifier: rank correlation over the 12 paintings,
    and leave-one-out (the linear map's two constants fitted on the other 11, each painting predicted)."""
    import re

    from scipy import stats

    from stylize import Config
    from stylize.network.loader import load_network
    from stylize.run.harmonize.strength import LEAST, MOST, OFFSET, SLOPE, active_share

    levels = [float(re.search(r"weight=([\d.]+)", line).group(1))  # type: ignore[union-attr]
              for line in (EXAMPLES / "stylization_levels.txt").read_text().splitlines() if line.strip()]  # fmt: skip
    net = load_network(Config())
    shares = np.array([active_share(Image.open(EXAMPLES / f"{n}_target.jpg"), net.extractor, net.device)
                       for n in range(len(levels))])  # fmt: skip
    fitted = np.clip(OFFSET + SLOPE * shares, LEAST, MOST)
    slope, offset = np.polyfit(shares, levels, 1)
    left_out = []
    for n in range(len(levels)):
        others = np.arange(len(levels)) != n
        b, a = np.polyfit(shares[others], np.array(levels)[others], 1)
        left_out.append(float(np.clip(a + b * shares[n], LEAST, MOST)))
    for n, (level, share, estimate, alone) in enumerate(zip(levels, shares, fitted, left_out, strict=True)):
        print(f"{n:2d}  classifier {level:5.2f}  active share {share:.4f}  estimate {estimate:5.2f}  "
              f"left out {alone:5.2f}")
    errors = np.abs(fitted - levels).mean(), np.abs(np.array(left_out) - levels).mean()
    print(f"rank correlation (Spearman) of the estimate: {stats.spearmanr(fitted, levels).statistic:.3f}; "
          f"left out: {stats.spearmanr(left_out, levels).statistic:.3f}; mean |error| {errors[0]:.2f}, "
          f"left out {errors[1]:.2f}; fit here: offset {offset:.2f}, slope {slope:.2f}")


def time_check(n: int, size: int) -> None:
    """A default (not harmonized) run of the composite in the painting's style, then the harmonization,
    at the same size in this one process: their wall times and the ratio."""
    from stylize import Config, Harmonize, harmonize, transfer
    from stylize.network.loader import load_network

    config = Config(size=size)
    net = load_network(config)
    naive, painting = Image.open(EXAMPLES / f"{n}_naive.jpg"), Image.open(EXAMPLES / f"{n}_target.jpg")
    started = time.perf_counter()
    plain = transfer(naive.convert("RGB"), [painting.convert("RGB")], config, network=net)
    plain_seconds = time.perf_counter() - started
    started = time.perf_counter()
    done = harmonize(naive, painting, Harmonize(Image.open(EXAMPLES / f"{n}_c_mask.jpg").convert("L")), config,
                     network=net)  # fmt: skip
    seconds = time.perf_counter() - started
    print(f"example {n} at {size} px: default run {plain_seconds:.1f} s ({plain.iterations} iterations), "
          f"--harmonize {seconds:.1f} s ({done.iterations} iterations): {seconds / plain_seconds:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[700, 512])
    parser.add_argument("--examples", type=int, nargs="+", default=list(range(12)))
    parser.add_argument("--out", type=Path, default=Path("build/harmonize"))
    parser.add_argument("--paper-only", action="store_true", help="measure the paper's results only")
    parser.add_argument("--strength", action="store_true", help="check the style strength estimate only")
    parser.add_argument("--time-check", type=int, metavar="N", help="example N against a default run, then stop")
    args = parser.parse_args()
    if not EXAMPLES.is_dir():
        sys.exit(f"{EXAMPLES} is not here: these examples stay outside the repository")
    if args.strength:
        strength_check()
        return
    if args.time_check is not None:
        time_check(args.time_check, args.sizes[0])
        return
    args.out.mkdir(parents=True, exist_ok=True)
    judge = Judge()
    rows = [row for size in args.sizes for n in args.examples
            for row in measure_example(judge, n, size, args.out, not args.paper_only)]  # fmt: skip
    (args.out / "results.json").write_text(json.dumps(rows, indent=1))
    summary(rows)
    if not args.paper_only:
        for size in args.sizes:
            print("contact sheet:", contact_sheet(rows, size, args.out))


if __name__ == "__main__":
    main()
