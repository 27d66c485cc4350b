"""Images in, a stylised image out: one picture (`transfer`) or a batch of one size (`transfer_batch`).

A run goes coarse to fine (`stages`); at each size the photos become tensors, the targets are
computed once (`styles` for the paintings), each picture starts from its `inits` image or the
last size's result, and the engine optimises the batch. Nothing here prints or touches files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import cast

import torch
import torch.nn.functional as F
from PIL import Image

from ..config import Config
from ..errors import OptimizationError, SettingsError
from ..io.tensors import resize_exact, to_tensor
from ..losses.temporal import Anchor
from ..network.devices import memory_budget
from ..network.loader import Network, load_network
from ..network.precision import resolve_precision
from ..optimize.engine import OnStep, OptimizerSettings, Result, Step, optimize_batch
from ..optimize.evaluation import evaluation_for
from ..optimize.steering import Steering, picture_changes
from ..optimize.tiles.tiling import TileStep
from .colours import Colours
from .harmonize.api import harmonize_batch
from .inits import initial_image, sample
from .regions import Regions
from .stages import ResumePoint, check_tile, plan_stages, stage_sizes
from .styles import StyleBank
from .work import stage_work

Finish = Callable[[int, torch.Tensor], torch.Tensor]  # (picture, what the optimiser has) -> the picture


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
    regions: Regions | None = None  # its masks: where each style goes, where the photo stays
    anchor: Anchor | None = None  # a video frame: the last frame's picture warped here, where to trust it


def transfer(
    content: Image.Image,
    styles: Sequence[Image.Image],
    config: Config,
    on_step: OnStep | None = None,
    network: Network | None = None,
    init_image: Image.Image | None = None,
    regions: Regions | None = None,
) -> Result:
    """Paint `content` in the style of `styles` (in `regions`, when given); returns the engine's
    Result (image on the CPU)."""
    check_style_count(len(styles), config)
    net = network or load_network(config)
    try:
        (outcome,) = transfer_batch([Picture(content, tuple(styles), init_image, regions=regions)], config, net,
                                    on_step)  # fmt: skip
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
    pictures: Sequence[Picture], config: Config, net: Network, on_step: OnStep | None = None,
    bank: StyleBank | None = None, on_tile: Callable[[TileStep], None] | None = None,
    steering: Steering | None = None,
) -> list[Result | OptimizationError]:  # fmt: skip
    """Make several pictures of the same size together, each independent of the others (pictures with
    --harmonize masks: run/harmonize/, one after the other).

    Coarse to fine: each stage starts from the last one's result, upsampled. A picture whose
    optimisation fails (OptimizationError, carrying its last good image) leaves the batch.
    Resumed pictures (all of a batch alike) start at their stage with the iterations left. A
    stage may run in tiles (`work.stage_work`); `on_tile` hears of each tile evaluated; `steering`:
    the live page's controls."""
    if any(p.regions is not None and p.regions.harmonize is not None for p in pictures):
        return harmonize_batch(pictures, config, net, on_step, steering)
    return _transfer_stages(pictures, config, net, on_step, bank, on_tile, steering)


def _transfer_stages(
    pictures: Sequence[Picture], config: Config, net: Network, on_step: OnStep | None, bank: StyleBank | None,
    on_tile: Callable[[TileStep], None] | None, steering: Steering | None,
) -> list[Result | OptimizationError]:  # fmt: skip
    sizes, point = _alike(pictures, config)
    check_tile(config)
    torch.manual_seed(config.seed)
    dtype = resolve_precision(config.precision, net.device)
    bank = bank or StyleBank(net, config, dtype)
    stages = plan_stages(config.size, config.scales, config.iterations)
    colours = [Colours(config.preserve_colors, to_tensor(sample(p.content))) for p in pictures]
    outcomes: list[list[Result] | OptimizationError] = [[] for _ in pictures]
    photos: dict[int, torch.Tensor] = {}  # picture -> the photo at the current stage's size
    finish = _finisher(colours, photos)
    evaluate, release = evaluation_for(net.device, len(pictures))
    budget = memory_budget(config.max_memory, net.device)
    try:
        for number, (stage, size) in enumerate(zip(stages, sizes, strict=True), 1):
            if number < point.stage:
                continue
            already = point.done if number == point.stage else 0  # iterations a killed run did here
            alive = [i for i, o in enumerate(outcomes) if isinstance(o, list)]
            photos.clear()
            photos.update({i: to_tensor(resize_exact(pictures[i].content, size[1], size[0])).to(net.device)
                           for i in alive})  # fmt: skip
            at = TileStep(0, 0, number, len(stages), size, len(alive), stage.iterations, already)
            objective, evaluation, history = stage_work(net, config, dtype, bank, budget, stage.size, at, on_tile,
                                                        [(pictures[i], colours[i], photos[i]) for i in alive])
            starts = [_stage_start(config, photos[i], pictures[i], outcomes[i], colours[i]) for i in alive]
            bases = _bases(outcomes, alive, point.total_done)
            on_stage_step = _staged(on_step, (number, len(stages)), alive, len(pictures), bases, already,
                                    stage.iterations, finish)  # fmt: skip
            settings = OptimizerSettings(config.optimizer, max(1, stage.iterations - already), config.learning_rate,
                                         stage.until, history)  # fmt: skip
            evaluating = evaluation or evaluate
            done = optimize_batch(objective, torch.cat(starts), settings, on_stage_step, evaluating, steering)
            _record(outcomes, alive, done, finish)
    finally:
        release()
    return [o if isinstance(o, OptimizationError) else _combined(o, point.total_done, finish, i, config)
            for i, o in enumerate(outcomes)]  # fmt: skip


