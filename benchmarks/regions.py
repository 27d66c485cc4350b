"""Regions, measured with the real network: a style per half, a soft border, a protected area, and the cost.

    python benchmarks/regions.py [--size 512] [--out DIR] [--parts halves,soft,content,speed]

- halves: tubingen painted with starry_night on the left and the_scream on the right (hard
  masks). At every style layer, each half's guided Gram matrix is compared with both styles'
  (relative error); `own/other` is the error to its own style over the error to the other one
  (<= 0.7 means at least 30% lower).
- soft: the same with the border blurred over a quarter of the width; prints own/other for
  vertical strips from left to right (a gradual change goes smoothly from one style to the other).
- content: a --content-mask over the middle third of the picture; the content error (relu4_2,
  relative) inside it and outside it, with and without the mask, and the style error of both.
- speed: seconds per iteration at the final size, without masks, with two style masks, with a
  content mask (one size, 12 iterations, the first 2 not counted; 3 runs, median).
Last line: `regions worst_own_other=... content_ratio=... mask_cost=...`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from common import SHARED
from PIL import Image, ImageFilter

from stylize.config import Config
from stylize.io.saving import save_image
from stylize.io.tensors import resize_exact, to_tensor
from stylize.losses.core import gram, guided_gram, relative_mse
from stylize.losses.guidance import Guidance
from stylize.network.loader import Network, load_network
from stylize.run.pictures import transfer
from stylize.run.regions import Regions, mask_tensor
from stylize.run.stages import long_side_size

IMAGES = SHARED / "images"


def _open(name: str) -> Image.Image:
    with Image.open(IMAGES / f"{name}.jpg") as image:
        return image.convert("RGB")


def _features(net: Network, image: torch.Tensor) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        return {k: v.float() for k, v in net.extractor(image).items()}


def _style_grams(net: Network, style: Image.Image, size: int) -> dict[str, torch.Tensor]:
    width, height = long_side_size(style.size, size)
    features = _features(net, to_tensor(resize_exact(style, height, width)))
    return {lw.name: gram(features[lw.name]) for lw in net.choice.style}


def own_other(net: Network, image: torch.Tensor, mask: torch.Tensor, own: dict[str, torch.Tensor],
              other: dict[str, torch.Tensor]) -> dict[str, float]:  # fmt: skip
    """Per style layer: the masked part's relative Gram error to `own` over that to `other`."""
    features, guide = _features(net, image), Guidance(style_masks=mask)
    ratios = {}
    for lw in net.choice.style:
        grams = guided_gram(features[lw.name], guide.at("style", features[lw.name]))[:, 0]
        ratios[lw.name] = float(relative_mse(grams, own[lw.name]) / relative_mse(grams, other[lw.name]))
    return ratios


