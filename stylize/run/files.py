"""Files in, file out: the inputs read under the run's limits, and the one way a result is saved.

`stylize_file` (the single-file Python API) and the batch runner both read photos with
`read_photo` (alpha kept apart, --max-pixels applied) and write with `save_result` (alpha carried
to formats that keep it, the parameters embedded, atomic, a stale unfinished image cleared) or
`save_unfinished`, so a picture made either way is the same file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from ..config import Config
from ..errors import OptimizationError
from ..io.reading import Decoded, load_image, read_image
from ..io.saving import check_can_write, save_image
from ..network.loader import Network
from ..optimize.engine import OnStep, Result
from .inits import init_file
from .pictures import check_style_count, transfer
from .provenance import result_metadata, unfinished_metadata
from .regions import load_masks


def stylize_file(
    content: Path,
    styles: Sequence[Path],
    output: Path,
    config: Config,
    on_step: OnStep | None = None,
    network: Network | None = None,
) -> Result:
    """Read the inputs, run, and write `output` atomically with the run's parameters embedded."""
    check_can_write(output)
    check_style_count(len(styles), config)
    photo = read_photo(content, config)
    style_images = [load_image(p, config.max_pixels) for p in styles]
    regions = load_masks(config, styles).regions(styles, content)
    try:
        result = transfer(photo.image, style_images, config, on_step, network, read_init(config), regions)
    except OptimizationError as err:
        kept = keep_last_good(err, output, content, styles, config)
        if kept is not None:
            err.message += f"; the last good image is in {kept}"
        raise
    save_result(result, output, content, styles, config, photo.alpha)
    return result


def read_photo(path: Path, config: Config) -> Decoded:
    """The content photo (RGB on white, its transparency apart), refused above config.max_pixels."""
    return read_image(path, config.max_pixels)


def read_init(config: Config) -> Image.Image | None:
    """The image a run starts from when --init names a file, else None."""
    path = init_file(config)
    return None if path is None else load_image(path, config.max_pixels)


def save_result(
    result: Result, output: Path, content: Path, styles: Sequence[Path], config: Config, alpha: Image.Image | None,
    extra: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    """Write a finished picture: atomically, with the photo's transparency where the format keeps one
    and the run's parameters (per --metadata; `extra` joins them, e.g. a video frame's place in its chain);
    an unfinished image an earlier try left is removed."""
    metadata = result_metadata(content, styles, config, result)
    save_image(result.image, output, None if metadata is None else {**metadata, **(extra or {})}, alpha)
    unfinished_path(output).unlink(missing_ok=True)


def unfinished_path(output: Path) -> Path:
    """Where an interrupted or failed run keeps its last image: OUT.unfinished.EXT."""
    return output.with_name(f"{output.stem}.unfinished{output.suffix}")


def save_unfinished(image: torch.Tensor, output: Path, metadata: dict[str, Any]) -> Path:
    """Keep the image of an interrupted or failed run as OUT.unfinished.EXT (see `unfinished_metadata`)."""
    kept = unfinished_path(output)
    save_image(image, kept, metadata)
    return kept


def keep_last_good(
    error: OptimizationError, output: Path, content: Path, styles: Sequence[Path], config: Config
) -> Path | None:
    """Save the last good image a failed optimisation carries as OUT.unfinished.EXT; where, or None."""
    if not isinstance(error.image, torch.Tensor):
        return None
    return save_unfinished(error.image, output, unfinished_metadata(content, styles, config, {"error": error.message}))
