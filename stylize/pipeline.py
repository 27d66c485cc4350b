"""Files and images in, a stylised image out: glue between images, weights, and the engine.

This is the Python API (`stylize.transfer`; files in and out: `outputs.stylize_file`); the CLI is a thin layer on
top. Nothing here prints.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import cast

import torch
import torch.nn.functional as F
from PIL import Image

from .config import Config
from .devices import resolve_device
from .engine import OnStep, Result, optimize_batch
from .errors import OptimizationError, SettingsError
from .evaluation import evaluation_for
from .features import FeatureExtractor
from .images import long_side_size, resize_exact, to_tensor
from .inits import smoothed_noise
from .layers import LayerChoice, layer_names, preset, validate
from .objective import Objective, Targets, content_features, stack_targets, style_grams
from .precision import resolve_precision
from .scales import plan_stages
from .weights import Progress, load_weights

INIT_KINDS = ("content", "noise", "style")


@dataclass
class Network:
    """A loaded extractor on its device, reusable across runs with the same model and layers."""

    extractor: FeatureExtractor
    choice: LayerChoice
    device: torch.device
    source: str


def layer_choice(config: Config) -> LayerChoice:
    """The preset, with `content_layers` / `style_layers` overriding it, validated."""
    base = preset(config.layers, config.model)
    choice = LayerChoice(config.content_layers or base.content, config.style_layers or base.style)
    validate(choice, config.model)
    return choice


def load_network(config: Config, on_download: Progress | None = None) -> Network:
    choice = layer_choice(config)
    device = resolve_device(config.device)
    weights = load_weights(config.model, config.weights, on_download)
    names = [lw.name for lw in (*choice.content, *choice.style)]
    extractor = FeatureExtractor(config.model, weights, names).to(device)
    return Network(extractor, choice, device, weights.source)


@dataclass(frozen=True)
class Picture:
    """One result to make: a content photo painted in a blend of `styles` (the same Image objects
    across pictures let their style targets be computed once)."""

    content: Image.Image
    styles: tuple[Image.Image, ...]
    init_image: Image.Image | None = None  # the start image when --init is a file


class StyleBank:
    """The blended style Gram matrices of each style group at each size, computed once."""

    def __init__(self, net: Network, config: Config, dtype: torch.dtype) -> None:
        self.net, self.config, self.dtype = net, config, dtype
        self.cache: dict[tuple[tuple[int, ...], int], tuple[tuple[Image.Image, ...], dict[str, torch.Tensor]]] = {}

    def grams(self, styles: tuple[Image.Image, ...], size: int) -> dict[str, torch.Tensor]:
        key = (tuple(id(s) for s in styles), size)  # the cache holds the images, so ids stay theirs
        if key not in self.cache:
            smallest = min_side(self.config)
            tensors = [to_tensor(resize_exact(s, *reversed(fitted_size(s.size, size, smallest)))).to(self.net.device)
                       for s in styles]  # fmt: skip
            grams = style_grams(self.net.extractor, self.net.choice, tensors, self.config.style_blend, self.dtype)
            self.cache[key] = (styles, grams)
        return self.cache[key][1]


def stage_sizes(content_size: tuple[int, int], config: Config) -> tuple[tuple[int, int], ...]:
    """(width, height) of a content photo at every stage of a run; pictures with equal sizes share a batch."""
    stages = plan_stages(config.size, config.scales, config.iterations)
    smallest = min_side(config)
    return tuple(fitted_size(content_size, stage.size, smallest) for stage in stages)


def fitted_size(size: tuple[int, int], long_side: int, min_side: int = 1) -> tuple[int, int]:
    """(width, height) with the longer side `long_side` px; but a very wide or tall image keeps its
    shorter side at `min_side` px (what the deepest layer needs), its longer side growing."""
    width, height = long_side_size(size, long_side)
    if min(width, height) >= min_side:
        return width, height
    scale = min_side / min(size)
    return max(min_side, round(size[0] * scale)), max(min_side, round(size[1] * scale))


@functools.lru_cache(maxsize=8)  # asked for every photo of a batch run; the answer depends on the layers only
def min_side(config: Config) -> int:
    """The shortest side the network takes: one pixel left after the max-pools before its deepest layer."""
    choice = layer_choice(config)
    names = layer_names(config.model)
    deepest = max(names.index(lw.name) for lw in (*choice.content, *choice.style))
    return int(2 ** sum(name.startswith("pool") for name in names[:deepest]))


def transfer(
    content: Image.Image,
    styles: Sequence[Image.Image],
    config: Config,
    on_step: OnStep | None = None,
    network: Network | None = None,
    init_image: Image.Image | None = None,
) -> Result:
    """Paint `content` in the style of `styles`; returns the engine's Result (image on the CPU)."""
    check_style_count(len(styles), config)
    net = network or load_network(config)
    try:
        (outcome,) = transfer_batch([Picture(content, tuple(styles), init_image)], config, net, on_step)
    finally:
        if network is None:  # we made it, so we remove its hooks
            net.extractor.close()
    if isinstance(outcome, OptimizationError):
        raise outcome
    return outcome


