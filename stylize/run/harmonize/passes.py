"""A harmonization from start to end: pass 1 at half size, pass 2 at full size, the painting outside.

Each pass optimises only a crop around the region (the region's box plus CONTEXT of the long side
on every side, so the network sees what surrounds the paste), blended into the painting; the
painting's features, which the region's patches are matched against, are those of all of it.
Outside the crop, and outside the region inside it, the picture is the painting's pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ...config import Config
from ...errors import OptimizationError
from ...io.tensors import resize_exact, to_tensor
from ...network.layers import min_side
from ...network.loader import Network
from ...network.precision import resolve_precision
from ...optimize.engine import OnStep, OptimizerSettings, Result, Step, optimize_batch
from ...optimize.evaluation import evaluation_for
from ...optimize.harmonized import HarmonizedObjective, RegionAims
from ...optimize.objective import LossWeights
from ...optimize.steering import Steering
from ..stages import ResumePoint, harmonize_stages, stage_sizes
from . import aims
from .finishing import denoised
from .masks import Harmonize, blend_weights, region_mask

CONTEXT = 0.08  # share of the long side seen around the region's box
HISTOGRAM_SHARE = 1.0  # the histogram loss's weight in pass 2, as a share of the style weight
TV_WEIGHT = 1e-3  # total variation in pass 2 (pass 1 has none, as in the paper)
FIRST_STYLE_SHARE = 1.0  # pass 1's style weight as a share of pass 2's


@dataclass(frozen=True)
class Scene:
    """One pass's pictures at its size: composite, painting, region and blend, as tensors on the device."""

    composite: torch.Tensor  # (1, 3, H, W)
    painting: torch.Tensor  # (1, 3, H, W)
    region: torch.Tensor  # (1, 1, H, W) float, 1 inside
    blend: torch.Tensor  # (1, 1, H, W)
    box: tuple[int, int, int, int]  # top, left, bottom, right of the crop that is optimised

    def crop(self, image: torch.Tensor) -> torch.Tensor:
        top, left, bottom, right = self.box
        return image[..., top:bottom, left:right]

    def pasted(self, crop: torch.Tensor) -> torch.Tensor:
        """The full picture: the painting with `crop` (already blended) in its box."""
        top, left, bottom, right = self.box
        whole = self.painting.clone()
        whole[..., top:bottom, left:right] = crop
        return whole


def scene(composite: Image.Image, painting: Image.Image, masks: Harmonize, size: tuple[int, int], least: int,
          device: torch.device) -> Scene:  # fmt: skip
    width, height = size
    region = region_mask(masks, height, width)
    blend = blend_weights(region, masks.margin / 100 * max(width, height))
    box = _box(region, round(CONTEXT * max(width, height)), least)
    return Scene(to_tensor(resize_exact(composite, height, width)).to(device),
                 to_tensor(resize_exact(painting, height, width)).to(device),
                 torch.from_numpy(region.astype(np.float32))[None, None].to(device), blend.to(device), box)  # fmt: skip


def _box(region: np.ndarray, context: int, least: int) -> tuple[int, int, int, int]:
    """The region's bounding box grown by `context` px, at least `least` px each way, inside the picture."""
    rows, cols = np.nonzero(region.any(1))[0], np.nonzero(region.any(0))[0]
    height, width = region.shape
    top, bottom = _span(int(rows[0]) - context, int(rows[-1]) + 1 + context, least, height)
    left, right = _span(int(cols[0]) - context, int(cols[-1]) + 1 + context, least, width)
    return top, left, bottom, right


def _span(start: int, end: int, least: int, limit: int) -> tuple[int, int]:
    grow = max(0, least - (end - start))
    start, end = start - grow // 2, end + grow - grow // 2
    shift = max(0, -start) - max(0, end - limit)
    return max(0, start + shift), min(limit, end + shift)


