"""--style-mask, --style-source-mask, --content-mask: which style goes where, and where the photo stays.

A mask is any image: where it has transparency, its alpha is the mask; otherwise its lightness
(so a black-and-white drawing, a greyscale PNG or a layer exported with transparency all work).
White means "here", black "not here", grey "partly". Masks are read and checked before any work
and are brought to each picture's size (a mask of another shape is stretched, with a warning).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
import torch
from PIL import Image

from ..config import Config
from ..errors import ImageError, SettingsError
from ..io.reading import read_image
from ..losses.guidance import Guidance
from .harmonize.masks import MARGIN, Harmonize

CONTENT_MASK_GAIN = 9.0  # where --content-mask is white the photo's content counts 1 + 9 = 10 times
ASPECT_TOLERANCE = 0.01  # masks whose width/height differs more from the photo's are stretched with a warning


@dataclass(frozen=True)
class Regions:
    """One picture's masks (mode L; other modes count by their lightness), aligned with its styles."""

    style: tuple[Image.Image, ...] = ()  # where each style applies; (): everywhere, styles blended
    sources: tuple[Image.Image | None, ...] = ()  # the part of each style image to take it from; None: all
    content: Image.Image | None = None  # where the photo must stay
    harmonize: Harmonize | None = None  # the photo is a painting with an object pasted in (run/harmonize/)


MaskFile = Image.Image | Path  # a mask read once for the run, or a template read for each photo
PHOTO_FIELD = "{content}"  # in a mask's path: the photo's file name without its extension


@dataclass(frozen=True)
class Masks:
    """A run's masks, read once (a path with {content}: for each photo), per style file, and the content mask."""

    style: dict[Path, MaskFile]
    sources: dict[Path, Image.Image]
    content: MaskFile | None
    max_pixels: int = 0
    names: dict[int, str] = field(default_factory=dict)  # id(mask) -> its flag and file, for warnings
    harmonize: MaskFile | None = None  # --harmonize: the pasted object
    harmonize_region: MaskFile | None = None  # --harmonize-region: where the picture may change
    margin: float = MARGIN  # --harmonize-margin

    def regions(self, styles: Sequence[Path], photo: Path) -> Regions | None:
        """The masks of `photo` painted in `styles`; None when the run has none. A mask that names the
        photo ({content}) and is missing or unreadable for this photo: SettingsError naming flag and file."""
        if self.harmonize is not None:
            given = self.harmonize_region
            region = None if given is None else self._for(given, "--harmonize-region", photo)
            return Regions(harmonize=Harmonize(self._for(self.harmonize, "--harmonize", photo), region, self.margin))
        if not self.style and not self.sources and self.content is None:
            return None
        style = tuple(self._for(self.style[p], "--style-mask", photo) for p in styles) if self.style else ()
        sources = tuple(self.sources.get(p) for p in styles) if self.sources else ()
        content = None if self.content is None else self._for(self.content, "--content-mask", photo)
        return Regions(style, sources, content)

    def _for(self, mask: MaskFile, flag: str, photo: Path) -> Image.Image:
        if isinstance(mask, Image.Image):
            return mask
        path = Path(str(mask).replace(PHOTO_FIELD, photo.stem))
        read = read_mask(path, flag, self.max_pixels)  # its errors name the photo's own mask file
        self.names[id(read)] = f"{flag} {path}"
        return read

    def notes(self, regions: Regions | None, size: tuple[int, int], what: str) -> list[str]:
        """Warnings for masks whose shape differs from `size` (the photo's) by more than 1%."""
        masks = [] if regions is None else [*regions.style, *([regions.content] if regions.content else [])]
        return [f"{self.names[id(m)]}: {m.width}x{m.height} stretched to {what}'s shape ({size[0]}x{size[1]})"
                for m in masks if not same_shape(m.size, size)]  # fmt: skip


