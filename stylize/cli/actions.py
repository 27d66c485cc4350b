"""What the command does once its flags are parsed: list layers, inspect a result, run one image.

Owns the progress bars (tqdm); the engine reports through callbacks and never prints.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from tqdm import tqdm

from ..config import Config
from ..layers import layer_names
from ..scales import plan_stages

if TYPE_CHECKING:  # the engine imports torch; keep --list-layers and errors fast
    from ..engine import Step


def print_layers(model: str) -> None:
    click.echo(f"Layers of {model} (for --content-layers / --style-layers):")
    click.echo(" ".join(layer_names(model)))


def inspect_result(path: Path) -> None:
    from ..images import read_metadata

    click.echo(json.dumps(read_metadata(path), indent=2, sort_keys=True))


def run_one(content: Path, styles: list[Path], output: Path, config: Config, quiet: bool) -> None:
    """One image: load the network (with a download bar if needed), optimise with a bar, save."""
    from ..images import check_output_path
    from ..pipeline import check_style_count, load_network, stylize_file

    check_output_path(output)
    check_style_count(len(styles), config)
    started = time.monotonic()
    network = load_network(config, on_download=None if quiet else _download_bar())
    progress = _Progress(output, config, quiet)
    try:
        result = stylize_file(content, styles, output, config, progress.on_step, network)
    except KeyboardInterrupt:
        progress.save_unfinished()
        raise
    finally:
        progress.close()
        network.extractor.close()  # remove the forward hooks
    if not quiet:
        height, width = result.image.shape[-2:]
        note = f"; {result.note}" if result.note else ""
        click.echo(f"wrote {output} ({width}x{height}, {result.iterations} iterations, "
                   f"{time.monotonic() - started:.0f}s{note})", err=True)  # fmt: skip


class _Progress:
    """One bar per size (opened at its first step, so input errors print alone) and --save-every."""

    def __init__(self, output: Path, config: Config, quiet: bool) -> None:
        self.output, self.config, self.quiet = output, config, quiet
        self.bar: Any = None
        self.latest: Step | None = None
        stages = plan_stages(config.size, config.scales, config.iterations)
        self.before = [sum(s.iterations for s in stages[:k]) for k in range(len(stages))]  # per stage
        self.done = 0  # iterations over all stages (for --save-every)
        self.bar_stage = 0

    def on_step(self, step: Step) -> None:
        if self.bar is None or step.stage != self.bar_stage:  # one bar per size: each ETA holds for its size
            self.close()
            height, width = step.image.shape[-2:]
            label = f"{width}x{height} ({step.stage}/{step.stages})" if step.stages > 1 else None
            self.bar = tqdm(total=step.iterations, desc=label, unit="it", disable=self.quiet, dynamic_ncols=True,
                            file=sys.stderr)  # fmt: skip
            self.bar_stage = step.stage
        self.done = self.before[step.stage - 1] + step.iteration
        self.bar.update(step.iteration - self.bar.n)
        terms = {"loss": f"{step.loss:.4g}", "content": f"{step.content:.3f}", "style": f"{step.style:.4f}"}
        if self.config.tv_weight > 0:
            terms["tv"] = f"{step.tv:.2e}"
        self.bar.set_postfix(terms, refresh=False)
        self.latest = step
        every = self.config.save_every
        if every and self.done % every == 0:
            from ..images import save_image

            output = self.output
            save_image(step.image, output.with_name(f"{output.stem}.{self.done:04d}{output.suffix}"))

    def save_unfinished(self) -> None:
        """On Ctrl-C: close the bar and keep what the run had made so far, clearly marked."""
        from ..pipeline import save_unfinished

        self.close()
        if self.latest is None:
            return
        kept = save_unfinished(self.latest.image, self.output, {"iterations_done": self.done})
        click.echo(f"stylize: interrupted; unfinished image saved to {kept}", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _download_bar() -> Callable[[int, int | None], None]:
    bars: list[Any] = []

    def on_progress(done: int, total: int | None) -> None:
        if not bars:
            bars.append(tqdm(total=total, unit="B", unit_scale=True, desc="downloading weights", file=sys.stderr))
        bars[0].update(done - bars[0].n)
        if total is not None and done >= total:
            bars[0].close()

    return on_progress
