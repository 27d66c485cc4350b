"""stylize's defaults against the plain method, scored the same way on both sides, in one process.

    python benchmarks/speed.py [--size 512] [--repeat 1] [--device auto] [--every 5] [CONTENT STYLE]

Arms (the same network, layers and weights; one loaded network; each arm timed from its targets
to its last iteration, the network load and a warm-up excluded):
  plain        the method as the classic tools run it: one size, float32, the photo as the start,
               L-BFGS for 500 iterations (--plain-iterations), pixels unconstrained (clipped on save)
  plain+range  the same with stylize's range penalty: shows the penalty's gain apart from bf16's
  stylize      `Config()` defaults: --iterations auto, automatic precision (bf16 where native),
               the range penalty, coarse to fine from 1024 px

Every arm is scored alike: after the run, each iteration's image, clipped and rounded to 8 bits
(what a saved PNG holds), is scored on the same float32 objective at full size (no range
penalty), every --every iterations and then iteration by iteration inside the first bracket that
reaches a target. The targets are the plain arm's scores at iterations 100, 200 and 500 (T100,
T200, T500); "first hit" is the elapsed time at the first iteration whose score is <= the target.
--repeat N runs the arms N times (interleaved) and gives min / median / max of every time. The
last line is machine-readable (medians):

    speed size=512 device=cpu baseline_s=... stylize_s=... ratio=... style_delta_pct=... content_delta_pct=...
          whole_run_ratio=... r100=... r200=... r500=...

baseline_s: the plain arm's whole run; stylize_s: stylize's first hit of T500; ratio = their
quotient (kept from the first version of this benchmark); whole_run_ratio: stylize's whole run
over the plain arm's; rK: stylize's first hit of TK over the plain arm's first hit of TK (nan
where stylize never reaches it). The deltas compare the judge's distances of the last repeat's
final images (positive: stylize is further than the plain arm).
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from common import SAMPLES, PeakMemory, judge
from PIL import Image

from stylize.config import Config
from stylize.io.reading import load_image
from stylize.io.saving import save_image
from stylize.io.tensors import resize_exact, to_tensor
from stylize.network.loader import Network, load_network
from stylize.network.precision import resolve_precision
from stylize.optimize.engine import Step
from stylize.optimize.objective import LossWeights, Objective
from stylize.optimize.targets import Targets, content_features, style_targets
from stylize.run.pictures import transfer
from stylize.run.stages import long_side_size

MARKS = "100,200,500"  # the plain arm's iterations whose scores are the targets
Score = Callable[[torch.Tensor], float]  # an 8-bit (3, H, W) image -> the shared objective


@dataclass
class Trajectory:
    """One run of one arm: when each final-size iteration ended, its 8-bit image, its scores."""

    seconds: float = 0.0  # the whole run
    peak: str = ""
    times: list[float] = field(default_factory=list)  # elapsed s at each final-size iteration
    images: list[torch.Tensor] = field(default_factory=list)  # (3, H, W) uint8 after each
    scores: dict[int, float] = field(default_factory=dict)  # 0-based iteration -> objective

    def first_hit(self, score: Score, target: float, every: int) -> float:
        """Elapsed s at the first iteration scoring <= target (nan if none): scored every `every`
        iterations, then one by one inside the first bracket that reaches it."""
        count = len(self.images)
        coarse = [*range(every - 1, count, every), count - 1]
        previous = -1
        for index in coarse:
            if self.score(score, index) <= target:
                for fine in range(previous + 1, index + 1):
                    if self.score(score, fine) <= target:
                        return self.times[fine]
            previous = index
        return math.nan

    def score(self, score: Score, index: int) -> float:
        if index not in self.scores:
            self.scores[index] = score(self.images[index])
        return self.scores[index]


def run_arm(config: Config, net: Network, content: Path, style: Path) -> tuple[Trajectory, torch.Tensor]:
    """Time one run (targets and every stage); keep its final-size trajectory. Returns it and the result."""
    trajectory = Trajectory()
    started = time.perf_counter()

    def on_step(step: Step) -> None:
        if step.stage == step.stages:
            trajectory.times.append(time.perf_counter() - started)
            trajectory.images.append((step.image[0].detach().clamp(0, 1) * 255).round().to(torch.uint8))

    with PeakMemory(net.device) as memory:
        result = transfer(load_image(content), [load_image(style)], config, on_step, net)
    trajectory.seconds, trajectory.peak = time.perf_counter() - started, memory.label
    return trajectory, result.image


def shared_objective(net: Network, content: Path, style: Path, config: Config) -> Objective:
    """The objective every arm is scored on: float32, full size, no range penalty."""
    content_t, style_t = (fitted(load_image(path), config.size).to(net.device) for path in (content, style))
    targets = Targets(content_features(net.extractor, net.choice, content_t),
                      style_targets(net.extractor, net.choice, [style_t]))  # fmt: skip
    weights = LossWeights(config.content_weight, config.style_weight, config.tv_weight)
    return Objective(net.extractor, net.choice, targets, weights)


def fitted(image: Image.Image, size: int) -> torch.Tensor:
    width, height = long_side_size(image.size, size)
    return to_tensor(resize_exact(image, height, width))


def scorer(objective: Objective, device: torch.device) -> Score:
    @torch.no_grad()
    def score(image: torch.Tensor) -> float:
        return objective(image.to(device).float().unsqueeze(0) / 255).total.item()

    return score


def warm_up(net: Network, config: Config) -> None:
    """One forward and backward per precision, so no arm pays for kernel selection."""
    for name in ("fp32", config.precision):
        image = torch.rand(1, 3, 64, 64, device=net.device, requires_grad=True)
        features = net.extractor(image, resolve_precision(name, net.device))
        sum(f.float().mean() for f in features.values()).backward()


def spread(values: list[float]) -> str:
    missed = sum(math.isnan(v) for v in values)
    if missed:
        return f"never in {missed} of {len(values)} run(s)"
    if len(values) == 1:
        return f"{values[0]:.1f} s"
    return f"{statistics.median(values):.1f} s (min {min(values):.1f}, max {max(values):.1f})"


def median(values: list[float]) -> float:
    return statistics.median(values) if not any(math.isnan(v) for v in values) else math.nan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("content", nargs="?", type=Path, default=SAMPLES / "chelsea.jpg")
    parser.add_argument("style", nargs="?", type=Path, default=SAMPLES / "swirls.jpg")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--every", type=int, default=5, help="score every N iterations, then refine")
    parser.add_argument("--plain-iterations", type=int, default=500)
    parser.add_argument("--marks", default=MARKS, help="the plain arm's iterations that set the targets")
    parser.add_argument("--arms", default="plain,plain+range,stylize", help="which arms (plain and stylize always)")
    parser.add_argument("--out", type=Path, default=None, help="where the final images go (default: a temp dir)")
    args = parser.parse_args()
    out_dir = args.out or Path(tempfile.mkdtemp(prefix="stylize-speed-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    ours = Config(size=args.size, device=args.device)
    plain = Config(size=args.size, device=args.device, scales=1, precision="fp32", init="content",
                   iterations=args.plain_iterations, range_weight=0.0)  # fmt: skip
    arms = {"plain": plain, "plain+range": replace(plain, range_weight=ours.range_weight), "stylize": ours}
    arms = {name: config for name, config in arms.items() if name in {"plain", "stylize", *args.arms.split(",")}}
    net = load_network(ours)
    warm_up(net, ours)
    score = scorer(shared_objective(net, args.content, args.style, ours), net.device)
    marks = [int(m) for m in args.marks.split(",") if int(m) <= args.plain_iterations]
    hits: dict[str, dict[int, list[float]]] = {name: {m: [] for m in marks} for name in arms}
    wholes: dict[str, list[float]] = {name: [] for name in arms}
    for repeat in range(args.repeat):
        targets: dict[int, float] = {}
        for name, config in arms.items():
            trajectory, image = run_arm(config, net, args.content, args.style)
            save_image(image, out_dir / f"{name}.png")
            if name == "plain":
                targets = {m: trajectory.score(score, m - 1) for m in marks}
            for m in marks:
                hits[name][m].append(trajectory.first_hit(score, targets[m], args.every))
            wholes[name].append(trajectory.seconds)
            final = trajectory.score(score, len(trajectory.images) - 1)
            print(f"run {repeat + 1} {name}: {trajectory.seconds:.1f} s, {len(trajectory.images)} iterations at "
                  f"full size, final score {final:.4f}, peak {trajectory.peak}; first hits "
                  + ", ".join(f"T{m}={targets[m]:.4f} at {hits[name][m][-1]:.1f} s" for m in marks),
                  flush=True)  # fmt: skip
    report(args, out_dir, net.device.type, marks, hits, wholes)


def report(args: argparse.Namespace, out_dir: Path, device: str, marks: list[int],
           hits: dict[str, dict[int, list[float]]], wholes: dict[str, list[float]]) -> None:  # fmt: skip
    print(f"pair: {args.content.name} + {args.style.name}, --size {args.size}, {device}, {args.repeat} run(s); "
          f"final images in {out_dir}")  # fmt: skip
    for name in wholes:
        line = f"{name:12s} whole run {spread(wholes[name])}"
        for m in marks:
            line += f"; T{m} first hit {spread(hits[name][m])}"
        print(line)
    plain_whole, ours_whole = median(wholes["plain"]), median(wholes["stylize"])
    ratios = {m: median(hits["stylize"][m]) / median(hits["plain"][m]) for m in marks}
    for name in [n for n in wholes if n != "plain"]:
        print(f"{name} / plain: whole run {median(wholes[name]) / plain_whole:.3f}; "
              + "; ".join(f"T{m} {median(hits[name][m]) / median(hits['plain'][m]):.3f}" for m in marks))  # fmt: skip
    scores = {name: judge(out_dir / f"{name}.png", args.content, args.style) for name in ("plain", "stylize")}
    deltas = {"style_rel": math.nan, "content_rel": math.nan}
    base, ours = scores["plain"], scores["stylize"]
    if base and ours:
        for name, s in (("plain", base), ("stylize", ours)):
            print(f"judge {name}: content_rel {s['content_rel']:.4f} style_rel {s['style_rel']:.4f}")
        deltas = {k: 100 * (ours[k] - base[k]) / base[k] for k in deltas}
    last = max(marks)
    reach = median(hits["stylize"][last])
    print(f"speed size={args.size} device={device} baseline_s={plain_whole:.1f} stylize_s={reach:.1f} "
          f"ratio={reach / plain_whole:.3f} style_delta_pct={deltas['style_rel']:+.1f} "
          f"content_delta_pct={deltas['content_rel']:+.1f} whole_run_ratio={ours_whole / plain_whole:.3f} "
          + " ".join(f"r{m}={ratios[m]:.3f}" for m in marks))  # fmt: skip


if __name__ == "__main__":
    main()
