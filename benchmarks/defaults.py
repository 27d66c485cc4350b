"""The table behind the default layers, style weight and start: rows of settings on two shared pairs.

    python benchmarks/defaults.py [--size 256] [--iterations 100] [--out build/defaults]

Each row is one `stylize` command (a whole process, so exactly what a user runs) at a fixed
iteration count, so that rows compare at equal work; each result is judged by
`../shared/tools/judge.py` (content_rel / style_rel, lower is closer). Needs `../shared`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from common import SHARED, judge

PAIRS = (("tubingen.jpg", "starry_night.jpg"), ("golden_gate.jpg", "the_scream.jpg"))
ROWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("defaults (paper layers, style weight 5, palette start)", ()),
    ("paper, style weight 3", ("--style-weight", "3")),
    ("paper, style weight 7", ("--style-weight", "7")),
    ("paper, style weight 10", ("--style-weight", "10")),
    ("paper, style weight 5, photo start (--init content)", ("--init", "content")),
    ("paper, style weight 5, noise start", ("--init", "noise")),
    ("lesson layers, style weight 5", ("--layers", "lesson")),
    ("lesson layers, style weight 10", ("--layers", "lesson", "--style-weight", "10")),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--iterations", default="100")
    parser.add_argument("--out", type=Path, default=Path("build/defaults"))
    args = parser.parse_args()
    if not (SHARED / "images").is_dir():
        sys.exit("benchmarks/defaults.py needs ../shared/images")
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"| setting ({args.iterations} iterations, {args.size} px) | "
          + " | ".join(f"{c.split('.')[0]} + {s.split('.')[0]}" for c, s in PAIRS) + " |")  # fmt: skip
    print("|---|" + "---|" * len(PAIRS))
    for index, (label, flags) in enumerate(ROWS):
        cells = [_cell(args, index, pair, flags) for pair in PAIRS]
        print(f"| {label} | " + " | ".join(cells) + " |", flush=True)


def _cell(args: argparse.Namespace, index: int, pair: tuple[str, str], flags: tuple[str, ...]) -> str:
    content, style = (SHARED / "images" / name for name in pair)
    out = args.out / f"row{index}-{content.stem}-{style.stem}.png"
    command = ["stylize", str(content), str(style), "-o", str(out), "--size", str(args.size),
               "--iterations", args.iterations, "--quiet", *flags]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, check=True)
    seconds = time.perf_counter() - start
    scores = judge(out, content, style)
    assert scores is not None
    return f"{scores['content_rel']:.3f} / {scores['style_rel']:.3f} ({seconds:.0f} s)"


if __name__ == "__main__":
    main()
