"""What a file made by a run says about it: its inputs (names or paths), settings and progress.

`--metadata names` (the default) embeds the input files' names without their folders, so a
picture posted online does not show where its inputs lived (`/home/NAME/...`); `full` keeps the
paths as given; `none` embeds nothing in results. An unfinished image is a working file, not a
result: it always carries what resuming needs (names at least).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..config import INIT_KINDS, Config
from ..optimize.engine import Result
from ..version import __version__

# Settings that change how a picture is computed or kept, not what it is: an unfinished image
# made with other values of these may still be resumed.
HOW_NOT_WHAT = ("iterations", "batch_size", "threads", "device", "save_every", "max_pixels", "metadata",
               "max_memory", "tile")
PATH_SETTINGS = ("weights", "init", "content_mask")
PATHS_SETTINGS = ("style_masks", "style_source_masks")
DEFAULTS = Config().to_dict()


def shown(path: Path, mode: str) -> str:
    """A path as a file made with `--metadata mode` shows it."""
    return str(path) if mode == "full" else path.name


def describe_run(content: Path, styles: Sequence[Path], config: Config, mode: str) -> dict[str, Any]:
    """The inputs and settings of a run, paths shown as `mode` (names or full) says."""
    settings = config.to_dict()
    for key in PATH_SETTINGS:
        value = getattr(config, key)
        if isinstance(value, Path):
            settings[key] = shown(value, mode)
    for key in PATHS_SETTINGS:
        settings[key] = [shown(path, mode) for path in getattr(config, key)]
    return {
        "version": __version__,
        "content": shown(content, mode),
        "styles": [shown(s, mode) for s in styles],
        "config": settings,
    }


def result_metadata(content: Path, styles: Sequence[Path], config: Config, result: Result) -> dict[str, Any] | None:
    """What a finished result carries so that it can be reproduced (None with --metadata none)."""
    if config.metadata == "none":
        return None
    losses = {"total": result.loss, "content": result.content, "style": result.style, "tv": result.tv}
    steered = [{"iteration": c.iteration, "weight": c.name, "value": c.value} for c in result.changes]
    return {**describe_run(content, styles, config, config.metadata), "iterations_done": result.iterations,
            "final_loss": losses, **({"steered": steered} if steered else {})}  # fmt: skip


def unfinished_metadata(
    content: Path, styles: Sequence[Path], config: Config, progress: dict[str, Any]
) -> dict[str, Any]:
    """What an unfinished image carries: the run (names at least, whatever --metadata says) and
    `progress` (for an interrupted run: iterations_done, stage, stage_iterations_done; for a failed
    one: the error)."""
    mode = "full" if config.metadata == "full" else "names"
    return {**describe_run(content, styles, config, mode), "unfinished": True, **progress}


def same_work(stored: dict[str, Any], content: Path, styles: Sequence[Path], config: Config) -> bool:
    """Whether `stored` (a file's metadata) describes this very picture: the same input names and
    the same settings, but for those in HOW_NOT_WHAT."""
    return _what(stored) == _what(describe_run(content, styles, config, "names"))


def _what(described: dict[str, Any]) -> dict[str, Any]:
    settings = {**DEFAULTS, **(described.get("config") or {})}  # a setting added since the file was made: its default
    for key in PATH_SETTINGS:
        if isinstance(settings.get(key), str) and settings[key] not in INIT_KINDS:
            settings[key] = Path(settings[key]).name
    for key in PATHS_SETTINGS:
        settings[key] = [Path(str(p)).name for p in settings.get(key) or []]
    return {
        "content": Path(str(described.get("content"))).name,
        "styles": [Path(str(s)).name for s in described.get("styles") or []],
        "config": {k: v for k, v in settings.items() if k not in HOW_NOT_WHAT},
    }
