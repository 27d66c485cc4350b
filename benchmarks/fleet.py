"""A folder on a local Ray fleet against the same folder in one plain call, measured in the same run.

    python benchmarks/fleet.py [--images 16] [--size 128] [--iterations auto]

Makes IMAGES photos of SIZE px (crops of ../shared/images, or of samples/) and times, with the
bundled VGG19 and the defaults otherwise:
  plain-2   `stylize photos/ -s style -o out/ --threads 2`        (the machine's 2 cores in one process)
  plain-1   the same with --threads 1                             (what one worker computes with)
  fleet-1   `--ray auto --threads 1` on a Ray head of 1 CPU        (1 worker)
  fleet-2   `--ray auto --threads 1` on a Ray head of 2 CPUs       (2 workers)
  local-2   `--ray local --threads 1`                             (2 workers, Ray started by the run)
  skip-1    plain-1 again on the finished folder: a process's start, the network loaded, every picture skipped
  fixed-1   fleet-1 again on the finished folder: joining, starting a worker, skipping, leaving
For each: the wall time, the time inside the batches (the --log's seconds), and the peak of the
machine's used memory above what it used before the run (Ray's head, workers and the driver all
count). Then Ray's fixed cost per run (fixed-1 - skip-1) and its overhead per picture
(((fleet-1 - fixed-1) - (plain-1 - skip-1)) / IMAGES: sending, dispatching, writing), the scaling, whether fleet-1
wrote the same bytes as plain-1, and the bytes a picture sends (its photo out, its result back, as
PNG). The last line is machine-readable:

    fleet images=... size=... plain2_s=... plain1_s=... fleet1_s=... fleet2_s=... local2_s=... fixed1_s=...
          overhead_per_picture_s=... scaling_2_over_1=... same_bytes=... bytes_out=... bytes_back=... ...
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from batch import make_photos
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def used_memory() -> int:
    """Bytes in use on the machine (MemTotal - MemAvailable)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    return (int(fields["MemTotal"].split()[0]) - int(fields["MemAvailable"].split()[0])) * 1024


def measured(command: list[str]) -> tuple[float, int]:
    """Wall seconds and the peak of used memory above the level before, sampled every 50 ms."""
    base, peak, done = used_memory(), [0], threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], used_memory() - base)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    started = time.monotonic()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.monotonic() - started
    done.set()
    thread.join()
    return seconds, peak[0]


def batch_seconds(log: Path) -> float:
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    return sum(line["seconds"] for line in lines if line.get("status") == "done")


class RayHead:
    """`ray start --head` with `cpus` CPUs, stopped on leaving; joined as `--ray auto` (which also finds the
    token a cluster made by `ray start` asks for)."""

    def __init__(self, cpus: int) -> None:
        self.cpus = cpus

    def __enter__(self) -> str:
        subprocess.run(["ray", "stop", "--force"], capture_output=True)
        subprocess.run(["ray", "start", "--head", f"--num-cpus={self.cpus}", "--include-dashboard=false",
                        "--disable-usage-stats"], check=True, capture_output=True)  # fmt: skip
        return "auto"

    def __exit__(self, *_: object) -> None:
        subprocess.run(["ray", "stop", "--force"], capture_output=True)


def png_bytes(folder: Path) -> float:
    """Mean size of the folder's images as the fleet sends them (lossless PNG, level 1)."""
    from stylize.fleet.packing import png

    sizes = []
    for path in sorted(folder.iterdir()):
        with Image.open(path) as opened:
            sizes.append(len(png(opened.convert("RGB"))))
    return sum(sizes) / len(sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--iterations", default="auto")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stylize-fleet-"))
    photos = work / "photos"
    photos.mkdir()
    style = make_photos(photos, args.images, args.size)
    base = [sys.executable, "-m", "stylize", str(photos), "-s", str(style), "--size", str(args.size),
            "--iterations", args.iterations, "--seed", "1", "--progress", "none"]  # fmt: skip
    figures: dict[str, tuple[float, int, float]] = {}

    def run(name: str, *extra: str, out: str | None = None) -> None:
        log = work / f"{name}.jsonl"
        seconds, memory = measured([*base, "-o", str(work / (out or name)), "--log", str(log), *extra])
        figures[name] = (seconds, memory, batch_seconds(log))
        print(f"{name:8s} {seconds:7.1f} s wall, {figures[name][2]:7.1f} s in batches, "
              f"peak memory +{memory / 2**20:5.0f} MiB", flush=True)  # fmt: skip

    run("plain-2", "--threads", "2")
    run("plain-1", "--threads", "1")
    run("skip-1", "--threads", "1", out="plain-1")
    with RayHead(1) as head:
        run("fleet-1", "--threads", "1", "--ray", head)
        run("fixed-1", "--threads", "1", "--ray", head, out="fleet-1")
    with RayHead(2) as head:
        run("fleet-2", "--threads", "1", "--ray", head)
    run("local-2", "--threads", "1", "--ray", "local")
    report(figures, args, work, photos)
    shutil.rmtree(work)


def report(figures: dict[str, tuple[float, int, float]], args: argparse.Namespace, work: Path, photos: Path) -> None:
    same = all((work / "plain-1" / p.name).read_bytes() == p.read_bytes() for p in (work / "fleet-1").iterdir())
    wall = {name: value[0] for name, value in figures.items()}
    fixed = wall["fixed-1"] - wall["skip-1"]
    overhead = ((wall["fleet-1"] - wall["fixed-1"]) - (wall["plain-1"] - wall["skip-1"])) / args.images
    inside = (figures["fleet-1"][2] - figures["plain-1"][2]) / args.images
    out, back = png_bytes(photos), png_bytes(work / "fleet-1")
    print(f"Ray's fixed cost per run (fixed-1 - skip-1): {fixed:.1f} s; its overhead per picture: {overhead:.2f} s, "
          f"of which {inside:.2f} s inside the batches")  # fmt: skip
    print(f"scaling: fleet-1 / fleet-2 = {wall['fleet-1'] / wall['fleet-2']:.2f}x; plain-2 / fleet-2 = "
          f"{wall['plain-2'] / wall['fleet-2']:.2f}x; fleet-1 wrote the same bytes as plain-1: {same}")  # fmt: skip
    print(f"bytes per picture: {out / 1024:.1f} KiB out (the photo), {back / 1024:.1f} KiB back (the result)")
    keys = " ".join(f"{name.replace('-', '')}_s={value:.2f}" for name, value in wall.items())
    memory = " ".join(f"{name.replace('-', '')}_mib={value[1] / 2**20:.0f}" for name, value in figures.items())
    print(f"fleet images={args.images} size={args.size} {keys} fixed_s={fixed:.2f} "
          f"overhead_per_picture_s={overhead:.3f} "
          f"scaling_2_over_1={wall['fleet-1'] / wall['fleet-2']:.2f} same_bytes={same} bytes_out={out:.0f} "
          f"bytes_back={back:.0f} {memory}")  # fmt: skip


if __name__ == "__main__":
    main()
