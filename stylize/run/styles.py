"""The style targets: the blended Gram matrices of each group of styles at each size, computed once."""

from __future__ import annotations

import torch
from PIL import Image

from ..config import Config
from ..io.tensors import resize_exact, to_tensor
from ..network.layers import min_side
from ..network.loader import Network
from ..optimize.objective import style_grams
from .stages import fitted_size


class StyleBank:
    """The Gram matrices of each style group at each size; a batch run shares one bank across batches."""

    def __init__(self, net: Network, config: Config, dtype: torch.dtype) -> None:
        self.net, self.config, self.dtype = net, config, dtype
        self.cache: dict[tuple[tuple[int, ...], int], tuple[tuple[Image.Image, ...], dict[str, torch.Tensor]]] = {}

    def grams(self, styles: tuple[Image.Image, ...], size: int) -> dict[str, torch.Tensor]:
        """layer -> (1, C, C): `styles` scaled to a long side of `size` px, blended by config.style_blend."""
        key = (tuple(id(s) for s in styles), size)  # the cache holds the images, so ids stay theirs
        if key not in self.cache:
            smallest = min_side(self.config)
            tensors = [to_tensor(resize_exact(s, *reversed(fitted_size(s.size, size, smallest)))).to(self.net.device)
                       for s in styles]  # fmt: skip
            grams = style_grams(self.net.extractor, self.net.choice, tensors, self.config.style_blend, self.dtype)
            self.cache[key] = (styles, grams)
        return self.cache[key][1]