def same_shape(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return abs((a[0] / a[1]) / (b[0] / b[1]) - 1) <= ASPECT_TOLERANCE


def load_masks(config: Config, styles: Sequence[Path]) -> Masks:
    """Read and check every mask of `config` (usage errors name the flag and the file); a path with
    {content} is checked as a template here and read for each photo."""
    for flag, paths in (("--style-mask", config.style_masks), ("--style-source-mask", config.style_source_masks)):
        if paths and len(paths) != len(styles):
            raise SettingsError(f"{flag} given {len(paths)} times for {len(styles)} style images",
                                hint=f"give {flag} once per style, in the order of the styles")  # fmt: skip
    names: dict[int, str] = {}

    def read(flag: str, path: Path, per_photo: bool = True) -> MaskFile:
        if _is_template(path, flag, per_photo):
            return path
        mask = read_mask(path, flag, config.max_pixels)
        names[id(mask)] = f"{flag} {path}"
        return mask

    style = {s: read("--style-mask", m) for s, m in zip(styles, config.style_masks, strict=False)}
    sources = {s: cast(Image.Image, read("--style-source-mask", m, per_photo=False))
               for s, m in zip(styles, config.style_source_masks, strict=False)}  # fmt: skip
    content = read("--content-mask", config.content_mask) if config.content_mask else None
    pasted = read("--harmonize", config.harmonize) if config.harmonize else None
    region = read("--harmonize-region", config.harmonize_region) if config.harmonize_region else None
    return Masks(style, sources, content, config.max_pixels, names, pasted, region, config.harmonize_margin)


def _is_template(path: Path, flag: str, per_photo: bool) -> bool:
    """Whether a mask's path names each photo's own mask ({content}); any other {field}: SettingsError."""
    text = str(path)
    others = re.findall(r"\{[^{}]*\}", text.replace(PHOTO_FIELD, ""))
    if others or (PHOTO_FIELD in text and not per_photo):
        known = "{content} (the photo's name)" if per_photo else "no fields (it is a mask over the style image)"
        raise SettingsError(f"{flag} {path}: unknown field {others[0] if others else PHOTO_FIELD}",
                            hint=f"a mask's path may have {known}")  # fmt: skip
    return PHOTO_FIELD in text


def read_mask(path: Path, flag: str, max_pixels: int) -> Image.Image:
    """A mask file as mode L: its alpha where it has transparency, else its lightness."""
    try:
        decoded = read_image(path, max_pixels)
    except ImageError as err:
        raise SettingsError(f"{flag} {path}: {err.message.removeprefix(f'{path}: ')}") from None
    mask = decoded.alpha if decoded.alpha is not None else decoded.image.convert("L")
    if mask.getextrema()[1] == 0:
        raise SettingsError(f"{flag} {path}: the mask is black everywhere, so it selects nothing",
                            hint="white marks where it applies")  # fmt: skip
    return mask


def mask_tensor(mask: Image.Image, height: int, width: int) -> torch.Tensor:
    """(1, 1, height, width) in [0, 1]: the mask stretched to that size (area-averaged when smaller).
    A mask given through the Python API in another mode than L counts by its lightness."""
    mask = mask if mask.mode == "L" else mask.convert("L")
    if mask.size != (width, height):
        mask = mask.resize((width, height), Image.Resampling.BOX if mask.width > width else Image.Resampling.BILINEAR)
    return torch.from_numpy(np.asarray(mask, dtype=np.float32) / 255.0)[None, None]


def guidance(regions: Regions | None, height: int, width: int, device: torch.device) -> Guidance | None:
    """A picture's guidance at a stage's size (None: no masks)."""
    if regions is None or (not regions.style and regions.content is None):
        return None
    style = torch.cat([mask_tensor(m, height, width) for m in regions.style], 1).to(device) if regions.style else None
    content = None
    if regions.content is not None:
        content = (1 + CONTENT_MASK_GAIN * mask_tensor(regions.content, height, width)).to(device)
    return Guidance(style, content)
