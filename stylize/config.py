"""Every setting of a run, with its default and its allowed values, in one frozen dataclass.

The CLI builds one `Config` from its flags (and reads its defaults from here); the entry points
in `run` read it and hand each stage below them only the settings it uses. Field comments are
what `--help` says. Imports only `errors`, so that every package may import it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .errors import SettingsError, did_you_mean

MODELS = ("vgg19", "vgg16", "vgg16-bn")
LAYER_PRESETS = ("paper", "lesson")
OPTIMIZERS = ("lbfgs", "adam")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
INIT_KINDS = ("palette", "content", "noise", "style")  # or a Path: start from that image file
COLOUR_MODES = ("none", "luminance", "match")  # --preserve-colors (run/colours.py says how)
STYLE_LOSSES = ("gram", "diagonal", "wasserstein", "sliced")  # --style-loss (losses/style_losses.py)
METADATA_MODES = ("names", "full", "none")  # what a result tells about its inputs
AUTO = "auto"  # --iterations auto: until the picture stops improving (run/stages.py says how)
MIN_SIZE = 32  # px; below this the deepest VGG blocks see less than one pixel
SCALE_FACTOR = 2  # coarse to fine: each size is twice the last
MAX_PIXELS = 150_000_000  # input images declaring more pixels are refused from their header

# Why `range_weight`: L-BFGS has no bounds, and an unconstrained run parks a few percent of the
# pixels outside [0, 1], where they lower the loss; the saved (clipped) image then loses that
# gain. For the classic method at 256 px (tubingen + starry night), 500 iterations reach 0.655
# on the objective but the saved image scores 0.732. A soft quadratic penalty keeps the
# optimised image close to the one that is saved. Judged at 256 px, 100 iterations, weights
# 0 / 10 / 100 / 1000 gave saved objectives 0.755 / 0.722 / 0.696 / 0.693 and content distances
# 0.532 / 0.544 / 0.562 / 0.568: larger weights trade ever more content for style, so 10.
#
# Why `temporal_weight` 100 (video, losses/temporal.py): on 12 frames of a 256x192 window panning
# over tubingen.jpg (starry_night.jpg, 20 iterations a chained frame), weights 30 / 100 / 300 left
# 0.18 / 0.14 / 0.09 of the flicker of frames made on their own, with judged content errors 2.3% /
# 3.3% / 4.9% above theirs and style errors 2.3% / 1.9% / 0.6% below: 100 is steady with room to
# follow what changes.


@dataclass(frozen=True)
class LayerWeight:
    """One hooked layer and its relative weight inside its loss term."""

    name: str
    weight: float = 1.0


@dataclass(frozen=True)
class Config:
    # network
    model: str = "vgg19"  # vgg19 (bundled Caffe ImageNet weights), vgg16, vgg16-bn (torchvision)
    weights: Path | None = None  # a torchvision-format state dict to use instead
    layers: str = "paper"  # layer preset: paper (relu1_1..relu5_1 / relu4_2) or lesson (fast.ai's block ends)
    content_layers: tuple[LayerWeight, ...] | None = None  # overrides the preset's content layers
    style_layers: tuple[LayerWeight, ...] | None = None  # overrides the preset's style layers
    # objective
    content_weight: float = 1.0  # weight of the content term (relative feature error)
    style_weight: float = 5.0  # weight of the style term (relative style error, see style_loss)
    style_loss: str = "gram"  # what the style term compares: gram, diagonal, wasserstein, sliced
    tv_weight: float = 0.0  # weight of total variation (smoothness); 0 turns it off
    range_weight: float = 10.0  # penalty on pixels outside 0..1 while optimising; 0: off (see below)
    style_blend: tuple[float, ...] | None = None  # one weight per style image; default equal
    temporal_weight: float = 100.0  # video: pull toward the last frame's picture, warped by the flow (why 100: above)
    # colours and regions
    preserve_colors: str = "none"  # none (the painting's), luminance (the photo's, luminance-only transfer), match
    style_masks: tuple[Path, ...] = ()  # one mask per style image: where it applies (white); () blends everywhere
    style_source_masks: tuple[Path, ...] = ()  # one mask per style image: the part of it to take the style from
    content_mask: Path | None = None  # where the photo must stay: its content counts more (white: 10x)
    # painterly harmonization (run/harmonize/): the content is a painting with an object pasted in
    harmonize: Path | None = None  # the pasted object's mask (white); None: an ordinary style transfer
    harmonize_region: Path | None = None  # the region allowed to change; None: the mask grown by the margin
    harmonize_margin: float = 1.7  # percent of the long side the mask is grown by (the paper's 11-14 px at 700)
    harmonize_strength: float | None = None  # the painting's style strength, 1-10; None: estimated from it
    # optimisation
    optimizer: str = "lbfgs"  # lbfgs or adam
    iterations: int | str = AUTO  # per size: a count, or auto (until the picture stops improving)
    scales: int = 0  # sizes optimised coarse to fine, each twice the last; 1: off; 0: auto (from 512 px)
    precision: str = "auto"  # network precision: fp32, bf16, fp16, auto (bf16 where native, else fp32)
    learning_rate: float = 0.02  # Adam step size, pixels in 0..1 (L-BFGS uses a line search)
    init: str | Path = "palette"  # palette (the photo in the style's colours), content, noise, style, or a Path
    # sizes and reproducibility
    size: int = 512  # long side of the output in pixels
    style_size: int | None = None  # long side of the style images; default: same as size
    seed: int = 0  # seed for the noise init; same seed and device give the same bytes
    device: str = "auto"  # auto (GPU if present), cpu, cuda, cuda:N, mps
    threads: int = 0  # CPU threads to compute with; 0: the CPUs this process may use (affinity, scheduler)
    save_every: int = 0  # save an intermediate image every N iterations; 0: never
    batch_size: int = 0  # pictures of one size optimised together; 0: per device (CPU cores, GPU memory)
    metadata: str = "names"  # what results embed: names (file names, settings), full (paths as given), none
    max_pixels: int = MAX_PIXELS  # larger input images are refused from their header; 0: no limit
    # memory (network/memory.py says how a stage fits)
    max_memory: int = 0  # bytes a run may use; a stage that needs more runs in tiles; 0: what is free now
    tile: int = 0  # px: optimise stages larger than this in tiles of this size; 0: only when memory is short

    def __post_init__(self) -> None:
        check_settings(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form, for the metadata embedded in results."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple) and value and isinstance(value[0], Path):
                value = [str(v) for v in value]
            elif isinstance(value, tuple) and value and isinstance(value[0], LayerWeight):
                value = ",".join(f"{lw.name}:{lw.weight:g}" for lw in value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out


def check_settings(config: Config) -> None:
    """Reject impossible settings up front, naming the value and what is allowed."""
    _check_choices(config)
    _check_numbers(config)
    _check_counts(config)
    _check_harmonize(config)


def _check_choices(config: Config) -> None:
    check_model(config.model)
    if config.layers not in LAYER_PRESETS:
        raise SettingsError(f"unknown layer preset {config.layers!r}", hint=f"choose one of {', '.join(LAYER_PRESETS)}")
    if isinstance(config.init, str) and config.init not in INIT_KINDS:
        raise SettingsError(f"--init {config.init!r}: not one of {', '.join(INIT_KINDS)}",
                            hint="to start from an image file, give its path as a pathlib.Path")  # fmt: skip
    if config.optimizer not in OPTIMIZERS:
        raise SettingsError(f"unknown optimizer {config.optimizer!r}", hint="choose lbfgs or adam")
    if config.precision not in PRECISIONS:
        raise SettingsError(f"unknown precision {config.precision!r}", hint=f"choose one of {', '.join(PRECISIONS)}")
    if config.style_loss not in STYLE_LOSSES:
        close = did_you_mean(config.style_loss, STYLE_LOSSES)
        raise SettingsError(f"unknown --style-loss {config.style_loss!r}{close}",
                            hint=f"choose one of {', '.join(STYLE_LOSSES)}")  # fmt: skip
    if config.preserve_colors not in COLOUR_MODES:
        raise SettingsError(f"unknown --preserve-colors {config.preserve_colors!r}",
                            hint=f"choose one of {', '.join(COLOUR_MODES)}")  # fmt: skip
    if config.style_masks and config.style_blend is not None:
        raise SettingsError("--style-blend mixes styles over the whole picture; with --style-mask each style has "
                            "its own region", hint="grey in a mask weakens its style there")  # fmt: skip
    if config.metadata not in METADATA_MODES:
        raise SettingsError(f"unknown --metadata {config.metadata!r}",
                            hint=f"choose one of {', '.join(METADATA_MODES)}")  # fmt: skip


def check_weight(name: str, value: float) -> None:
    """The rule of every --NAME-weight (also for one changed while a run works): finite and >= 0."""
    if not (value >= 0 and value != float("inf")):
        raise SettingsError(f"--{name}-weight must be a finite number >= 0, got {value}")


def _check_numbers(config: Config) -> None:
    for name in ("content", "style", "tv", "range", "temporal"):
        check_weight(name, getattr(config, f"{name}_weight"))
    if config.iterations != AUTO and not (isinstance(config.iterations, int) and config.iterations >= 1):
        raise SettingsError(f"--iterations must be a count of at least 1 or {AUTO!r}, got {config.iterations!r}")
    if not config.learning_rate > 0:
        raise SettingsError(f"--lr must be > 0, got {config.learning_rate}")
    for name in ("size", "style_size"):
        value = getattr(config, name)
        if value is not None and value < MIN_SIZE:
            raise SettingsError(f"--{name.replace('_', '-')} must be at least {MIN_SIZE} px, got {value}")
    if config.scales < 0:
        raise SettingsError(f"--scales must be >= 0 (0: auto, 1: off), got {config.scales}")
    coarsest = config.size / SCALE_FACTOR ** max(0, config.scales - 1)
    if coarsest < MIN_SIZE:
        raise SettingsError(
            f"--scales {config.scales} with --size {config.size} would start at "
            f"{coarsest:.0f} px; the smallest is {MIN_SIZE} px",
            hint="use fewer --scales, or 0 for automatic",
        )
    if config.style_blend is not None and (
        not config.style_blend or any(not (w >= 0) for w in config.style_blend) or sum(config.style_blend) <= 0
    ):
        raise SettingsError("--style-blend weights must be >= 0 and not all zero", hint="e.g. 0.7,0.3")


def _check_counts(config: Config) -> None:
    meanings = {"max_pixels": "0: no limit", "threads": "0: the CPUs this process may use",
                "batch_size": "0: automatic", "save_every": "0: never", "max_memory": "0: what is free",
                "tile": "0: only when memory is short"}  # fmt: skip
    for name, zero in meanings.items():
        value = getattr(config, name)
        if value < 0:
            raise SettingsError(f"--{name.replace('_', '-')} must be >= 0 ({zero}), got {value}")


HARMONIZE_REFUSES = {  # settings that mean nothing for a harmonization (run/harmonize/), and why
    "style_masks": "the mask says where the painting's style goes",
    "style_source_masks": "the style is matched from the whole painting",
    "content_mask": "the mask says where the picture may change",
    "style_blend": "a harmonization has one painting",
    "content_layers": "the paper's layers are used (relu4_1 content, relu1_1..relu5_1 style)",
    "style_layers": "the paper's layers are used (relu4_1 content, relu1_1..relu5_1 style)",
    "tile": "only the region around the paste is optimised",
}


def _check_harmonize(config: Config) -> None:
    if config.harmonize is None:
        if config.harmonize_region is not None:
            raise SettingsError("--harmonize-region needs --harmonize MASK", hint="give the pasted object's mask")
        return
    if not 0 <= config.harmonize_margin <= 50:
        raise SettingsError(f"--harmonize-margin must be 0..50 (percent of the long side), got "
                            f"{config.harmonize_margin}")  # fmt: skip
    if config.harmonize_strength is not None and not 0 < config.harmonize_strength <= 100:
        raise SettingsError(f"--harmonize-strength must be > 0 (the paper's range is 1-10), got "
                            f"{config.harmonize_strength}")  # fmt: skip
    refused = [(name, why) for name, why in HARMONIZE_REFUSES.items() if getattr(config, name) not in (None, (), 0)]
    refused += [("style_loss", "the paper's Gram and histogram losses are used")] if config.style_loss != "gram" else []
    refused += [("layers", "the paper's layers are used")] if config.layers != "paper" else []
    refused += [("preserve_colors", "the painting's palette is the point")] if config.preserve_colors != "none" else []
    refused += [("init", "it starts from the composite")] if config.init not in ("palette", "content") else []
    if refused:
        name, why = refused[0]
        raise SettingsError(f"--{name.replace('_', '-')} does not go with --harmonize: {why}",
                            hint=f"leave out --{name.replace('_', '-')}")  # fmt: skip


def check_model(model: str) -> None:
    if model not in MODELS:
        raise SettingsError(f"unknown model {model!r}{did_you_mean(model, MODELS)}",
                            hint=f"choose one of: {', '.join(MODELS)}")  # fmt: skip
