"""The hooked VGG feature extractor: named layers, forward hooks, truncation, input normalisation.

The network is built only up to the deepest layer a loss needs, its weights are frozen, and its
ReLUs are out-of-place so that an activation a hook captured is never overwritten. Hooks are
registered on the named modules and removed by `close()`. What the hooks capture is kept per
thread, so that worker threads may run the same extractor on different images at once.
"""

from __future__ import annotations

import copy
import threading

import torch
from torch import nn

from ..errors import WeightsError
from .layers import architecture, layer_names
from .weights import NetworkWeights

CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class InputNormalization(nn.Module):
    """RGB in [0, 1] -> what the weights were trained on."""

    scale: torch.Tensor
    shift: torch.Tensor

    def __init__(self, input_style: str) -> None:
        super().__init__()
        self.caffe = input_style == "caffe"
        if self.caffe:  # BGR, 0-255, minus the mean pixel
            shift, scale = torch.tensor(CAFFE_MEAN_BGR), torch.full((3,), 255.0)
        else:  # RGB, ImageNet mean and std
            shift = torch.tensor(IMAGENET_MEAN) / torch.tensor(IMAGENET_STD)
            scale = 1 / torch.tensor(IMAGENET_STD)
        self.register_buffer("scale", scale.view(1, 3, 1, 1))
        self.register_buffer("shift", shift.view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, H, W) -> (N, 3, H, W)
        if self.caffe:
            x = x.flip(1)
        return x * self.scale - self.shift


def vgg_skeleton(model: str, depth: int) -> nn.Sequential:
    """The first `depth` modules of a VGG feature stack, torchvision's layout, on the meta device."""
    plan, batch_norm = architecture(model)
    modules: list[nn.Module] = []
    channels = 3
    with torch.device("meta"):
        for item in plan:
            if item == "M":
                modules.append(nn.MaxPool2d(2, 2))
                continue
            assert isinstance(item, int)
            modules.append(nn.Conv2d(channels, item, 3, padding=1))
            if batch_norm:
                modules.append(nn.BatchNorm2d(item))
            modules.append(nn.ReLU(inplace=False))  # out-of-place: hooks keep what they saw
            channels = item
    return nn.Sequential(*modules[:depth])


def frozen_vgg(model: str, depth: int, weights: NetworkWeights) -> nn.Sequential:
    """The skeleton filled with `weights` (checked key by key and shape by shape), frozen, in evaluation mode."""
    net = vgg_skeleton(model, depth)
    expected = net.state_dict()
    state = {k: v for k, v in weights.state.items() if k in expected}
    missing = [k for k in expected if k not in state]
    if missing:
        raise WeightsError(
            f"weights from {weights.source} lack {len(missing)} entries for {model} (first: {missing[0]!r})",
            hint=f"check that the file holds {model} weights",
        )
    for key, tensor in state.items():
        if tuple(tensor.shape) != tuple(expected[key].shape):
            raise WeightsError(
                f"weights from {weights.source}: {key!r} has shape {tuple(tensor.shape)}, "
                f"{model} needs {tuple(expected[key].shape)}",
                hint=f"check that the file holds {model} weights",
            )
    net.load_state_dict(state, assign=True)
    net.eval().requires_grad_(False)
    return net


class FeatureExtractor(nn.Module):
    """Calls the network on an RGB [0, 1] image and returns the activations of `layers`."""

    def __init__(self, model: str, weights: NetworkWeights, layers: list[str]) -> None:
        super().__init__()
        names = layer_names(model)
        self.layers = list(dict.fromkeys(layers))
        depth = max(names.index(n) for n in self.layers) + 1  # cut after the deepest used layer
        self.normalize = InputNormalization(weights.input_style)
        self.net = frozen_vgg(model, depth, weights)
        self._local = threading.local()  # .captured: this thread's activations of its current forward
        self._positions = [names.index(name) for name in self.layers]
        self._handles = self._hooked(self.net)
        self._cast: dict[torch.dtype, nn.Sequential] = {}  # the network in lower precisions, made on first use
        self._casting = threading.Lock()

    def _hooked(self, net: nn.Sequential) -> list[torch.utils.hooks.RemovableHandle]:
        return [net[at].register_forward_hook(self._capture(name)) for at, name in zip(self._positions, self.layers,
                                                                                         strict=True)]  # fmt: skip

    def in_precision(self, dtype: torch.dtype) -> nn.Sequential:
        """The network with its weights in `dtype`, cast once (autocast would cast the frozen weights again
        on every forward pass: it caches only weights that require grad)."""
        if dtype == torch.float32:
            return self.net
        with self._casting:
            if dtype not in self._cast:
                cast = copy.deepcopy(self.net).to(dtype)
                for module in cast.modules():
                    module._forward_hooks.clear()
                self._handles += self._hooked(cast)
                self._cast[dtype] = cast
        return self._cast[dtype]

    def _capture(self, name: str):  # type: ignore[no-untyped-def]
        def hook(module: nn.Module, inputs: object, output: torch.Tensor) -> None:
            captured = getattr(self._local, "captured", None)
            if captured is not None:  # None: the network was called directly, not through forward()
                captured[name] = output

        return hook

    def forward(self, image: torch.Tensor, dtype: torch.dtype = torch.float32) -> dict[str, torch.Tensor]:
        """(N, 3, H, W) float32 -> {name: (N, C, h, w)} in `dtype` (the input is normalised in float32)."""
        net = self.in_precision(dtype)
        self._local.captured = {}  # fresh every call: never hand out a previous forward's tensors
        net(self.normalize(image).to(dtype))
        captured: dict[str, torch.Tensor] = self._local.captured
        self._local.captured = {}
        return captured

    def close(self) -> None:
        """Remove the hooks; the extractor returns nothing afterwards."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._cast.clear()
