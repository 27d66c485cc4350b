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


READS = ("item", "tolist", "__bool__", "__float__", "__int__", "cpu", "numpy")  # Tensor methods that wait for a GPU


def random_vgg19(folder: Path) -> Path:
    """A torchvision-format VGG19 up to relu5_1 with random (He) weights, saved in `folder`."""
    import torch

    from stylize.network.extractor import vgg_skeleton
    from stylize.network.layers import layer_names

    generator = torch.Generator().manual_seed(0)
    depth = layer_names("vgg19").index("relu5_1") + 1
    state = {f"features.{k}": torch.randn(v.shape, generator=generator) * (2.0 / v[0].numel()) ** 0.5 if v.dim() == 4
             else torch.zeros(v.shape) for k, v in vgg_skeleton("vgg19", depth).state_dict().items()}  # fmt: skip
    path = folder / "vgg19-random.pth"
    torch.save(state, path)
    return path


def noise_pictures(count: int) -> list:  # type: ignore[type-arg]
    """`count` Pictures of 64x48 noise, sharing one style image of noise."""
    import torch
    from PIL import Image

    from stylize.run.pictures import Picture

    generator = torch.Generator().manual_seed(1)

    def noise() -> Image.Image:
        return Image.fromarray((torch.rand(48, 64, 3, generator=generator) * 255).to(torch.uint8).numpy())

    style = noise()
    return [Picture(noise(), (style,)) for _ in range(count)]


def count_reads(call):  # type: ignore[no-untyped-def]
    """(what `call()` returns, the host reads it made): Tensor's reading methods counted while it runs."""
    import torch

    originals = {name: getattr(torch.Tensor, name) for name in READS}
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
        result = call()
    finally:
        for name, original in originals.items():
            setattr(torch.Tensor, name, original)
    return result, count


def measure() -> dict[str, float]:
    """Counts for the stylize that `import stylize` finds (run in a child process per checkout)."""
    from stylize.config import Config
    from stylize.network.layers import parse_layer_list
    from stylize.network.loader import load_network
    from stylize.run.pictures import transfer_batch

    weights = random_vgg19(Path(tempfile.mkdtemp()))
    tiny = Config(weights=weights, size=64, iterations=10, device="cpu", scales=1, threads=1,
                  content_layers=parse_layer_list("relu2_1", "c"),
                  style_layers=parse_layer_list("relu1_1,relu2_1", "s"))  # fmt: skip
    net = load_network(tiny)
    _, reads = count_reads(lambda: transfer_batch(noise_pictures(4), tiny, net))
    net.extractor.close()
    counts = {"host_reads_per_iteration": reads / 10}
    for precision in ("fp32", "bf16"):
        config = Config(weights=weights, size=64, iterations=3, device="cpu", scales=1, precision=precision)
        net = load_network(config)
        counts[f"ops_per_evaluation_{precision}"] = count_operations(noise_pictures(1)[0], config, net, transfer_batch)
        net.extractor.close()
    return counts


def count_operations(picture: object, config: object, net: object, transfer_batch: object) -> int:
    """aten ops per evaluation round of one picture: inside `evaluate_together` (and, where the engine
    reads the round's numbers separately, inside `read`), averaged over the run `config` asks for."""
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
        transfer_batch([picture], config, net)  # type: ignore[operator]
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
