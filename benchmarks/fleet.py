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
PNG), and what the driver itself spends per picture (packing a photo, unpacking and writing a result)
at the samples' own sizes and at 512, 1024 and 2048 px (`--driver-only`: just that). The last line
of the fleet runs is machine-readable:

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


def driver_cost(sizes: list[int]) -> None:
    """Per picture, what the driver itself does (no Ray): the photo decoded and packed (PNG) as it is sent,
    a result unpacked and written as a local run writes it (atomic, metadata); and the bytes each way.
    Three photos (../shared/images, else samples/) at their own size and at each width in `sizes` stand in
    for photos and results (a painted result holds more detail than its photo: its PNG is larger)."""
    from stylize.config import Config
    from stylize.fleet.packing import pack_outcome, png, unpack_outcome
    from stylize.io.reading import read_image
    from stylize.io.tensors import to_tensor
    from stylize.optimize.engine import Result
    from stylize.run.files import save_result

    shared = ROOT.parent / "shared" / "images"
    names = ("golden_gate.jpg", "tubingen.jpg", "chelsea.jpg", "coffee.jpg", "hubble.jpg")
    places = (shared, ROOT / "samples")
    sources = [where / name for name in names for where in places if (where / name).is_file()][:3]
    with tempfile.TemporaryDirectory() as folder:
        for size in [0, *sizes]:
            out_bytes, back_bytes, seconds = [], [], []
            for source in sources:
                photo = read_image(source).image
                if size:
                    photo = photo.resize((size, size * photo.height // photo.width), Image.Resampling.LANCZOS)
                    photo.save(Path(folder) / "photo.png")
                started = time.monotonic()
                sent = png(read_image(Path(folder) / "photo.png").image) if size else png(read_image(source).image)
                packed = pack_outcome(Result(to_tensor(photo), 100, 120, 1.0, 0.5, 0.5, 0.0))
                save_result(unpack_outcome(packed), Path(folder) / "out.png", source, [source], Config(), None)
                seconds.append(time.monotonic() - started)
                out_bytes.append(len(sent))
                back_bytes.append(len(packed.image or b""))
            if size == 512:
                writes_in_parallel(photo, source, Path(folder))
            shown = "its own size" if not size else f"{size} px"
            out, back = sum(out_bytes) / len(out_bytes) / 1024, sum(back_bytes) / len(back_bytes) / 1024
            print(f"driver at {shown}: {1000 * sum(seconds) / len(seconds):.0f} ms per picture; {out:.0f} KiB out, "
                  f"{back:.0f} KiB back (mean of {len(sources)} photos)")  # fmt: skip


def writes_in_parallel(photo: Image.Image, source: Path, folder: Path, count: int = 24) -> None:
    """Results written one after another against on the driver's writer threads (fleet/folder.py's WRITERS)."""
    from concurrent.futures import ThreadPoolExecutor

    from stylize.config import Config
    from stylize.fleet.folder import WRITERS
    from stylize.fleet.packing import pack_outcome, unpack_outcome
    from stylize.io.tensors import to_tensor
    from stylize.optimize.engine import Result
    from stylize.run.files import save_result

    packed = pack_outcome(Result(to_tensor(photo), 100, 120, 1.0, 0.5, 0.5, 0.0))

    def write(number: int) -> None:
        save_result(unpack_outcome(packed), folder / f"w{number}.png", source, [source], Config(), None)

    rates = []
    for threads in (1, WRITERS):
        started = time.monotonic()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(write, range(count)))
        rates.append(count / (time.monotonic() - started))
    print(f"driver writes at {photo.width} px: {rates[0]:.1f} results/s on 1 thread, {rates[1]:.1f} on {WRITERS}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--iterations", default="auto")
    parser.add_argument("--driver-only", action="store_true", help="only the driver's own cost per picture")
    args = parser.parse_args()
    if args.driver_only:
        driver_cost([512, 1024, 2048])
        return
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
    driver_cost([512, 1024, 2048])
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
