"""When to stop: the data behind `--iterations auto`, and the rule's choice.

    python benchmarks/stopping.py record --cap 250 --out DIR [--size 512]  # runs the six pairs, keeps all
    python benchmarks/stopping.py rules DIR                                # replays rules, judges their stops

`record` runs stylize's defaults (with a fixed count of `--cap` iterations) on the five shared
pairs and the samples' pair, and keeps each iteration's loss, elapsed time and 8-bit image.
`rules` replays candidate stopping rules on those losses (stop at the first iteration t >= WINDOW
where the loss improved by less than TOL, relative, over the last WINDOW iterations), and judges
the image where each rule stops, beside fixed counts. Nothing is re-optimised: a rule's stop is
exactly what `--iterations auto` with that rule would give (same seed, same arithmetic).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from common import JUDGE, SAMPLES, SHARED, judge
from quality import PAIRS

from stylize.config import Config
from stylize.io.reading import load_image
from stylize.io.saving import save_image
from stylize.network.loader import load_network
from stylize.optimize.engine import Step
from stylize.run.pictures import transfer
from stylize.run.stages import PLATEAU

WINDOWS = (5, 10, 20)
TOLERANCES = (0.02, 0.01, 0.005, 0.0025)
FIXED = (50, 100, 150)


def pairs() -> list[tuple[str, Path, Path]]:
    shared = [(f"{c}+{s}", SHARED / "images" / f"{c}.jpg", SHARED / "images" / f"{s}.jpg") for c, s, *_ in PAIRS]
    return [*shared, ("chelsea+swirls", SAMPLES / "chelsea.jpg", SAMPLES / "swirls.jpg")]


def record(cap: int, size: int, out: Path) -> None:
    config = Config(size=size, iterations=cap)
    net = load_network(config)
    for name, content, style in pairs():
        rows: list[dict[str, float]] = []
        images: list[torch.Tensor] = []
        on_step = recorder(rows, images, time.perf_counter())
        transfer(load_image(content), [load_image(style)], config, on_step, net)
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "steps.json").write_text(json.dumps({"content": str(content), "style": str(style), "steps": rows}))
        torch.save(torch.cat(images), folder / "images.pt")
        print(f"{name}: {len(rows)} iterations in {rows[-1]['seconds']:.1f} s, loss {rows[-1]['loss']:.4f}", flush=True)


def recorder(rows: list[dict[str, float]], images: list[torch.Tensor], started: float) -> Callable[[Step], None]:
    def on_step(step: Step) -> None:
        rows.append({"iteration": step.iteration, "seconds": time.perf_counter() - started, "loss": step.loss,
                     "content": step.content, "style": step.style, "evaluations": step.evaluations})  # fmt: skip
        images.append((step.image.detach().clamp(0, 1) * 255).round().to(torch.uint8).cpu())

    return on_step


def stop_at(losses: list[float], window: int, tolerance: float) -> int:
    """The iteration (1-based) where the rule stops, or len(losses) if it never does."""
    for t in range(window, len(losses)):
        if losses[t - window] - losses[t] < tolerance * losses[t]:
            return t + 1
    return len(losses)


def judged_stops(
    pair: Path, data: dict[str, str], images: torch.Tensor, iterations: set[int]
) -> dict[int, dict[str, float]]:
    """The judge's scores of the images at `iterations` (1-based), cached in the pair's scores.json."""
    cache = pair / "scores.json"
    scores = {int(k): v for k, v in json.loads(cache.read_text()).items()} if cache.is_file() else {}
    for iteration in sorted(iterations - scores.keys()):
        path = pair / f"{iteration:04d}.png"
        save_image(images[iteration - 1 : iteration].float() / 255, path)
        judged = judge(path, Path(data["content"]), Path(data["style"]))
        assert judged is not None
        scores[iteration] = judged
    cache.write_text(json.dumps(scores))
    return scores


def rules(folder: Path) -> None:
    if not JUDGE.is_file():
        sys.exit(f"rules needs {SHARED} (tools/judge.py)")
    candidates = {f"w{w} tol {tol:g}": (w, tol) for w in WINDOWS for tol in TOLERANCES}
    table: dict[str, list[tuple[int, float, float, float]]] = {name: [] for name in [*map(str, FIXED), *candidates]}
    for pair in sorted(p for p in folder.iterdir() if (p / "steps.json").is_file()):
        data = json.loads((pair / "steps.json").read_text())
        steps, images = data["steps"], torch.load(pair / "images.pt")
        losses = [row["loss"] for row in steps]
        stops = {str(n): min(n, len(losses)) for n in FIXED}
        stops |= {name: stop_at(losses, w, tol) for name, (w, tol) in candidates.items()}
        scores = judged_stops(pair, data, images, set(stops.values()))
        print(f"{pair.name}: " + ", ".join(f"{n}@{i}" for n, i in stops.items() if n in candidates), flush=True)
        for name, iteration in stops.items():
            s = scores[iteration]
            table[name].append((iteration, steps[iteration - 1]["seconds"], s["content_rel"], s["style_rel"]))
        in_use = stop_at(losses, PLATEAU.window, PLATEAU.tolerance)
        for label, iteration in (("100 iterations", 100), (f"auto (stops at {in_use})", in_use)):
            s = judged_stops(pair, data, images, {iteration})[iteration]
            print(f"  {label}: {steps[iteration - 1]['seconds']:.1f} s, judged {s['content_rel']:.4f} / "
                  f"{s['style_rel']:.4f}")  # fmt: skip
    print("rule | iterations per pair | mean s | mean content_rel | mean style_rel")
    for name, rows in table.items():
        n = len(rows)
        its = " ".join(str(r[0]) for r in rows)
        print(f"{name} | {its} | {sum(r[1] for r in rows) / n:.1f} | {sum(r[2] for r in rows) / n:.4f} | "
              f"{sum(r[3] for r in rows) / n:.4f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    rec = commands.add_parser("record")
    rec.add_argument("--cap", type=int, default=200)
    rec.add_argument("--size", type=int, default=512)
    rec.add_argument("--out", type=Path, required=True)
    ana = commands.add_parser("rules")
    ana.add_argument("folder", type=Path)
    args = parser.parse_args()
    if args.command == "record":
        record(args.cap, args.size, args.out)
    else:
        rules(args.folder)


if __name__ == "__main__":
    main()
