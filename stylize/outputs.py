"""Results as files: a run from paths to a written image, the parameters a PNG carries, and the
unfinished image kept when a run is interrupted or fails."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from . import __version__
from .config import Config
from .engine import OnStep, Result
from .errors import OptimizationError
from .images import check_output_path, save_image
from .pipeline import INIT_KINDS, Network, transfer
from .reading import load_image


def stylize_file(
    content: Path,
    styles: Sequence[Path],
    output: Path,
    config: Config,
    on_step: OnStep | None = None,
    network: Network | None = None,
) -> Result:
    """Read the inputs, run, and write `output` atomically with the run's parameters embedded."""
    check_output_path(output)
    content_image = load_image(content)
    style_images = [load_image(p) for p in styles]
    init_image = None if config.init in INIT_KINDS else load_image(Path(config.init))
    try:
        result = transfer(content_image, style_images, config, on_step, network, init_image)
    except OptimizationError as err:
        if isinstance(err.image, torch.Tensor):  # keep the last good image, clearly marked
            kept = save_unfinished(err.image, output, {"error": err.message})
            err.message += f"; the last good image is in {kept}"
        raise
    save_image(result.image, output, run_metadata(content, styles, config, result))
    return result


def unfinished_path(output: Path) -> Path:
    """Where an interrupted or failed run keeps its last image: OUT.unfinished.EXT."""
    return output.with_name(f"{output.stem}.unfinished{output.suffix}")


def save_unfinished(image: torch.Tensor, output: Path, details: dict[str, Any]) -> Path:
    """Keep the image of an interrupted or failed run as OUT.unfinished.EXT, marked in its metadata."""
    kept = unfinished_path(output)
    save_image(image, kept, {"unfinished": True, **details})
    return kept


def run_metadata(content: Path, styles: Sequence[Path], config: Config, result: Result) -> dict[str, Any]:
    """What a PNG result carries so that it can be reproduced."""
    return {
        "version": __version__,
        "content": str(content),
        "styles": [str(s) for s in styles],
        "config": config.to_dict(),
        "iterations_done": result.iterations,
        "final_loss": {"total": result.loss, "content": result.content, "style": result.style, "tv": result.tv},
    }