def harmonize_picture(
    composite: Image.Image, painting: Image.Image, masks: Harmonize, config: Config, net: Network,
    strength: float, on_step: OnStep | None = None, resume: tuple[ResumePoint, Image.Image] | None = None,
    steering: Steering | None = None,
) -> Result | OptimizationError:  # fmt: skip
    """The composite with its region painted like `painting` (same size), at the config's size.
    `strength`: the harmonization's style weight (run/harmonize/strength.py)."""
    dtype = resolve_precision(config.precision, net.device)
    least = min_side(config)
    stages = harmonize_stages(config)  # pass 1 at half the size ("low-resolution"), pass 2 at the size
    sizes = stage_sizes(composite.size, config, stages)
    point = resume[0] if resume else ResumePoint(1, 0, 0)
    previous: torch.Tensor | None = None  # the last pass's full picture
    results: list[Result] = []
    evaluate, release = evaluation_for(net.device, 1)
    try:
        for number, size in enumerate(sizes, 1):
            if number < point.stage:
                continue
            at = scene(composite, painting, masks, size, least, net.device)
            already = point.done if number == point.stage else 0
            if resume is not None and number == point.stage:
                previous = to_tensor(resize_exact(resume[1], size[1], size[0])).to(net.device)
            start = at.composite if previous is None else _resized(previous, at.composite)
            objective = _objective(net, dtype, config, at, start, number, strength)
            cap, until = stages[number - 1].iterations, stages[number - 1].until
            settings = OptimizerSettings(config.optimizer, max(1, cap - already), config.learning_rate, until)
            base = point.total_done + sum(r.iterations for r in results)
            reported = _reported(on_step, at, objective.aims, number, len(sizes), already, cap, base)
            (done,) = optimize_batch(objective, at.crop(start), settings, reported, evaluate, steering)
            if isinstance(done, OptimizationError):
                if isinstance(done.image, torch.Tensor):
                    done.image = at.pasted(objective.aims.picture(done.image)).cpu()
                return done
            previous = at.pasted(objective.aims.picture(done.image))
            final = denoised(previous, at.painting, at.blend) if number == len(sizes) else previous
            results.append(replace(done, image=final))
    finally:
        release()
    return _combined(results, point.total_done)


def _resized(image: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    if image.shape[-2:] == like.shape[-2:]:
        return image
    return F.interpolate(image, size=like.shape[-2:], mode="bicubic", align_corners=False).clamp(0, 1)


def _objective(net: Network, dtype: torch.dtype, config: Config, at: Scene, start: torch.Tensor, number: int,
               strength: float) -> HarmonizedObjective:  # fmt: skip
    extractor = net.extractor
    layers = sorted({*aims.FIRST_STYLE, *aims.SECOND_STYLE, *aims.CONTENT})
    painting = aims.extract(extractor, at.painting, dtype, layers)
    composite = aims.extract(extractor, at.crop(at.composite), dtype, layers)
    base, blend, region = at.crop(at.painting), at.crop(at.blend), at.crop(at.region)
    if number == 1:
        targets = aims.first_pass(composite, painting, region, base, blend)
        weights = LossWeights(config.content_weight, strength * FIRST_STYLE_SHARE)
        return HarmonizedObjective(extractor, net.choice, targets, weights, 0.0, dtype)
    begun = aims.extract(extractor, at.crop(start), dtype, layers)
    targets = aims.second_pass(begun, composite, painting, region, base, blend)
    weights = LossWeights(config.content_weight, strength, TV_WEIGHT)
    return HarmonizedObjective(extractor, net.choice, targets, weights, HISTOGRAM_SHARE, dtype)


def _reported(on_step: OnStep | None, at: Scene, region: RegionAims, number: int, passes: int, done: int,
              iterations: int, base: int) -> OnStep | None:  # fmt: skip
    """Steps numbered by pass and over both, their images the whole picture."""
    if on_step is None:
        return None

    def report(step: Step) -> None:
        on_step(replace(step, stage=number, stages=passes, iteration=step.iteration + done, iterations=iterations,
                        overall=base + step.iteration, image=at.pasted(region.picture(step.image))))  # fmt: skip

    return report


def _combined(results: list[Result], before: int) -> Result:
    last = results[-1]
    notes = list(dict.fromkeys(r.note for r in results if r.note))
    return replace(last, image=last.image.cpu(), iterations=before + sum(r.iterations for r in results),
                   evaluations=sum(r.evaluations for r in results), note="; ".join(notes) or None)  # fmt: skip
