"""Images in, a stylised image out: one picture (`transfer`) or a batch of one size (`transfer_batch`).

A run goes coarse to fine (`stages`); at each size the photos become tensors, the targets are
computed once (`styles` for the paintings), each picture starts from its `inits` image or the
last size's result, and the engine optimises the batch. Nothing here prints or touches files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import cast

import torch
import torch.nn.functional as F
from PIL import Image

from ..config import Config
from ..errors import OptimizationError, SettingsError
from ..io.tensors import resize_exact, to_tensor
from ..network.loader import Network, load_network
from ..network.precision import resolve_precision
from ..optimize.engine import OnStep, OptimizerSettings, Result, optimize_batch
from ..optimize.evaluation import evaluation_for
from ..optimize.objective import LossWeights, Objective, Targets, content_features, stack_targets
from .inits import initial_image
from .stages import ResumePoint, plan_stages, stage_sizes
from .styles import StyleBank


@dataclass(frozen=True)
class Resume:
    """Where a killed run of a picture stopped, and the image it had then."""

    point: ResumePoint
    image: Image.Image


@dataclass(frozen=True)
class Picture:
    """One result to make: a content photo painted in a blend of `styles` (the same Image objects
    across pictures let their style targets be computed once)."""

    content: Image.Image
    styles: tuple[Image.Image, ...]
    init_image: Image.Image | None = None  # the start image when --init is a file
    resume: Resume | None = None  # where a killed run of this picture stopped, and its image then


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
    Resumed pictures (all of a batch alike) start at their stage with the iterations left.
    """
    sizes = {stage_sizes(p.content.size, config) for p in pictures}
    points = {p.resume.point if p.resume else None for p in pictures}
    if len(sizes) != 1 or len(points) != 1:
        raise ValueError(f"a batch needs pictures of one size and resume point, got {sorted(sizes)}, {points}")
    torch.manual_seed(config.seed)
    dtype = resolve_precision(config.precision, net.device)
    bank = bank or StyleBank(net, config, dtype)
    stages = plan_stages(config.size, config.scales, config.iterations)
    point = points.pop() or ResumePoint(1, 0, 0)
    outcomes: list[list[Result] | OptimizationError] = [[] for _ in pictures]
    evaluate, release = evaluation_for(net.device, len(pictures))
    try:
        for number, (stage, size) in enumerate(zip(stages, sizes.pop(), strict=True), 1):
            if number < point.stage:
                continue
            already = point.done if number == point.stage else 0  # iterations a killed run did here
            alive = [i for i, o in enumerate(outcomes) if isinstance(o, list)]
            contents = [to_tensor(resize_exact(pictures[i].content, size[1], size[0])).to(net.device) for i in alive]
            style_px = round((config.style_size or config.size) * stage.size / config.size)
            grams = [bank.grams(pictures[i].styles, style_px) for i in alive]
            objective = _objective(net, config, dtype, contents, grams)
            starts = [_stage_start(config, c, pictures[i], outcomes[i]) for i, c in zip(alive, contents, strict=True)]
            bases = [point.total_done + sum(r.iterations for r in cast(list[Result], outcomes[i])) for i in alive]
            on_stage_step = _staged(on_step, (number, len(stages)), alive, len(pictures), bases, already,
                                    stage.iterations)  # fmt: skip
            settings = OptimizerSettings(config.optimizer, max(1, stage.iterations - already), config.learning_rate,
                                         stage.until)  # fmt: skip
            done = optimize_batch(objective, torch.cat(starts), settings, on_stage_step, evaluate)
            for i, outcome in zip(alive, done, strict=True):
                if isinstance(outcome, OptimizationError):
                    outcomes[i] = outcome
                else:
                    cast(list[Result], outcomes[i]).append(outcome)
    finally:
        release()
    return [o if isinstance(o, OptimizationError) else _combined(o, point.total_done) for o in outcomes]


def _objective(
    net: Network, config: Config, dtype: torch.dtype, contents: list[torch.Tensor], grams: list[dict[str, torch.Tensor]]
) -> Objective:
    """The objective of one stage: row i has content i's activations and style grams[i]."""
    parts = [Targets(content_features(net.extractor, net.choice, c, dtype), g)
             for c, g in zip(contents, grams, strict=True)]  # fmt: skip
    weights = LossWeights(config.content_weight, config.style_weight, config.tv_weight, config.range_weight)
    return Objective(net.extractor, net.choice, stack_targets(parts), weights, dtype)


def _stage_start(
    config: Config, content: torch.Tensor, picture: Picture, earlier: list[Result] | OptimizationError
) -> torch.Tensor:
    """The first stage's init (or a resumed picture's image), or the previous stage's result upsampled
    (bicubic) to this size."""
    if (not isinstance(earlier, list) or not earlier) and picture.resume is not None:
        height, width = content.shape[-2:]
        return to_tensor(resize_exact(picture.resume.image, height, width)).to(content.device)
    if not isinstance(earlier, list) or not earlier:
        return initial_image(config, content, picture.styles, picture.init_image).to(content.device)
    previous = earlier[-1].image  # (1, 3, h, w) -> (1, 3, H, W)
    return F.interpolate(previous, size=content.shape[-2:], mode="bicubic", align_corners=False).clamp(0, 1)


def _staged(
    on_step: OnStep | None, stage: tuple[int, int], alive: list[int], images: int, bases: list[int], done: int,
    iterations: int,
) -> OnStep | None:
    """Steps numbered by stage (which, of how many), by picture (not by row of this stage's batch), by
    the stage's iterations (counting those a killed run did before) and over all stages (`bases`: per
    alive picture, the iterations before this stage's)."""
    if on_step is None:
        return None
    return lambda step: on_step(replace(step, stage=stage[0], stages=stage[1], index=alive[step.index], images=images,
                                        iteration=step.iteration + done, iterations=iterations,
                                        overall=bases[step.index] + step.iteration))  # fmt: skip


def _combined(results: list[Result], done_before: int) -> Result:
    """The last stage's result, with the work of all stages counted (and a killed run's before)."""
    last = results[-1]
    notes = [r.note for r in results if r.note]
    return replace(last, image=last.image.cpu(), iterations=done_before + sum(r.iterations for r in results),
                   evaluations=sum(r.evaluations for r in results), note="; ".join(notes) or None)  # fmt: skip

