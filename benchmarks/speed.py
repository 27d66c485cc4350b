"""stylize's defaults against the plain method, in one process, on one content/style pair.

    python benchmarks/speed.py [--size 512] [--device auto] [CONTENT STYLE]

baseline: the method as the classic tools run it: one size, float32, the content photo as the
start, L-BFGS for 500 iterations, pixels unconstrained (clipped when saved).
stylize: `Config()` defaults (coarse to fine, automatic precision, pixels kept in range).

Both optimise the same objective (network, layers, weights). It is evaluated in float32 at full
size on the *saved* images (8-bit PNG, read back), and on the clipped image after every
iteration of stylize's final size, to find when stylize first reaches the baseline's value.
The last line is machine-readable:

    speed size=512 device=cpu baseline_s=... stylize_s=... ratio=... style_delta_pct=... content_delta_pct=...

stylize_s is the time stylize needs to reach the baseline's final objective (nan if it never
does); the deltas compare the judge's distances (positive: stylize is further than the baseline).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from common import SAMPLES, PeakMemory, conv_flops, judge, matmul_flops_per_second
from PIL import Image

from stylize.config import Config
from stylize.io.reading import load_image
from stylize.io.saving import save_image
from stylize.io.tensors import resize_exact, to_tensor
from stylize.network.loader import Network, load_network
from stylize.network.precision import network_precision, resolve_precision
from stylize.optimize.engine import Step
from stylize.optimize.objective import LossWeights, Objective, Targets, content_features, style_grams
from stylize.run.pictures import transfer
from stylize.run.stages import long_side_size


@dataclass
class Run:
    name: str
    config: Config
    seconds: float = 0.0
    peak: str = ""
    image: torch.Tensor | None = None  # the final image, as saved and read back
    final_steps: list[tuple[float, Step]] = field(default_factory=list)  # (elapsed s, step) at full size
    snapshots: list[torch.Tensor] = field(default_factory=list)  # clipped image after each such step

    def seconds_per_iteration(self) -> float:
        times = [t for t, _ in self.final_steps]
        return (times[-1] - times[0]) / max(1, len(times) - 1)

    def evaluations_per_iteration(self) -> float:
        steps = [s for _, s in self.final_steps]
        return (steps[-1].evaluations - steps[0].evaluations) / max(1, len(steps) - 1)


def run(run_: Run, net: Network, content: Path, style: Path, out_dir: Path) -> None:
    """Time one run (targets, all stages; not the network load), keep its final-size trajectory, save it."""
    started = time.perf_counter()

    def on_step(step: Step) -> None:
        if step.stage == step.stages:
            run_.final_steps.append((time.perf_counter() - started, step))
            run_.snapshots.append(step.image.detach().clamp(0, 1).cpu())

    with PeakMemory(net.device) as memory:
        result = transfer(load_image(content), [load_image(style)], run_.config, on_step, net)
    run_.seconds, run_.peak = time.perf_counter() - started, memory.label
    path = out_dir / f"{run_.name}.png"
    save_image(result.image, path)
    run_.image = to_tensor(load_image(path))


def full_size_objective(net: Network, content: Path, style: Path, config: Config) -> Objective:
    """The shared objective in float32 at full size, without stylize's range penalty."""
    content_t, style_t = (fitted(load_image(path), config.size).to(net.device) for path in (content, style))
    targets = Targets(content_features(net.extractor, net.choice, content_t),
                      style_grams(net.extractor, net.choice, [style_t]))  # fmt: skip
    weights = LossWeights(config.content_weight, config.style_weight, config.tv_weight)
    return Objective(net.extractor, net.choice, targets, weights)


def fitted(image: Image.Image, size: int) -> torch.Tensor:
    """(1, 3, H, W) with the longer side `size` px."""
    width, height = long_side_size(image.size, size)
    return to_tensor(resize_exact(image, height, width))


@torch.no_grad()
def value(objective: Objective, image: torch.Tensor) -> float:
    return objective(image.to(next(objective.extractor.parameters()).device)).total.item()


def time_to_reach(objective: Objective, run_: Run, target: float) -> float:
    """Elapsed seconds at the first final-size iteration whose clipped image scores <= target (binary search)."""
    low, high = 0, len(run_.snapshots) - 1
    if value(objective, run_.snapshots[high]) > target:
        return float("nan")
    while low < high:
        middle = (low + high) // 2
        if value(objective, run_.snapshots[middle]) <= target:
            high = middle
        else:
            low = middle + 1
    return run_.final_steps[low][0]