def check_style_count(count: int, config: Config) -> None:
    if count == 0:
        raise SettingsError("at least one style image is needed")
    if config.style_blend is not None and len(config.style_blend) != count:
        raise SettingsError(f"--style-blend has {len(config.style_blend)} weights for {count} style images")


def transfer_batch(
    pictures: Sequence[Picture],
    config: Config,
    net: Network,
    on_step: OnStep | None = None,
    bank: StyleBank | None = None,
) -> list[Result | OptimizationError]:
    """Make several pictures of the same size together, each independent of the others.

    Coarse to fine: each stage starts from the last one's result, upsampled. A picture whose
    optimisation fails (OptimizationError, carrying its last good image) leaves the batch.
    """
    sizes = {stage_sizes(p.content.size, config) for p in pictures}
    if len(sizes) != 1:
        raise ValueError(f"a batch needs pictures of one size, got {sorted(sizes)}")
    torch.manual_seed(config.seed)
    dtype = resolve_precision(config.precision, net.device)
    bank = bank or StyleBank(net, config, dtype)
    stages = plan_stages(config.size, config.scales, config.iterations)
    outcomes: list[list[Result] | OptimizationError] = [[] for _ in pictures]
    evaluate, release = evaluation_for(net.device, len(pictures))
    try:
        for number, (stage, size) in enumerate(zip(stages, sizes.pop(), strict=True), 1):
            alive = [i for i, o in enumerate(outcomes) if isinstance(o, list)]
            contents = [to_tensor(resize_exact(pictures[i].content, size[1], size[0])).to(net.device) for i in alive]
            style_px = round((config.style_size or config.size) * stage.size / config.size)
            grams = [bank.grams(pictures[i].styles, style_px) for i in alive]
            objective = _objective(net, config, dtype, contents, grams)
            starts = [_stage_start(config, c, pictures[i], outcomes[i]) for i, c in zip(alive, contents, strict=True)]
            on_stage_step = _staged(on_step, number, len(stages), alive, len(pictures))
            stage_config = replace(config, iterations=stage.iterations)
            done = optimize_batch(objective, torch.cat(starts), stage_config, on_stage_step, evaluate)
            for i, outcome in zip(alive, done, strict=True):
                if isinstance(outcome, OptimizationError):
                    outcomes[i] = outcome
                else:
                    cast(list[Result], outcomes[i]).append(outcome)
    finally:
        release()
    return [o if isinstance(o, OptimizationError) else _combined(o) for o in outcomes]


def _objective(
    net: Network, config: Config, dtype: torch.dtype, contents: list[torch.Tensor], grams: list[dict[str, torch.Tensor]]
) -> Objective:
    """The objective of one stage: row i has content i's activations and style grams[i]."""
    parts = [Targets(content_features(net.extractor, net.choice, c, dtype), g)
             for c, g in zip(contents, grams, strict=True)]  # fmt: skip
    return Objective(net.extractor, net.choice, stack_targets(parts), config.content_weight, config.style_weight,
                     config.tv_weight, config.range_weight, dtype)  # fmt: skip


def _stage_start(
    config: Config, content: torch.Tensor, picture: Picture, earlier: list[Result] | OptimizationError
) -> torch.Tensor:
    """The first stage's init, or the previous stage's result upsampled (bicubic) to this size."""
    if not isinstance(earlier, list) or not earlier:
        return initial_image(config, content, picture.styles[0], picture.init_image).to(content.device)
    previous = earlier[-1].image  # (1, 3, h, w) -> (1, 3, H, W)
    return F.interpolate(previous, size=content.shape[-2:], mode="bicubic", align_corners=False).clamp(0, 1)


def _staged(on_step: OnStep | None, stage: int, stages: int, alive: list[int], images: int) -> OnStep | None:
    """Steps numbered by stage, and by picture (not by row of this stage's batch)."""
    if on_step is None:
        return None
    return lambda step: on_step(replace(step, stage=stage, stages=stages, index=alive[step.index], images=images))


def _combined(results: list[Result]) -> Result:
    """The last stage's result, with the work of all stages counted."""
    last = results[-1]
    notes = [r.note for r in results if r.note]
    return replace(last, image=last.image.cpu(), iterations=sum(r.iterations for r in results),
                   evaluations=sum(r.evaluations for r in results), note="; ".join(notes) or None)  # fmt: skip


def initial_image(
    config: Config, content: torch.Tensor, style: Image.Image, init_image: Image.Image | None
) -> torch.Tensor:
    """The starting image at the content's size: content, smoothed noise, the style, or a file."""
    height, width = content.shape[-2:]
    if config.init == "content":
        return content.clone()
    if config.init == "noise":
        return smoothed_noise(height, width, config.seed)
    if config.init == "style":
        return to_tensor(resize_exact(style, height, width))
    if init_image is None:
        raise SettingsError(f"--init {config.init!r}: not one of {', '.join(INIT_KINDS)} and no image given")
    return to_tensor(resize_exact(init_image, height, width))