def _bases(outcomes: list[list[Result] | OptimizationError], alive: list[int], before: int) -> list[int]:
    """Per alive picture, the iterations done before this stage (`before`: by a killed run)."""
    return [before + sum(r.iterations for r in cast(list[Result], outcomes[i])) for i in alive]


def _alike(pictures: Sequence[Picture], config: Config) -> tuple[tuple[tuple[int, int], ...], ResumePoint]:
    """The stage sizes and resume point that the pictures of a batch share (ValueError if they do not)."""
    sizes = {stage_sizes(p.content.size, config) for p in pictures}
    points = {p.resume.point if p.resume else None for p in pictures}
    if len(sizes) != 1 or len(points) != 1:
        raise ValueError(f"a batch needs pictures of one size and resume point, got {sorted(sizes)}, {points}")
    return sizes.pop(), points.pop() or ResumePoint(1, 0, 0)


def _record(outcomes: list[list[Result] | OptimizationError], alive: list[int],
            done: Sequence[Result | OptimizationError], finish: Finish | None) -> None:  # fmt: skip
    """A stage's outcomes: results join their picture's list; a failure ends it (its image as a picture)."""
    for i, outcome in zip(alive, done, strict=True):
        if isinstance(outcome, OptimizationError):
            outcome.image = _finished(finish, i, outcome.image)
            outcomes[i] = outcome
        else:
            cast(list[Result], outcomes[i]).append(outcome)


def _finisher(colours: list[Colours], photos: dict[int, torch.Tensor]) -> Finish | None:
    """What turns the optimiser's images into pictures (None: they are the pictures already)."""
    if all(c.mode != "luminance" for c in colours):
        return None
    return lambda i, image: colours[i].finish(image, photos[i])


def _finished(finish: Finish | None, picture: int, image: object) -> object:
    return finish(picture, image) if finish is not None and isinstance(image, torch.Tensor) else image


def _stage_start(
    config: Config, photo: torch.Tensor, picture: Picture, earlier: list[Result] | OptimizationError,
    colours: Colours,
) -> torch.Tensor:  # fmt: skip
    """The first stage's init (or a resumed picture's image), or the previous stage's result upsampled
    (bicubic) to this size; as the picture's colour plan works on it."""
    height, width = photo.shape[-2:]
    if (not isinstance(earlier, list) or not earlier) and picture.resume is not None:
        return colours.working(to_tensor(resize_exact(picture.resume.image, height, width)).to(photo.device))
    if not isinstance(earlier, list) or not earlier:
        if colours.mode != "none" and config.init == "palette":  # the styles' palette is the photo's already
            return colours.working(_from_anchor(photo, picture.anchor))
        start = initial_image(config, photo, picture.styles, picture.init_image).to(photo.device)
        if config.init == "style":
            start = colours.style_look(start).clamp(0, 1)
        return colours.working(_from_anchor(start, picture.anchor))
    previous = earlier[-1].image  # (1, 3, h, w) -> (1, 3, H, W)
    return F.interpolate(previous, size=(height, width), mode="bicubic", align_corners=False).clamp(0, 1)


def _from_anchor(start: torch.Tensor, anchor: Anchor | None) -> torch.Tensor:
    """A video frame starts from the last frame's picture warped here where that can be trusted, and from
    its own start (`start`, the --init image) in the areas that were hidden before."""
    if anchor is None:
        return start
    height, width = start.shape[-2:]
    warped = anchor.resized(height, width).to(start.device)
    return warped.confidence * warped.image + (1 - warped.confidence) * start


def _staged(
    on_step: OnStep | None, stage: tuple[int, int], alive: list[int], images: int, bases: list[int], done: int,
    iterations: int, finish: Finish | None,
) -> OnStep | None:
    """Steps numbered by stage (which, of how many), by picture (not by row of this stage's batch), by
    the stage's iterations (counting those a killed run did before) and over all stages (`bases`: per
    alive picture, the iterations before this stage's); their images as pictures (`finish`)."""
    if on_step is None:
        return None

    def image(step: Step) -> torch.Tensor:
        return step.image if finish is None else finish(alive[step.index], step.image)

    return lambda step: on_step(replace(step, stage=stage[0], stages=stage[1], index=alive[step.index], images=images,
                                        iteration=step.iteration + done, iterations=iterations,
                                        overall=bases[step.index] + step.iteration, image=image(step)))  # fmt: skip


def _combined(results: list[Result], done_before: int, finish: Finish | None, picture: int,
              config: Config) -> Result:  # fmt: skip
    """The last stage's result as a picture, with the work of all stages counted (and a killed run's
    before), and the weights steered from the config's as they changed over all stages."""
    initial = {"content": config.content_weight, "style": config.style_weight, "tv": config.tv_weight}
    last = results[-1]
    notes = list(dict.fromkeys(r.note for r in results if r.note))  # a stop is heard at every size after it
    image = last.image if finish is None else finish(picture, last.image)
    bases = [done_before + sum(r.iterations for r in results[:k]) for k in range(len(results))]
    changes = picture_changes([(base, r.changes) for base, r in zip(bases, results, strict=True)], initial)
    return replace(last, image=image.cpu(), iterations=done_before + sum(r.iterations for r in results),
                   evaluations=sum(r.evaluations for r in results), note="; ".join(notes) or None,
                   changes=changes)  # fmt: skip
