"""Files and images in, a stylised image out: glue between images, weights, and the engine.

This is the Python API (`stylize.transfer`, `stylize.stylize_file`); the CLI is a thin layer on
top. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image

from . import __version__
from .config import Config
from .devices import resolve_device
from .engine import OnStep, Result, optimize
from .errors import OptimizationError, SettingsError
from .features import FeatureExtractor
from .images import check_output_path, load_image, resize_exact, resize_long_side, save_image, to_tensor
from .inits import smoothed_noise
from .layers import LayerChoice, preset, validate
from .objective import Objective, compute_targets
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
        return _run(net, content, styles, config, on_step, init_image)
    finally:
        if network is None:  # we made it, so we remove its hooks
            net.extractor.close()


def check_style_count(count: int, config: Config) -> None:
    if count == 0:
        raise SettingsError("at least one style image is needed")
    if config.style_blend is not None and len(config.style_blend) != count:
        raise SettingsError(f"--style-blend has {len(config.style_blend)} weights for {count} style images")


def _run(
    net: Network,
    content: Image.Image,
    styles: Sequence[Image.Image],
    config: Config,
    on_step: OnStep | None,
    init_image: Image.Image | None,
) -> Result:
    """Coarse to fine: each stage starts from the last one's result, upsampled."""
    torch.manual_seed(config.seed)
    dtype = resolve_precision(config.precision, net.device)
    stages = plan_stages(config.size, config.scales, config.iterations)
    image: torch.Tensor | None = None
    results: list[Result] = []
    for index, stage in enumerate(stages, 1):
        content_t = to_tensor(resize_long_side(content, stage.size)).to(net.device)
        style_size = round((config.style_size or config.size) * stage.size / config.size)
        style_ts = [to_tensor(resize_long_side(s, style_size)).to(net.device) for s in styles]
        targets = compute_targets(net.extractor, net.choice, content_t, style_ts, config.style_blend, dtype)
        objective = Objective(net.extractor, net.choice, targets, config.content_weight, config.style_weight,
                              config.tv_weight, config.range_weight, dtype)  # fmt: skip
        if image is None:
            init = initial_image(config, content_t, styles[0], init_image).to(net.device)
        else:  # (1, 3, h, w) -> (1, 3, H, W)
            init = F.interpolate(image, size=content_t.shape[-2:], mode="bicubic", align_corners=False).clamp(0, 1)
        result = optimize(objective, init, replace(config, iterations=stage.iterations),
                          _staged(on_step, index, len(stages)))  # fmt: skip
        image = result.image
        results.append(result)
    return _combined(results)


def _staged(on_step: OnStep | None, stage: int, stages: int) -> OnStep | None:
    if on_step is None:
        return None
    return lambda step: on_step(replace(step, stage=stage, stages=stages))


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


def save_unfinished(image: torch.Tensor, output: Path, details: dict[str, Any]) -> Path:
    """Keep the image of an interrupted or failed run as OUT.unfinished.EXT, marked in its metadata."""
    kept = output.with_name(f"{output.stem}.unfinished{output.suffix}")
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
