"""stylize's defaults on five pairs from ../shared/images, scored against the classic published results.

    python benchmarks/quality.py [--size 512] [--device auto] [--out DIR]

For each pair, Q = (content_rel / ref_content + style_rel / ref_style) / 2 with the shared judge,
where the references are jcjohnson/neural-style's (Lua) results at 512 px. Q <= 1: at least as
good as the classic tool on average over the two axes. The last line is machine-readable:

    quality worst_q=... mean_q=... total_s=...
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from common import JUDGE, SHARED, judge

from stylize.config import Config
from stylize.network.loader import load_network
from stylize.run.files import stylize_file

# content, style, ref content_rel, ref style_rel (the classic tool at 512 px)
PAIRS = (
    ("tubingen", "starry_night", 1.064, 0.1667),
    ("tubingen", "the_scream", 0.725, 0.1677),
    ("tubingen", "shipwreck", 0.550, 0.1549),
    ("golden_gate", "starry_night", 0.764, 0.2411),
    ("golden_gate", "the_scream", 0.389, 0.3318),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, default=None, help="where the results go (default: a temp dir)")
    args = parser.parse_args()
    if not JUDGE.is_file():
        sys.exit(f"quality.py needs {SHARED} (images and tools/judge.py)")
    out_dir = args.out or Path(tempfile.mkdtemp(prefix="stylize-quality-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    config = Config(size=args.size, device=args.device)
    net = load_network(config)
    qs: list[float] = []
    total = 0.0
    for content_name, style_name, ref_content, ref_style in PAIRS:
        content, style = SHARED / "images" / f"{content_name}.jpg", SHARED / "images" / f"{style_name}.jpg"
        output = out_dir / f"{content_name}+{style_name}.png"
        started = time.perf_counter()
        stylize_file(content, [style], output, config, network=net)
        seconds = time.perf_counter() - started
        total += seconds
        scores = judge(output, content, style)
        assert scores is not None
        q = (scores["content_rel"] / ref_content + scores["style_rel"] / ref_style) / 2
        qs.append(q)
        print(f"{content_name} + {style_name}: content_rel {scores['content_rel']:.4f} style_rel "
              f"{scores['style_rel']:.4f} Q {q:.3f} in {seconds:.1f} s", flush=True)  # fmt: skip
    print(f"images in {out_dir}")
    print(f"quality worst_q={max(qs):.3f} mean_q={sum(qs) / len(qs):.3f} total_s={total:.1f}")


if __name__ == "__main__":
    main()
