"""A run's network: the layers it hooks, its weights, on its device, ready to share across pictures."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..config import Config
from .devices import resolve_device, use_threads
from .extractor import FeatureExtractor
from .layers import LayerChoice, layer_choice, layer_names
from .weights import load_weights


@dataclass
class Network:
    """A loaded extractor on its device, reusable across runs with the same model and layers."""

    extractor: FeatureExtractor
    choice: LayerChoice
    device: torch.device
    source: str  # where the weights came from


def load_network(config: Config, show_download: bool = False) -> Network:
    """The extractor for `config`'s model, layers and device; a first download of torchvision's
    weights (vgg16, vgg16-bn) draws a progress bar on stderr when `show_download`."""
    choice = layer_choice(config)
    device = resolve_device(config.device)
    use_threads(config.threads)
    names = [lw.name for lw in (*choice.content, *choice.style)]
    depth = max(layer_names(config.model).index(name) for name in names) + 1
    weights = load_weights(config.model, config.weights, show_download, depth)
    extractor = FeatureExtractor(config.model, weights, names).to(device)
    return Network(extractor, choice, device, weights.source)