def warm_up(net: Network, config: Config) -> None:
    """One forward and backward per precision, so neither run pays for kernel selection."""
    for name in ("fp32", config.precision):
        image = torch.rand(1, 3, 64, 64, device=net.device, requires_grad=True)
        with network_precision(net.device, resolve_precision(name, net.device)):
            features = net.extractor(image)
        sum(f.float().mean() for f in features.values()).backward()


def machine_share(net: Network, run_: Run, height: int, width: int) -> str:
    """Share of the measured matmul throughput one evaluation at full size uses (forward + input gradient)."""
    dtype = resolve_precision(run_.config.precision, net.device)
    flops = 2 * conv_flops(net.extractor.net, height, width)  # backward to the input costs about a forward
    per_eval = run_.seconds_per_iteration() / max(1.0, run_.evaluations_per_iteration())
    peak = matmul_flops_per_second(net.device, dtype)
    achieved = flops / per_eval
    return (f"{flops / 1e9:.1f} GFLOP/evaluation, {achieved / 1e9:.0f} GFLOP/s = {100 * achieved / peak:.0f}% "
            f"of measured {str(dtype).removeprefix('torch.')} matmul {peak / 1e9:.0f} GFLOP/s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("content", nargs="?", type=Path, default=SAMPLES / "chelsea.jpg")
    parser.add_argument("style", nargs="?", type=Path, default=SAMPLES / "swirls.jpg")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--baseline-iterations", type=int, default=500)
    parser.add_argument("--out", type=Path, default=None, help="where the two images go (default: a temp dir)")
    args = parser.parse_args()
    out_dir = args.out or Path(tempfile.mkdtemp(prefix="stylize-speed-"))
    out_dir.mkdir(parents=True, exist_ok=True)

    ours = Config(size=args.size, device=args.device)
    plain = Config(size=args.size, device=args.device, scales=1, precision="fp32", init="content",
                   iterations=args.baseline_iterations, range_weight=0.0)  # fmt: skip
    net = load_network(ours)
    warm_up(net, ours)
    baseline, stylize = Run("baseline", plain), Run("stylize", ours)
    for r in (baseline, stylize):
        run(r, net, args.content, args.style, out_dir)
    report(net, baseline, stylize, args, out_dir)


def report(net: Network, baseline: Run, stylize: Run, args: argparse.Namespace, out_dir: Path) -> None:
    objective = full_size_objective(net, args.content, args.style, stylize.config)
    assert baseline.image is not None and stylize.image is not None
    height, width = baseline.image.shape[-2:]
    target, ours_final = value(objective, baseline.image), value(objective, stylize.image)
    reach = time_to_reach(objective, stylize, target)
    ratio = reach / baseline.seconds
    device = net.device.type
    print(f"pair: {args.content.name} + {args.style.name} at {width}x{height} on {device}; images in {out_dir}")
    internal = baseline.final_steps[-1][1].loss
    print(
        f"baseline: {baseline.seconds:.1f} s, objective {target:.4f} on the saved image "
        f"({internal:.4f} before clipping), {baseline.seconds_per_iteration():.3f} s/iteration, peak {baseline.peak}"
    )
    print(f"stylize:  {stylize.seconds:.1f} s in all, objective {ours_final:.4f}; reaches {target:.4f} after "
          f"{reach:.1f} s; {stylize.seconds_per_iteration():.3f} s/iteration at full size, "
          f"peak {stylize.peak}")  # fmt: skip
    for r in (baseline, stylize):
        print(f"{r.name} iteration at full size: {machine_share(net, r, height, width)}")
    scores = {r.name: judge(out_dir / f"{r.name}.png", args.content, args.style) for r in (baseline, stylize)}
    deltas = {"style_rel": float("nan"), "content_rel": float("nan")}
    if scores["baseline"] and scores["stylize"]:
        for name, s in scores.items():
            assert s is not None
            print(f"judge {name}: content_rel {s['content_rel']:.4f} style_rel {s['style_rel']:.4f}")
        base, ours = scores["baseline"], scores["stylize"]
        deltas = {k: 100 * (ours[k] - base[k]) / base[k] for k in deltas}
    print(f"speed size={args.size} device={device} baseline_s={baseline.seconds:.1f} stylize_s={reach:.1f} "
          f"ratio={ratio:.3f} style_delta_pct={deltas['style_rel']:+.1f} "
          f"content_delta_pct={deltas['content_rel']:+.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
