"""Start-up, phase by phase: what a one-picture run pays before and around its first evaluation.

    python benchmarks/startup.py [--checkout DIR] [--runs 5] [--device cpu]

Each run is a fresh process that makes a 64 px picture of the samples in 1 iteration through the
Python API, timing its phases: import torch; import the package (and its CLI); the weights (read,
checked, dequantised: `load_weights` inside `load_network`); the network (the rest of
`load_network`: built, on the device); the first evaluation (style targets, the photo's features,
one iteration: on a GPU also the CUDA context's and the libraries' first calls); then a second
fresh process runs the same picture as the command (`python -m stylize ... --quiet`), timed as the
shell sees it, exit included. "beyond torch" is that whole process minus the median `import torch`.
The median of `--runs` runs is printed per phase, for this
checkout and, with `--checkout`, another (e.g. `git worktree add ../before HEAD~3`), measured in
the same run so that their ratio means something on any machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
SAMPLES = HERE / "samples"
PHASES = ("import_torch", "import_stylize", "weights", "network", "first_evaluation", "whole_process")

CHILD = """
import json, sys, time
started = time.perf_counter()
marks = {}
def mark(name):
    marks[name] = time.perf_counter()
import torch
mark("import_torch")
import stylize.cli
from stylize.config import Config
from stylize.network.loader import load_network
from stylize.run.pictures import Picture, transfer_batch
from PIL import Image
mark("import_stylize")
import stylize.network.loader as loader
device = sys.argv[2]
config = Config(size=64, iterations=1, scales=1, device=device)
read_weights, spent = loader.load_weights, []
def timed_weights(*args, **kwargs):
    started = time.perf_counter()
    try:
        return read_weights(*args, **kwargs)
    finally:
        spent.append(time.perf_counter() - started)
loader.load_weights = timed_weights
net = load_network(config)
mark("network")
photo, painting = Image.open(sys.argv[1] + "/chelsea.jpg"), Image.open(sys.argv[1] + "/swirls.jpg")
(result,) = transfer_batch([Picture(photo, (painting,))], config, net)
if device.startswith("cuda"):
    torch.cuda.synchronize()
mark("first_evaluation")
times, last = {}, started
for name, at in marks.items():
    times[name], last = at - last, at
times["weights"], times["network"] = spent[0], times["network"] - spent[0]
print(json.dumps(times))
"""


def one_run(root: Path, device: str, out: Path) -> dict[str, float]:
    """The phases of one fresh process with `root` on its path (the weights timed inside load_network),
    and the whole command `python -m stylize` making the same picture as a second fresh process."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", CHILD, str(SAMPLES), device], env=env, capture_output=True,
                          text=True, check=True)  # fmt: skip
    times: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    command = [sys.executable, "-m", "stylize", str(SAMPLES / "chelsea.jpg"), str(SAMPLES / "swirls.jpg"), "-o",
               str(out), "--size", "64", "--iterations", "1", "--scales", "1", "--device", device, "--quiet"]
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, cwd=root)
    return {**times, "whole_process": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkout", type=Path, help="another checkout of stylize, measured in the same run")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    roots = {"this": HERE, **({"other": args.checkout.resolve()} if args.checkout else {})}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in roots}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.runs):  # interleaved, so that both see the same machine
            for name, root in roots.items():
                runs[name].append(one_run(root, args.device, Path(folder) / f"{name}.png"))
    medians = {name: {p: statistics.median(r[p] for r in done) for p in PHASES} for name, done in runs.items()}
    print(f"{'phase':<18}" + "".join(f"{name:>10}" for name in roots) + ("     ratio" if len(roots) == 2 else ""))
    for phase in PHASES:
        values = [medians[name][phase] for name in roots]
        ratio = f"{values[0] / values[1]:>10.2f}" if len(values) == 2 and values[1] > 0 else ""
        print(f"{phase:<18}" + "".join(f"{v:>9.3f}s" for v in values) + ratio)
    beyond = {name: medians[name]["whole_process"] - medians[name]["import_torch"] for name in roots}
    print("startup " + " ".join(f"{name}_beyond_torch_s={value:.3f}" for name, value in beyond.items())
          + (f" ratio={beyond['this'] / beyond['other']:.2f}" if len(roots) == 2 else ""))  # fmt: skip


if __name__ == "__main__":
    main()
