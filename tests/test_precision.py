"""Reduced precision of the network: which dtype `auto` picks, and that gradients survive it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from conftest import compute_targets, pattern_image

from stylize.config import Config
from stylize.errors import SettingsError
from stylize.io.tensors import to_tensor
from stylize.network import precision
from stylize.network.layers import parse_layer_list
from stylize.network.loader import load_network
from stylize.optimize.objective import LossWeights, Objective

CPU = torch.device("cpu")


def test_explicit_precisions_map_to_dtypes() -> None:
    assert precision.resolve_precision("fp32", CPU) == torch.float32
    assert precision.resolve_precision("bf16", CPU) == torch.bfloat16
    assert precision.resolve_precision("fp16", CPU) == torch.float16
    with pytest.raises(SettingsError, match="MPS"):
        precision.resolve_precision("fp16", torch.device("mps"))
    with pytest.raises(SettingsError, match="unknown precision"):
        precision.resolve_precision("int8", CPU)


@pytest.mark.parametrize("native", [True, False])
def test_auto_uses_bf16_on_a_cpu_only_where_it_is_native(monkeypatch: pytest.MonkeyPatch, native: bool) -> None:
    monkeypatch.setattr(precision, "_cpu_has_native_bf16", lambda: native)
    assert precision.resolve_precision("auto", CPU) == (torch.bfloat16 if native else torch.float32)
    assert precision.resolve_precision("auto", torch.device("mps")) == torch.float32


def _objective(weights: Path, dtype: torch.dtype) -> Objective:
    config = Config(weights=weights, content_layers=parse_layer_list("relu3_1", "c"), device="cpu",
                    style_layers=parse_layer_list("relu1_1,relu2_1,relu3_1", "s"))  # fmt: skip
    net = load_network(config)
    content, style = to_tensor(pattern_image(64, 48, 1)), to_tensor(pattern_image(64, 64, 2))
    targets = compute_targets(net.extractor, net.choice, content, [style], dtype=dtype)
    return Objective(net.extractor, net.choice, targets, LossWeights(1.0, 5.0, 0.0), dtype=dtype)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_gives_the_float32_loss_and_gradient(
    weights_file: Callable[[str, str], Path], dtype: torch.dtype
) -> None:
    weights = weights_file("vgg19", "relu3_1")
    image = to_tensor(pattern_image(64, 48, 7))
    results = []
    for d in (torch.float32, dtype):
        pixels = image.clone().requires_grad_(True)
        terms = _objective(weights, d)(pixels)
        (terms.total * pixels[0, 0].numel()).backward()  # the engine's loss scaling
        assert terms.total.dtype == torch.float32, "losses must stay float32"
        assert pixels.grad is not None and pixels.grad.dtype == torch.float32
        results.append((terms.total.item(), pixels.grad.flatten()))
    (loss32, grad32), (loss16, grad16) = results
    assert loss16 != loss32, "the network must really have run in reduced precision"
    assert loss16 == pytest.approx(loss32, rel=0.03)
    assert torch.nn.functional.cosine_similarity(grad32, grad16, dim=0) > 0.98
    assert (grad16 == 0).float().mean() < 0.01, "gradients must not underflow to zero"


def test_tf32_products_are_on_during_a_cuda_evaluation_and_the_setting_comes_back() -> None:
    from stylize.network.precision import tf32_products

    matmul = torch.backends.cuda.matmul
    before = matmul.allow_tf32
    try:
        matmul.allow_tf32 = False
        with tf32_products(torch.device("cuda")):
            assert matmul.allow_tf32
        assert not matmul.allow_tf32
        with tf32_products(torch.device("cpu")):
            assert not matmul.allow_tf32
    finally:
        matmul.allow_tf32 = before
