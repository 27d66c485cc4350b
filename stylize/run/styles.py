"""The style targets of each group of styles at each size, computed once (what --style-loss compares).

Blended by --style-blend; or, with --style-mask, each style's own (one region each); with
--style-source-mask, each style's target taken from the part of it its mask covers. Styles seen
through a picture's colour plan (--preserve-colors) depend on that photo and are not kept."""

from __future__ import annotations

from collections.abc import Callable

import torch
from PIL import Image

from ..config import Config
from ..io.tensors import resize_exact, to_tensor
from ..losses.statistics import StyleTarget
from ..losses.style_losses import style_statistic
from ..network.layers import min_side
from ..network.loader import Network
from ..optimize.targets import style_targets
from ..optimize.tiles.tile_grid import Tiling
from .regions import mask_tensor
from .stages import fitted_size

Look = Callable[[torch.Tensor], torch.Tensor]  # a style image (1, 3, H, W) -> as the targets see it
Sources = tuple[Image.Image | None, ...]  # per style, the part of it to take the style from (None: all)


class StyleBank:
    """The targets of each style group at each size; a batch run shares one bank across batches."""

    def __init__(self, net: Network, config: Config, dtype: torch.dtype) -> None:
        self.net, self.config, self.dtype = net, config, dtype
        self.cache: dict[tuple[object, ...], tuple[object, dict[str, StyleTarget]]] = {}

    def targets(
        self, styles: tuple[Image.Image, ...], size: int, look: Look | None = None, sources: Sources = (),
        regions: bool = False, tiling: Tiling | None = None,
    ) -> dict[str, StyleTarget]:  # fmt: skip
        """`styles` scaled to a long side of `size` px (seen through `look`, taken from their
        `sources`): layer -> parts (1, ...) blended by config.style_blend, or with `regions` (1, R, ...);
        computed a tile at a time with `tiling` (the same targets, in less memory)."""
        key = (tuple(id(s) for s in styles), size, tuple(id(m) for m in sources), regions)  # the cache holds them
        if look is None and key in self.cache:
            return self.cache[key][1]
        smallest = min_side(self.config)
        tensors = [to_tensor(resize_exact(s, *reversed(fitted_size(s.size, size, smallest)))).to(self.net.device)
                   for s in styles]  # fmt: skip
        if look is not None:
            tensors = [look(t) for t in tensors]
        masks = [None if m is None else mask_tensor(m, *t.shape[-2:]).to(t.device)
                 for m, t in zip(sources or (None,) * len(styles), tensors, strict=True)]  # fmt: skip
        statistic = style_statistic(self.config.style_loss, self.config.seed, draw=size)  # new directions per size
        targets = style_targets(self.net.extractor, self.net.choice, tensors, self.config.style_blend, self.dtype,
                                statistic, masks, regions, tiling)  # fmt: skip
        if look is None:
            self.cache[key] = ((styles, sources), targets)
        return targets
