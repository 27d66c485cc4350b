"""--preserve-colors, measured: how the colour match is chosen, and what each mode keeps.

    python benchmarks/colours.py methods              # no network: the four colour maps on every pair
    python benchmarks/colours.py modes [--size 512] [CONTENT STYLE]   # real weights: none / luminance / match

`methods`: for each photo/painting pair of ../shared/images (and the samples), each way of
moving the painting's colour mean and covariance to the photo's (run/colours.py MATCHES) is
scored by the covariance error after the map (relative, Frobenius), the mean's (relative,
largest channel), how far it moves the painting's pixels (mean |change| in 0..255 levels: less
keeps more of the painting), and the share of values pushed outside 0..1 (colours no screen
shows; the network sees them as is).

`modes`: the same picture made with each mode; prints the mean absolute difference of CIELAB a*
and b* between result and photo (colour kept: lower), the judge's content_rel / style_rel, and
style_rel judged on lightness only (the result, photo and painting as greys), the measure of
"the strokes are still there" that --preserve-colors luminance must keep within 20% of none's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch
from common import SAMPLES, SHARED, judge
from PIL import Image

from stylize.config import Config
from stylize.io.colour import srgb_to_lab
from stylize.io.tensors import to_tensor
from stylize.network.loader import load_network
from stylize.run.colours import MATCHES, colour_moments, match_colours
from stylize.run.files import stylize_file
from stylize.run.inits import sample

PHOTOS = ("tubingen", "golden_gate", "hoovertowernight")
PAINTINGS = ("starry_night", "the_scream", "shipwreck", "woman-with-hat-matisse")


def _image(path: Path) -> torch.Tensor:
    with Image.open(path) as opened:
        return to_tensor(sample(opened.convert("RGB")))


def methods() -> None:
    pairs = [(SHARED / "images" / f"{p}.jpg", SHARED / "images" / f"{s}.jpg") for p in PHOTOS for s in PAINTINGS]
    pairs = [pair for pair in pairs if pair[0].is_file() and pair[1].is_file()]
    pairs.append((SAMPLES / "chelsea.jpg", SAMPLES / "swirls.jpg"))
    totals: dict[str, list[tuple[float, float, float, float]]] = {m: [] for m in MATCHES}
    for photo_path, style_path in pairs:
        photo, style = _image(photo_path), _image(style_path)
        photo_mean, photo_cov = colour_moments(photo)
        row = []
        for method in MATCHES:
            moved = match_colours(style, photo, method)
            moved_mean, moved_cov = colour_moments(moved)
            cov_error = float((moved_cov - photo_cov).norm() / photo_cov.norm())
            mean_error = float((moved_mean - photo_mean).abs().max() / photo_mean.abs().max())
            displacement = float((moved - style).abs().mean() * 255)
            outside = float(((moved < 0) | (moved > 1)).float().mean())
            totals[method].append((cov_error, displacement, outside, mean_error))
            row.append(f"{method} cov_err={cov_error:.4f} moved={displacement:.1f} outside={outside:.3f}")
        print(f"{photo_path.stem}+{style_path.stem}: " + "  ".join(row))
    for method, scores in totals.items():
        means = [sum(s[k] for s in scores) / len(scores) for k in range(3)]
        worst, worst_mean = max(s[0] for s in scores), max(s[3] for s in scores)
        print(f"methods {method} worst_cov_err={worst:.4f} worst_mean_err={worst_mean:.2e} mean_moved={means[1]:.2f} "
              f"mean_outside={means[2]:.4f}")  # fmt: skip


def _grey(path: Path, folder: Path) -> Path:
    with Image.open(path) as opened:
        grey = folder / f"grey-{path.stem}.png"
        opened.convert("RGB").convert("L").convert("RGB").save(grey)
    return grey


def colour_difference(result: Path, photo: Path) -> float:
    """Mean |delta a*| + |delta b*| / 2 between a result and its photo (the photo resized to the result)."""
    with Image.open(result) as made, Image.open(photo) as original:
        made_rgb = made.convert("RGB")
        original_rgb = original.convert("RGB").resize(made_rgb.size, Image.Resampling.LANCZOS)
    a, b = srgb_to_lab(to_tensor(made_rgb)), srgb_to_lab(to_tensor(original_rgb))
    return float((a[:, 1:] - b[:, 1:]).abs().mean())


def modes(content: Path, style: Path, size: int, out: Path) -> None:
    net = load_network(Config(device="cpu"))
    grey_photo, grey_style = _grey(content, out), _grey(style, out)
    for mode in ("none", "luminance", "match"):
        result = out / f"{content.stem}-{style.stem}-{mode}.png"
        stylize_file(content, [style], result, Config(size=size, preserve_colors=mode, device="cpu"), network=net)
        scores = judge(result, content, style) or {}
        grey_scores = judge(_grey(result, out), grey_photo, grey_style) or {}
        print(f"mode {mode} ab_diff={colour_difference(result, content):.2f} "
              f"content_rel={scores.get('content_rel', float('nan')):.3f} "
              f"style_rel={scores.get('style_rel', float('nan')):.3f} "
              f"grey_style_rel={grey_scores.get('style_rel', float('nan')):.3f} file={result}")  # fmt: skip
        sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=("methods", "modes"))
    parser.add_argument("content", nargs="?", type=Path, default=SHARED / "images" / "tubingen.jpg")
    parser.add_argument("style", nargs="?", type=Path, default=SHARED / "images" / "starry_night.jpg")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.what == "methods":
        methods()
        return
    out = args.out or Path(tempfile.mkdtemp(prefix="colours-"))
    out.mkdir(parents=True, exist_ok=True)
    modes(args.content, args.style, args.size, out)


if __name__ == "__main__":
    main()
