"""Harmonize pictures: the Python API (`stylize.harmonize`) and what `transfer_batch` calls for them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from ...config import Config
from ...errors import OptimizationError, SettingsError
from ...io.reading import read_image
from ...network.loader import Network, load_network
from ...optimize.engine import OnStep, Result
from ...optimize.steering import Steering
from ..regions import ASPECT_TOLERANCE, Regions
from .masks import Harmonize, check_masks
from .passes import harmonize_picture
from .strength import estimated_strength, harmonize_weight

if TYPE_CHECKING:
    from ..pictures import Picture


def harmonize(
    composite: Image.Image, painting: Image.Image, masks: Harmonize, config: Config | None = None,
    on_step: OnStep | None = None, network: Network | None = None,
) -> Result:  # fmt: skip
    """`composite` (the painting with an object pasted in) with the pasted region painted like
    `painting` around it; the painting's pixels everywhere else. Usage errors: SettingsError."""
    config = config or Config()
    painting = fitted_painting(composite.size, painting)
    check_masks(masks, composite.size)
    net = network or load_network(config)
    try:
        outcome = harmonize_one(composite.convert("RGB"), painting, masks, config, net, on_step)
    finally:
        if network is None:
            net.extractor.close()
    if isinstance(outcome, OptimizationError):
        raise outcome
    return outcome


def fitted_painting(size: tuple[int, int], painting: Image.Image) -> Image.Image:
    """The painting at the composite's `size` (RGB); SettingsError if their shapes differ by more than 1%."""
    painting = painting.convert("RGB")
    if painting.size == size:
        return painting
    if abs((painting.width / painting.height) / (size[0] / size[1]) - 1) > ASPECT_TOLERANCE:
        raise SettingsError(f"the painting is {painting.width}x{painting.height} and the composite "
                            f"{size[0]}x{size[1]}: harmonizing needs the painting the object was pasted into",
                            hint="give the painting at the composite's size (or the same shape)")  # fmt: skip
    return painting.resize(size, Image.Resampling.LANCZOS)


def check_harmonize_job(content: Path, painting: Path, regions: Regions | None, max_pixels: int,
                        flag: str = "--harmonize") -> None:  # fmt: skip
    """Usage errors of one harmonization, before any work: the painting's shape, the masks at the photo's
    size (`flag`: the mask as the messages name it)."""
    assert regions is not None and regions.harmonize is not None
    size = read_image(content, max_pixels).image.size
    fitted_painting(size, read_image(painting, max_pixels).image)
    check_masks(regions.harmonize, size, flag)


def harmonize_one(
    composite: Image.Image, painting: Image.Image, masks: Harmonize, config: Config, net: Network,
    on_step: OnStep | None = None, resume: Picture | None = None, steering: Steering | None = None,
) -> Result | OptimizationError:  # fmt: skip
    """One harmonization, its style weight from --harmonize-strength or the painting's estimate."""
    strength = config.harmonize_strength or estimated_strength(painting, net.extractor, net.device)
    weight = harmonize_weight(strength, config.style_weight)
    point = None if resume is None or resume.resume is None else (resume.resume.point, resume.resume.image)
    return harmonize_picture(composite, painting, masks, config, net, weight, on_step, point, steering)


def harmonize_batch(pictures: Sequence[Picture], config: Config, net: Network, on_step: OnStep | None = None,
                    steering: Steering | None = None) -> list[Result | OptimizationError]:  # fmt: skip
    """`transfer_batch` for pictures with --harmonize masks: one after the other, each its own painting."""
    outcomes: list[Result | OptimizationError] = []
    for index, picture in enumerate(pictures):
        assert picture.regions is not None and picture.regions.harmonize is not None and len(picture.styles) == 1
        painting = fitted_painting(picture.content.size, picture.styles[0])
        numbered = None if on_step is None else _numbered(on_step, index, len(pictures))
        outcomes.append(harmonize_one(picture.content.convert("RGB"), painting, picture.regions.harmonize, config,
                                      net, numbered, picture, steering))  # fmt: skip
    return outcomes


def _numbered(on_step: OnStep, index: int, images: int) -> OnStep:
    return lambda step: on_step(replace(step, index=index, images=images))
