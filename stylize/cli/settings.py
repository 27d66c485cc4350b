"""Flags -> settings: one frozen Config for making pictures, one BatchFlags for the work list."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..batch.plan import DEFAULT_NAME
from ..config import AUTO, INIT_KINDS, Config, LayerWeight
from ..errors import SettingsError
from ..network.layers import parse_layer_list
from ..video.settings import LATER_ITERATIONS


@dataclass(frozen=True)
class BatchFlags:
    """The flags that shape the work list and its run (the picture-making settings are in Config)."""

    each_style: bool = False
    name: str = DEFAULT_NAME
    recursive: bool = False
    overwrite: bool = False
    fail_fast: bool = False
    dry_run: bool = False
    shard: str | None = None
    log: Path | None = None
    progress: str = "auto"
    preview: str | None = None  # [HOST:]PORT of the live page; None: no page
    preview_keep: bool = False  # the page stays after the run, until Ctrl-C
    video: bool = False  # CONTENT is one video, made frame by frame as a chain
    video_out: Path | None = None  # the frames encoded into this video file
    fps: float | None = None  # its frame rate; None: the input's (24 for image frames)
    video_iterations: str = LATER_ITERATIONS  # iterations of each frame after a chain's first (a count or auto)
    ray: str | None = None  # the Ray cluster to make the pictures on (local, auto, HOST:PORT, ray://HOST:PORT)
    stretches: int = 0  # a --video on a fleet: stretches made side by side; 0: one per worker


def build_flags(options: dict[str, Any]) -> BatchFlags:
    """Takes the work-list flags out of `options` (what is left is for Config)."""
    return BatchFlags(**{name: options.pop(name) for name in BatchFlags.__dataclass_fields__})


def _floats(text: str | None, option: str) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise SettingsError(f"{option}: {text!r} is not a comma list of numbers", hint="e.g. 0.7,0.3") from None


def parse_iterations(text: str) -> int | str:
    if text.strip().lower() == AUTO:
        return AUTO
    try:
        return int(text)
    except ValueError:
        raise SettingsError(f"--iterations: {text!r} is neither a count nor {AUTO!r}", hint="e.g. 200") from None


def _layers(text: str | None, option: str) -> tuple[LayerWeight, ...] | None:
    return parse_layer_list(text, option) if text else None


def build_config(options: dict[str, Any]) -> Config:
    """Flags -> Config; raises SettingsError for anything impossible."""
    return Config(
        model=options["model"],
        weights=options["weights"],
        layers=options["layers"],
        content_layers=_layers(options["content_layers"], "--content-layers"),
        style_layers=_layers(options["style_layers"], "--style-layers"),
        content_weight=options["content_weight"],
        style_weight=options["style_weight"],
        style_loss=options["style_loss"],
        tv_weight=options["tv_weight"],
        temporal_weight=options["temporal_weight"],
        style_blend=_floats(options["style_blend"], "--style-blend"),
        preserve_colors=options["preserve_colors"],
        style_masks=tuple(options["style_masks"]),
        style_source_masks=tuple(options["style_source_masks"]),
        content_mask=options["content_mask"],
        harmonize=options["harmonize"],
        harmonize_region=options["harmonize_region"],
        harmonize_margin=options["harmonize_margin"],
        harmonize_strength=options["harmonize_strength"],
        optimizer=options["optimizer"],
        iterations=parse_iterations(options["iterations"]),
        scales=options["scales"],
        precision=options["precision"],
        learning_rate=options["lr"],
        init=options["init"] if options["init"] in INIT_KINDS else Path(options["init"]),
        size=options["size"],
        style_size=options["style_size"],
        seed=options["seed"],
        device=options["device"],
        threads=options["threads"],
        metadata=options["metadata"],
        save_every=options["save_every"],
        batch_size=options["batch_size"],
        max_pixels=options["max_pixels"],
        max_memory=memory_size(options["max_memory"]),
        tile=options["tile"],
    )  # fmt: skip


UNITS = {"": 1, "B": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def memory_size(text: str | None) -> int:
    """--max-memory: bytes, or a number with K, M, G or T (KiB, MiB, ... also accepted); None -> 0 (what is free)."""
    if text is None:
        return 0
    cleaned = text.strip().upper().removesuffix("IB").removesuffix("B")
    number, unit = (cleaned[:-1], cleaned[-1]) if cleaned[-1:].isalpha() else (cleaned, "")
    try:
        value = float(number) * UNITS[unit]
    except (ValueError, KeyError):
        value = -1
    if not (value >= 2**20 and value != float("inf")):
        raise SettingsError(f"--max-memory {text!r}: not a memory size of at least 1M", hint="e.g. 4G or 1500M")
    return int(value)
