from __future__ import annotations

import pytest
import torch

from stylize.config import LayerWeight
from stylize.losses.core import content_loss, gram, relative_mse, style_loss, total_variation


def test_gram_is_normalised_channel_dot_products() -> None:
    features = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
    g = gram(features)
    assert g.shape == (2, 3, 3)
    flat = features[1].reshape(3, 20)
    assert torch.allclose(g[1, 0, 2], (flat[0] * flat[2]).sum() / 60)
    assert torch.allclose(g, g.transpose(1, 2))


def test_gram_does_not_grow_with_image_size() -> None:
    tile = torch.rand(1, 8, 6, 6)
    big = tile.repeat(1, 1, 4, 4)  # the same texture on 16x the area
    assert torch.allclose(gram(tile), gram(big), rtol=1e-5)


def test_relative_mse_is_scale_free() -> None:
    target = torch.rand(1, 4, 5, 5)
    value = target + 0.1 * torch.randn_like(target)
    assert torch.allclose(relative_mse(value, target), relative_mse(value * 1000, target * 1000), rtol=1e-4)
    assert torch.isclose(relative_mse(torch.zeros_like(target), target), torch.tensor(1.0), rtol=1e-5)
    assert relative_mse(target, target).item() == 0.0


def test_style_and_content_losses_are_zero_at_their_targets_and_weighted() -> None:
    feats = {"a": torch.rand(1, 4, 6, 6), "b": torch.rand(1, 8, 3, 3)}
    grams = {k: gram(v) for k, v in feats.items()}
    layers = (LayerWeight("a", 1.0), LayerWeight("b", 3.0))
    assert style_loss(feats, grams, layers).item() == 0.0
    assert content_loss(feats, feats, layers).item() == 0.0
    zero = {k: torch.zeros_like(v) for k, v in feats.items()}
    # relative error of an all-zero image is 1 on every layer, so the weighted mean is 1
    assert torch.isclose(content_loss(zero, feats, layers), torch.tensor(1.0), rtol=1e-5)
    only_b_wrong = {"a": feats["a"], "b": torch.zeros_like(feats["b"])}
    assert torch.isclose(style_loss(only_b_wrong, grams, layers), torch.tensor(0.75), rtol=1e-4)


def test_total_variation_is_zero_for_flat_and_positive_for_noise() -> None:
    assert total_variation(torch.full((1, 3, 8, 8), 0.3)).item() == 0.0
    assert total_variation(torch.rand(1, 3, 8, 8)).item() > 0.05


def test_every_term_is_per_image_and_independent_of_the_other_images() -> None:
    feats = {"a": torch.rand(3, 4, 6, 6)}
    layers = (LayerWeight("a", 1.0),)
    targets = {"a": torch.rand(3, 4, 6, 6)}
    grams = {"a": gram(torch.rand(1, 4, 6, 6))}  # one style shared by all three images
    together = content_loss(feats, targets, layers)
    alone = torch.cat([content_loss({"a": feats["a"][i : i + 1]}, {"a": targets["a"][i : i + 1]}, layers)
                       for i in range(3)])  # fmt: skip
    assert together.shape == (3,) and torch.allclose(together, alone)
    style = style_loss(feats, grams, layers)
    assert style.shape == (3,)
    assert torch.allclose(style[1:2], style_loss({"a": feats["a"][1:2]}, grams, layers))
    image = torch.rand(2, 3, 5, 5)
    assert total_variation(image).shape == (2,)
    assert torch.allclose(total_variation(image)[1:], total_variation(image[1:]))


@pytest.mark.parametrize("rows", [1, 3])
def test_fused_terms_equal_the_written_out_losses_with_their_gradients(rows: int) -> None:
    """losses.fused against losses.core: values in float64, gradients by autograd through core, and in
    bfloat16 features the value and gradient come back in float32 and bfloat16 as the network needs.
    (core computes in float32; the references here are its formulas in float64.)"""

    def gram64(f: torch.Tensor) -> torch.Tensor:
        flat = f.reshape(f.shape[0], f.shape[1], -1)
        return flat @ flat.mT / flat[0].numel()

    def relative64(value: torch.Tensor, target: torch.Tensor) -> torch.Tensor:  # core.relative_mse in float64
        target = target.expand_as(value)
        return (value - target).pow(2).flatten(1).mean(1) / (target.pow(2).flatten(1).mean(1) + 1e-8)

    from stylize.losses.fused import content_error, gram_error, prepare_content, prepare_gram

    generator = torch.Generator().manual_seed(rows)
    features = torch.randn(3, 8, 5, 6, generator=generator, dtype=torch.float64, requires_grad=True)
    style = torch.randn(rows, 8, 8, generator=generator, dtype=torch.float64)
    style = style @ style.mT  # a Gram-like target, 1 row shared or one per image
    photo = torch.randn(3, 8, 5, 6, generator=generator, dtype=torch.float64)
    for fused, written in [
        (lambda f: gram_error(f, prepare_gram(style, 0.25)), lambda f: 0.25 * relative64(gram64(f), style)),
        (lambda f: content_error(f, prepare_content(photo, 0.5)), lambda f: 0.5 * relative64(f, photo)),
    ]:
        ours, theirs = fused(features), written(features)
        torch.testing.assert_close(ours, theirs, rtol=1e-10, atol=1e-12)
        weights = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
        (mine,) = torch.autograd.grad((ours * weights).sum(), features)
        (reference,) = torch.autograd.grad((theirs * weights).sum(), features)
        torch.testing.assert_close(mine, reference, rtol=1e-10, atol=1e-12)
    low = features.detach().to(torch.bfloat16).requires_grad_(True)
    error = gram_error(low, prepare_gram(style.float(), 1.0))
    error.sum().backward()  # type: ignore[no-untyped-call]
    assert error.dtype == torch.float32 and low.grad is not None and low.grad.dtype == torch.bfloat16
