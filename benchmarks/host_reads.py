"""Host reads and operations of the optimisation loop, counted on the CPU (what waits for a GPU).

    python benchmarks/host_reads.py [--checkout DIR]

Two counts, each on a random-weight VGG19 (no download):
- host reads (Tensor.item, tolist, __bool__, __float__, __int__, cpu, numpy) over one
  `transfer_batch` of 4 pictures at 64 px, 10 iterations, per iteration; on a GPU each is a wait
  for the card (tests/test_host_reads.py holds the budget);
- operations (aten ops seen by torch.profiler) in one evaluation of a 64 px picture with the
  default layers, in float32 and in bfloat16: the network's forward and backward pass, the losses and
  reading the results (not the optimiser's own arithmetic, which tests/test_curvature.py counts).
`--checkout` runs the same counts against another checkout of stylize (e.g. a worktree of the
commit before a change), so that both are measured by one script in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def measure() -> dict[str, float]:
    """Counts for the stylize that `import stylize` finds (run in a child process per checkout)."""
    import torch
    from PIL import Image

    from stylize.config import Config
    from stylize.network.extractor import vgg_skeleton
    from stylize.network.layers import layer_names, parse_layer_list
    from stylize.network.loader import load_network
    from stylize.run.pictures import Picture, transfer_batch

    torch.manual_seed(0)
    folder = Path(tempfile.mkdtemp())
    weights = folder / "vgg19.pth"
    depth = layer_names("vgg19").index("relu5_1") + 1
    state = {f"features.{k}": torch.randn(v.shape) * (2.0 / max(1, v[0].numel())) ** 0.5 if v.dim() == 4
             else torch.zeros(v.shape) for k, v in vgg_skeleton("vgg19", depth).state_dict().items()}  # fmt: skip
    torch.save(state, weights)
    generator = torch.Generator().manual_seed(1)

    def picture(seed: int) -> Image.Image:
        pixels = (torch.rand(48, 64, 3, generator=generator) * 255).to(torch.uint8).numpy()
        return Image.fromarray(pixels + seed)

    style = picture(99)
    tiny = Config(
        weights=weights,
        size=64,
        iterations=10,
        device="cpu",
        scales=1,
        threads=1,
        content_layers=parse_layer_list("relu2_1", "c"),
        style_layers=parse_layer_list("relu1_1,relu2_1", "s"),
    )
    net = load_network(tiny)
    counts = {"host_reads_per_iteration": _reads([Picture(picture(i), (style,)) for i in range(4)], tiny, net,
                                                 transfer_batch) / 10}  # fmt: skip
    net.extractor.close()
    for precision in ("fp32", "bf16"):
        config = Config(weights=weights, size=64, iterations=1, device="cpu", scales=1, precision=precision)
        net = load_network(config)
        counts[f"ops_per_evaluation_{precision}"] = _ops(Picture(picture(0), (style,)), config, net, transfer_batch)
        net.extractor.close()
    return counts


def _reads(pictures: list, config: object, net: object, transfer_batch: object) -> int:  # type: ignore[type-arg]
    import torch

    names = ("item", "tolist", "__bool__", "__float__", "__int__", "cpu", "numpy")
    originals = {name: getattr(torch.Tensor, name) for name in names}
    count = 0

    def counting(original):  # type: ignore[no-untyped-def]
        def wrapped(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            nonlocal count
            count += 1
            return original(self, *args, **kwargs)

        return wrapped

    try:
        for name, original in originals.items():
            setattr(torch.Tensor, name, counting(original))
        transfer_batch(pictures, config, net)  # type: ignore[operator]
    finally:
        for name, original in originals.items():
            setattr(torch.Tensor, name, original)
    return count


def _ops(picture: object, config: object, net: object, transfer_batch: object) -> int:
    """aten ops per evaluation round of one picture: inside `evaluate_together` (and, where the engine
    reads the round's numbers separately, inside `read`), averaged over a 3-iteration run."""
    from dataclasses import replace

    from torch.profiler import ProfilerActivity, profile

    from stylize.optimize import engine, evaluation

    counted = {"ops": 0, "rounds": 0}

    def profiled(function, rounds: int):  # type: ignore[no-untyped-def]
        def wrapped(*args, **kwargs):  # type: ignore[no-untyped-def]
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                out = function(*args, **kwargs)
            counted["ops"] += sum(1 for e in prof.events() if e.name.startswith("aten::"))
            counted["rounds"] += rounds
            return out

        return wrapped

    originals = evaluation.evaluate_together, getattr(engine, "read", None)
    evaluation.evaluate_together = profiled(originals[0], 1)  # type: ignore[assignment]
    if originals[1] is not None:
        engine.read = profiled(originals[1], 0)  # type: ignore[attr-defined]
    try:
        transfer_batch([picture], replace(config, iterations=3), net)  # type: ignore[operator]
    finally:
        evaluation.evaluate_together = originals[0]  # type: ignore[assignment]
        if originals[1] is not None:
            engine.read = originals[1]  # type: ignore[attr-defined]
    return round(counted["ops"] / counted["rounds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkout", type=Path, help="another checkout of stylize to count as well")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure()))
        return
    for name, root in [("this", HERE), *([("other", args.checkout.resolve())] if args.checkout else [])]:
        env = {**os.environ, "PYTHONPATH": str(root)}
        out = subprocess.run([sys.executable, __file__, "--child"], env=env, capture_output=True, text=True, check=True)
        print(json.dumps({"checkout": name, "root": str(root), **json.loads(out.stdout.splitlines()[-1])}))


if __name__ == "__main__":
    main()
