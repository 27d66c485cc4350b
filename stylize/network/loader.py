"""A run's network: the layers it hooks, its weights, on its device, ready to share across pictures."""

from __future__ import annotations

import contextlib
import threading
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
    warming = _warm(device)  # the CUDA context and libraries start while the weights are read
    weights = load_weights(config.model, config.weights, show_download, depth)
    if warming is not None:
        warming.join()
    extractor = FeatureExtractor(config.model, weights, names).to(device)
    return Network(extractor, choice, device, weights.source)


def _warm(device: torch.device) -> threading.Thread | None:
    """On CUDA, a thread that creates the context and loads cuBLAS and cuDNN (a convolution and a matrix
    product, forward and backward) while the host reads the weights; each takes a good part of a second."""
    if device.type != "cuda":
        return None

    def warm() -> None:
        with contextlib.suppress(Exception):  # a failure here shows itself again, with its message, in the run
            x = torch.ones(1, 3, 8, 8, device=device, requires_grad=True)
            w = torch.ones(4, 3, 3, 3, device=device)
            y = torch.nn.functional.conv2d(x, w, padding=1).flatten(1)
            (y @ y.T).sum().backward()  # type: ignore[no-untyped-call]
            torch.cuda.synchronize(device)

    thread = threading.Thread(target=warm, name="stylize-cuda-warm-up", daemon=True)
    thread.start()
    return thread