def halves(net: Network, config: Config, out: Path, soft: bool) -> float:
    photo = _open("tubingen")
    width, height = long_side_size(photo.size, config.size)
    left = np.zeros((height, width), np.uint8)
    left[:, : width // 2] = 255
    masks = [Image.fromarray(left), Image.fromarray(255 - left)]
    if soft:
        masks = [m.filter(ImageFilter.GaussianBlur(width / 16)) for m in masks]  # about a quarter of the width
    styles = [_open("starry_night"), _open("the_scream")]
    result = transfer(photo, styles, config, network=net, regions=Regions(style=tuple(masks))).image
    save_image(result, out / f"halves{'-soft' if soft else ''}.png")
    starry, scream = (_style_grams(net, s, config.size) for s in styles)
    if soft:
        strips = []
        for k in range(8):
            strip = torch.zeros(1, 1, height, width)
            strip[..., k * width // 8 : (k + 1) * width // 8] = 1
            strips.append(statistics.mean(own_other(net, result, strip, starry, scream).values()))
        print("soft strips, left to right (error to starry / error to scream):", " ".join(f"{r:.2f}" for r in strips))
        return max(strips[0], 1 / strips[-1])
    worst = 0.0
    for name, mask, own, other in (("left", masks[0], starry, scream), ("right", masks[1], scream, starry)):
        ratios = own_other(net, result, mask_tensor(mask, height, width), own, other)
        print(f"halves {name}: " + " ".join(f"{k}={v:.2f}" for k, v in ratios.items()))
        worst = max(worst, *ratios.values())
    return worst


def content(net: Network, config: Config, out: Path) -> float:
    photo, style = _open("tubingen"), _open("starry_night")
    width, height = long_side_size(photo.size, config.size)
    middle = np.zeros((height, width), np.uint8)
    middle[height // 3 : 2 * height // 3, width // 3 : 2 * width // 3] = 255
    mask = torch.from_numpy(middle / 255.0).float()[None, None]
    photo_features = _features(net, to_tensor(resize_exact(photo, height, width)))
    errors = {}
    for name, regions in (("without", None), ("with", Regions(content=Image.fromarray(middle)))):
        made = transfer(photo, [style], config, network=net, regions=regions)
        save_image(made.image, out / f"content-{name}.png")
        features = _features(net, made.image)
        for where, weights in (("inside", mask), ("outside", 1 - mask)):
            layer = net.choice.content[0].name
            pooled = Guidance(content_weights=weights).at("content", features[layer])
            error = (pooled * (features[layer] - photo_features[layer]).pow(2)).sum() / (
                pooled * photo_features[layer].pow(2)).sum()  # fmt: skip
            errors[(name, where)] = float(error)
        print(f"content {name} mask: inside={errors[(name, 'inside')]:.3f} outside={errors[(name, 'outside')]:.3f} "
              f"style={made.style:.4f} content={made.content:.3f}")  # fmt: skip
    return errors[("with", "inside")] / errors[("without", "inside")]


def speed(net: Network, config: Config) -> float:
    photo, styles = _open("tubingen"), [_open("starry_night"), _open("the_scream")]
    width, height = long_side_size(photo.size, config.size)
    left = np.zeros((height, width), np.uint8)
    left[:, : width // 2] = 255
    cases = {"none": (styles[:1], None),
             "two style masks": (styles, Regions(style=(Image.fromarray(left), Image.fromarray(255 - left)))),
             "content mask": (styles[:1], Regions(content=Image.fromarray(left)))}  # fmt: skip
    fixed = replace(config, iterations=12, scales=1)
    per_iteration: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(3):
        for name, (chosen, regions) in cases.items():
            stamps: list[float] = []

            def stamp(_: object, stamps: list[float] = stamps) -> None:
                stamps.append(time.perf_counter())

            transfer(photo, chosen, fixed, on_step=stamp, network=net, regions=regions)
            per_iteration[name].append((stamps[-1] - stamps[1]) / (len(stamps) - 2))
    base = statistics.median(per_iteration["none"])
    for name, values in per_iteration.items():
        middle = statistics.median(values)
        print(f"speed {name}: {middle:.3f} s/iteration (min {min(values):.3f}, max {max(values):.3f}), "
              f"{middle / base:.2f}x")  # fmt: skip
    return max(statistics.median(v) for v in per_iteration.values()) / base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--parts", default="halves,soft,content,speed")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="regions-"))
    out.mkdir(parents=True, exist_ok=True)
    config = Config(size=args.size, device="cpu")
    net = load_network(config)
    parts = args.parts.split(",")
    worst = halves(net, config, out, soft=False) if "halves" in parts else float("nan")
    soft = halves(net, config, out, soft=True) if "soft" in parts else float("nan")
    ratio = content(net, config, out) if "content" in parts else float("nan")
    cost = speed(net, config) if "speed" in parts else float("nan")
    print(f"images in {out}")
    print(f"regions worst_own_other={worst:.3f} soft_ends={soft:.3f} content_ratio={ratio:.3f} mask_cost={cost:.2f}")


if __name__ == "__main__":
    main()
