from __future__ import annotations

import pytest
import torch
from conftest import random_state

from stylize.errors import WeightsError
from stylize.network.extractor import CAFFE_MEAN_BGR, FeatureExtractor, InputNormalization, frozen_vgg
from stylize.network.layers import layer_names
from stylize.network.weights import NetworkWeights


def _weights(model: str, depth: int, style: str = "torchvision") -> NetworkWeights:
    state = {k.removeprefix("features."): v for k, v in random_state(model, depth).items()}
    return NetworkWeights(state, style, "test")


def test_hooks_capture_the_named_layers() -> None:
    names = layer_names("vgg19")
    weights = _weights("vgg19", names.index("relu3_1") + 1)
    extractor = FeatureExtractor("vgg19", weights, ["conv1_2", "pool2", "relu2_1", "relu3_1"])
    image = torch.rand(1, 3, 32, 24)
    captured = extractor(image)
    assert set(captured) == {"conv1_2", "pool2", "relu2_1", "relu3_1"}
    assert captured["pool2"].shape == (1, 128, 8, 6)
    # recompute by hand, module by module
    x = extractor.normalize(image)
    manual = {}
    for name, module in zip(names, extractor.net, strict=False):
        x = module(x)
        manual[name] = x
    for name, value in captured.items():
        assert torch.equal(value, manual[name])
    assert captured["relu3_1"].shape == (1, 256, 8, 6)


def test_network_is_cut_after_the_deepest_layer_and_frozen() -> None:
    names = layer_names("vgg19")
    weights = _weights("vgg19", names.index("relu4_2") + 1)
    extractor = FeatureExtractor("vgg19", weights, ["relu1_1", "relu2_1"])
    assert len(extractor.net) == names.index("relu2_1") + 1
    assert all(not p.requires_grad for p in extractor.parameters())


def test_captured_conv_output_is_not_overwritten_by_relu() -> None:
    weights = _weights("vgg19", 2)
    extractor = FeatureExtractor("vgg19", weights, ["conv1_1", "relu1_1"])
    out = extractor(torch.rand(1, 3, 16, 16))
    assert (out["conv1_1"] < 0).any(), "a pre-ReLU activation must keep its negative values"
    assert torch.equal(out["relu1_1"], out["conv1_1"].clamp(min=0))


def test_each_forward_returns_fresh_activations_and_close_removes_hooks() -> None:
    extractor = FeatureExtractor("vgg19", _weights("vgg19", 2), ["relu1_1"])
    first = extractor(torch.zeros(1, 3, 8, 8))["relu1_1"].clone()
    second = extractor(torch.ones(1, 3, 8, 8))["relu1_1"]
    assert not torch.equal(first, second)
    extractor.close()
    assert extractor(torch.ones(1, 3, 8, 8)) == {}


def test_caffe_normalisation_is_bgr_0_255_minus_mean() -> None:
    norm = InputNormalization("caffe")
    image = torch.zeros(1, 3, 2, 2)
    image[:, 0] = 1.0  # pure red
    out = norm(image)
    assert torch.allclose(
        out[0, :, 0, 0], torch.tensor([-CAFFE_MEAN_BGR[0], -CAFFE_MEAN_BGR[1], 255 - CAFFE_MEAN_BGR[2]])
    )


def test_torchvision_normalisation_uses_imagenet_statistics() -> None:
    out = InputNormalization("torchvision")(torch.full((1, 3, 1, 1), 0.485))
    assert abs(out[0, 0, 0, 0].item()) < 1e-6


def test_missing_and_misshapen_weights_are_clear_errors() -> None:
    weights = _weights("vgg19", 2)
    with pytest.raises(WeightsError, match="lack"):
        frozen_vgg("vgg19", 5, weights)
    bad = dict(weights.state)
    bad["0.weight"] = torch.zeros(64, 3, 5, 5)
    with pytest.raises(WeightsError, match="shape"):
        frozen_vgg("vgg19", 2, NetworkWeights(bad, "torchvision", "bad.pth"))


def test_batch_norm_network_loads_and_runs() -> None:
    names = layer_names("vgg16-bn")
    extractor = FeatureExtractor("vgg16-bn", _weights("vgg16-bn", names.index("relu2_1") + 1), ["bn1_1", "relu2_1"])
    out = extractor(torch.rand(1, 3, 16, 16))
    assert out["relu2_1"].shape == (1, 128, 8, 8)
