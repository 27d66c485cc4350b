"""Where a picture's time goes on a device: the run, the evaluation against its floor, and the loop around it.

    python benchmarks/gpu_profile.py [--device cuda] [--size 512] [--iterations 30]

Runs on the samples (chelsea + swirls), so it needs nothing but the repository and the weights.
Prints one line per measurement:
  picture   a default SIZE px picture (coarse to fine as the defaults decide), the time inside the run,
            cold (first) and warm (second);
  loop      profiler counts per iteration over ITERATIONS iterations at SIZE px in one size: host waits
            (stream synchronisations, scalar reads), kernel launches, the card's busy time against the
            wall time (the rest is the card waiting for the Python loop);
  phases    per evaluation: the network (forward and input-gradient), the losses and the read (the
            evaluation minus the network), and per iteration the optimiser (L-BFGS's direction and
            update with 50 pairs), each the profiler's device time where there is a device;
  tuning    (CUDA) an evaluation with the Gram products in full float32 (the default is TF32), with
            cuDNN's autotuning, with both;
  floor     seconds per evaluation against the floor: the network's FLOPs (forward plus the gradient for
            the pixels, about twice the forward) at the card's measured bf16 matrix-multiply rate.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import torch
from PIL import Image
from torch.profiler import DeviceType, ProfilerActivity, profile

from stylize.config import Config
from stylize.network.layers import architecture, layer_names
from stylize.network.loader import Network, load_network
from stylize.network.precision import resolve_precision
from stylize.optimize.evaluation import evaluate_together, read
from stylize.optimize.optimizers.curvature import CurvatureMemory
from stylize.run.pictures import Picture, transfer_batch

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(call: Callable[[], object], device: torch.device, repeat: int = 1) -> float:
    synchronize(device)
    started = time.perf_counter()
    for _ in range(repeat):
        call()
    synchronize(device)
    return (time.perf_counter() - started) / repeat


def profiled(call: Callable[[], object], device: torch.device) -> tuple[float, dict[str, int], float]:
    """(device time in s, counts of host reads and launches, wall s) of one call under the profiler."""
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    synchronize(device)
    started = time.perf_counter()
    with profile(activities=activities) as prof:
        call()
        synchronize(device)
    wall = time.perf_counter() - started
    events = prof.events()
    kernels = [e for e in events if e.device_type == DeviceType.CUDA]
    busy = sum(e.device_time_total for e in kernels) / 1e6 if kernels else wall
    # a host read of a CUDA tensor (.item(), .tolist(), ...) is a stream synchronisation
    waits = ("aten::_local_scalar_dense", "cudaStreamSynchronize", "cudaDeviceSynchronize")
    counts = {"reads": sum(e.name in waits for e in events),
              "launches": sum("LaunchKernel" in e.name for e in events) or sum(e.name.startswith("aten::")
                                                                              for e in events)}  # fmt: skip
    return busy, counts, wall


def forward_flops(model: str, deepest: str, height: int, width: int) -> float:
    """Multiply-adds x 2 of the convolutions up to `deepest` for one (3, height, width) image."""
    plan, _ = architecture(model)
    depth, flops, channels, index = layer_names(model).index(deepest) + 1, 0.0, 3, 0
    for item in plan:
        if index >= depth:
            break
        if item == "M":
            height, width, index = height // 2, width // 2, index + 1
            continue
        assert isinstance(item, int)
        flops += 2.0 * channels * item * 9 * height * width
        channels, index = item, index + 2
    return flops


def matmul_rate(device: torch.device) -> float:
    """FLOP/s of a large bfloat16 matrix product here (the card's practical peak)."""
    n = 8192 if device.type == "cuda" else 1024
    a = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    a @ a  # warm-up
    seconds = timed(lambda: a @ a, device, repeat=5)
    return 2.0 * n**3 / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--iterations", type=int, default=30)
    args = parser.parse_args()
    photo, painting = Image.open(SAMPLES / "chelsea.jpg"), Image.open(SAMPLES / "swirls.jpg")
    picture = Picture(photo, (painting,))
    config = Config(size=args.size, device=args.device, seed=1)
    net = load_network(config)
    device = net.device
    cold = timed(lambda: transfer_batch([picture], config, net), device)
    (result,) = transfer_batch([picture], config, net)
    warm = timed(lambda: transfer_batch([picture], config, net), device)
    print(f"picture size={args.size} device={device} cold_s={cold:.3f} warm_s={warm:.3f} "
          f"iterations={result.iterations} evaluations={result.evaluations}", flush=True)  # type: ignore[union-attr]
    one_size = Config(size=args.size, device=args.device, seed=1, scales=1, iterations=args.iterations)
    transfer_batch([picture], one_size, net)  # warm-up at this size
    wall = timed(lambda: transfer_batch([picture], one_size, net), device)
    busy, counts, _ = profiled(lambda: transfer_batch([picture], one_size, net), device)
    n = args.iterations
    print(f"loop iterations={n} wall_ms_per_iteration={1000 * wall / n:.2f} "
          f"busy_ms_per_iteration={1000 * busy / n:.2f} busy_pct={100 * busy / wall:.0f} "
          f"host_waits_per_iteration={counts['reads'] / n:.1f} "
          f"launches_per_iteration={counts['launches'] / n:.0f}", flush=True)  # fmt: skip
    evaluation = phases(net, one_size, photo, painting)
    floor(net, one_size, evaluation)


def phases(net: Network, config: Config, photo: Image.Image, painting: Image.Image) -> float:
    """Prints the phases line; returns the seconds of one evaluation."""
    from stylize.io.tensors import resize_exact, to_tensor
    from stylize.optimize.objective import LossWeights, Objective
    from stylize.optimize.targets import Targets, content_features, style_targets

    device, dtype = net.device, resolve_precision(config.precision, net.device)
    image = to_tensor(resize_exact(photo, config.size * 3 // 4, config.size)).to(device)
    style = to_tensor(resize_exact(painting, config.size * 3 // 4, config.size)).to(device)
    targets = Targets(content_features(net.extractor, net.choice, image, dtype),
                      style_targets(net.extractor, net.choice, [style], dtype=dtype))
    objective = Objective(net.extractor, net.choice, targets, LossWeights(1.0, 5.0, 0.0, 10.0), dtype)

    def network() -> None:
        x = image.clone().requires_grad_(True)
        features = net.extractor(x, dtype)
        torch.stack([f.float().mean() for f in features.values()]).sum().backward()  # type: ignore[no-untyped-call]

    def evaluation() -> None:
        read(evaluate_together(objective, image, [0]))

    memory = CurvatureMemory(50, image.numel(), like=image.reshape(-1))
    step = torch.randn(1, image.numel(), device=device)

    def optimiser() -> None:
        memory.update(step, step * 1.5)
        memory.direction(step)

    for call in (network, evaluation, optimiser):
        call()  # warm-up
    network_s, _, _ = profiled(network, device)
    evaluation_s, _, evaluation_wall = profiled(evaluation, device)
    optimiser_s, _, _ = profiled(optimiser, device)
    print(f"phases ms network={1000 * network_s:.2f} losses_and_read={1000 * max(0.0, evaluation_s - network_s):.2f} "
          f"optimiser={1000 * optimiser_s:.2f} evaluation_wall={1000 * evaluation_wall:.2f}", flush=True)  # fmt: skip
    seconds = timed(evaluation, device, repeat=10)
    if device.type == "cuda":
        tuning(evaluation, objective, image, seconds)
    return seconds


def tuning(evaluation: Callable[[], None], objective: object, image: torch.Tensor, plain_s: float) -> None:
    """What the switches would change against the defaults (TF32 products on, cuDNN autotuning off):
    the Gram products in full float32, cuDNN's autotuning, both; time per evaluation and the loss's
    relative change."""
    from stylize.network import precision

    def loss() -> float:
        with precision.tf32_products(image.device):
            return float(objective(image).total)  # type: ignore[operator]

    default, figures = loss(), []
    for name, benchmark, tf32 in (("fp32_products", False, False), ("cudnn_benchmark", True, True),
                                  ("cudnn_benchmark_fp32_products", True, False)):  # fmt: skip
        torch.backends.cudnn.benchmark, precision.TF32_PRODUCTS = benchmark, tf32
        evaluation()  # the autotuning's first pass
        seconds = timed(evaluation, image.device, repeat=10)
        figures.append(f"{name}_ms={1000 * seconds:.2f} {name}_loss_change={loss() / default - 1:+.1e}")
    torch.backends.cudnn.benchmark, precision.TF32_PRODUCTS = False, True
    print(f"tuning default_ms={1000 * plain_s:.2f} " + " ".join(figures), flush=True)


def floor(net: Network, config: Config, evaluation_s: float) -> None:
    height, width = config.size * 3 // 4, config.size
    deepest = max((lw.name for lw in (*net.choice.content, *net.choice.style)), key=layer_names(config.model).index)
    flops = 2 * forward_flops(config.model, deepest, height, width)
    rate = matmul_rate(net.device)
    floor_s = flops / rate
    print(f"floor size={width}x{height} tflop_per_evaluation={flops / 1e12:.3f} bf16_tflops={rate / 1e12:.0f} "
          f"floor_ms={1000 * floor_s:.2f} evaluation_ms={1000 * evaluation_s:.2f} "
          f"times_floor={evaluation_s / floor_s:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
