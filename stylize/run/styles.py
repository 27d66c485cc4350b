"""The style targets: the Gram matrices of each group of styles at each size, computed once.

Blended by --style-blend; or, with --style-mask, each style's own (one region each); with
--style-source-mask, each style's Gram taken from the part of it its mask covers. Styles seen
through a picture's colour plan (--preserve-colors) depend on that photo and are not kept."""

from __future__ import annotations

from collections.abc import Callable

import torch
from PIL import Image

from ..config import Config
from ..io.tensors import resize_exact, to_tensor
from ..network.layers import min_side
from ..network.loader import Network
from ..optimize.objective import blend_shares, region_grams, style_grams
from .regions import mask_tensor
from .stages import fitted_size

Look = Callable[[torch.Tensor], torch.Tensor]  # a style image (1, 3, H, W) -> as the targets see it
Sources = tuple[Image.Image | None, ...]  # per style, the part of it to take the style from (None: all)


class StyleBank:
    """The Gram matrices of each style group at each size; a batch run shares one bank across batches."""

    def __init__(self, net: Network, config: Config, dtype: torch.dtype) -> None:
        self.net, self.config, self.dtype = net, config, dtype
        self.cache: dict[tuple[object, ...], tuple[object, dict[str, torch.Tensor]]] = {}

    def grams(
        self, styles: tuple[Image.Image, ...], size: int, look: Look | None = None, sources: Sources = (),
        regions: bool = False,
    ) -> dict[str, torch.Tensor]:  # fmt: skip
        """`styles` scaled to a long side of `size` px (seen through `look`, taken from their
        `sources`): layer -> (1, C, C) blended by config.style_blend, or with `regions` (1, R, C, C)."""
        key = (tuple(id(s) for s in styles), size, tuple(id(m) for m in sources), regions)  # the cache holds them
        if look is None and key in self.cache:
            return self.cache[key][1]
        smallest = min_side(self.config)
        tensors = [to_tensor(resize_exact(s, *reversed(fitted_size(s.size, size, smallest)))).to(self.net.device)
                   for s in styles]  # fmt: skip
        if look is not None:
            tensors = [look(t) for t in tensors]
        if not sources and not regions:
            grams = style_grams(self.net.extractor, self.net.choice, tensors, self.config.style_blend, self.dtype)
        else:
            masks = [None if m is None else mask_tensor(m, *t.shape[-2:]).to(t.device)
                     for m, t in zip(sources or (None,) * len(styles), tensors, strict=True)]  # fmt: skip
            grams = region_grams(self.net.extractor, self.net.choice, tensors, masks, self.dtype)
            if not regions:  # one blend of the styles' source parts
                shares = torch.tensor(blend_shares(self.config.style_blend, len(styles)), device=self.net.device)
                grams = {k: (g * shares.view(1, -1, 1, 1)).sum(1) for k, g in grams.items()}
        if look is None:
            self.cache[key] = ((styles, sources), grams)
        return grams
