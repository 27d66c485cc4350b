"""How long stylize takes to exit after SIGTERM while it optimises a large picture.

    python benchmarks/stop_latency.py --size 2048 --delay 3     # signal 3 s into the last size

Starts `stylize CONTENT STYLE --size N --iterations K` (coarse to fine), waits until the last
size has finished an iteration, sends SIGTERM `--delay` seconds later, and prints how long the
process took to exit, its exit code and what it kept. A signal that lands during an evaluation
waits for it (the network's backward pass is not interruptible), so run it with a few delays.
"""

from __future__ import annotations

import argparse
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import SHARED


def last_size_iterating(bars: bytes) -> bool:
    """The bar of the last size (k/k), or the only bar, shows losses."""
    if re.search(rb"\(1/\d+\)", bars):
        return re.search(rb"\((\d+)/\1\)[^\r\n]*loss=", bars) is not None
    return b"loss=" in bars


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("content", nargs="?", type=Path, default=SHARED / "images" / "tubingen.jpg")
    parser.add_argument("style", nargs="?", type=Path, default=SHARED / "images" / "starry_night.jpg")
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--delay", type=float, default=3.0, help="seconds after the last size's first iteration")
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="stylize-stop-")) / "out.png"
    command = [sys.executable, "-m", "stylize", str(args.content), str(args.style), "-o", str(out),
               "--size", str(args.size), "--iterations", str(args.iterations), "--progress", "bars"]  # fmt: skip
    started = time.monotonic()
    process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert process.stderr is not None
    seen = b""
    while not last_size_iterating(seen):
        ready, _, _ = select.select([process.stderr], [], [], 1.0)
        if ready and not (chunk := os.read(process.stderr.fileno(), 4096)):
            sys.exit(f"stylize ended before the last size iterated:\n{seen.decode(errors='replace')[-800:]}")
        seen += chunk if ready else b""
    iterating = time.monotonic()
    time.sleep(args.delay)
    signalled = time.monotonic()
    process.send_signal(signal.SIGTERM)
    _, rest = process.communicate()
    ended = time.monotonic()
    kept = out.with_name("out.unfinished.png")
    print(rest.decode(errors="replace").strip().splitlines()[-2:])
    print(f"stop size={args.size} last_size_after_s={iterating - started:.1f} delay_s={args.delay} "
          f"exit_after_s={ended - signalled:.1f} exit_code={process.returncode} kept={kept.is_file()}")  # fmt: skip


if __name__ == "__main__":
    main()
