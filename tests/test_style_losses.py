"""--style-loss: each statistic's error on raw features, and each loss through a run on the tiny network."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from conftest import Run

from stylize.config import STYLE_LOSSES, Config
from stylize.errors import SettingsError
from stylize.io.metadata import read_metadata
from stylize.io.tensors import to_tensor
from stylize.losses.statistics import StyleStatistic, StyleTarget, stack_regions
from stylize.losses.style_losses import style_statistic

DISTRIBUTIONS = ("diagonal", "wasserstein", "sliced")  # they compare distributions: the order of pixels is not seen


def features(seed: int, channels: int = 6, height: int = 8, width: int = 10) -> torch.Tensor:
    """Non-negative, correlated channels, as after a ReLU: (1, C, H, W)."""
    generator = torch.Generator().manual_seed(seed)
    mixing = torch.randn(channels, channels, generator=generator)
    raw = torch.einsum("dc,nchw->ndhw", mixing, torch.randn(1, channels, height, width, generator=generator))
    return (raw + 0.5).relu()


def target_of(statistic: StyleStatistic, *styles: torch.Tensor, shares: tuple[float, ...] = ()) -> StyleTarget:
    return statistic.mix([statistic.describe(s, None) for s in styles], shares or (1 / len(styles),) * len(styles))


def error(statistic: StyleStatistic, output: torch.Tensor, target: StyleTarget) -> float:
    return float(statistic.error(output, target, None, None).sum())


@pytest.mark.parametrize("name", STYLE_LOSSES)
def test_zero_for_the_styles_own_features_and_positive_otherwise(name: str) -> None:
    statistic, style = style_statistic(name), features(1)
    target = target_of(statistic, style)
    assert error(statistic, style, target) == pytest.approx(0, abs=1e-5)
    assert error(statistic, features(2), target) > 0.01


@pytest.mark.parametrize("name", STYLE_LOSSES)
def test_the_gradient_is_finite_and_not_zero(name: str) -> None:
    statistic = style_statistic(name)
    output = features(2, height=4, width=4).requires_grad_()  # few positions, as at relu5_1 of a small picture
    statistic.error(output, target_of(statistic, features(1)), None, None).sum().backward()
    assert output.grad is not None and torch.isfinite(output.grad).all()
    assert output.grad.abs().sum() > 0


@pytest.mark.parametrize("name", STYLE_LOSSES)
def test_an_output_of_another_size_with_the_same_distribution_matches(name: str) -> None:
    """Every statistic is an average over positions: the style's features repeated twice over (another
    number of pixels, the same distribution) are as close as the style itself; a style weight keeps its
    balance at any size."""
    statistic, style = style_statistic(name), features(1)
    target = target_of(statistic, style)
    repeated = style.repeat_interleave(2, dim=-1).repeat_interleave(2, dim=-2)  # (1, C, 16, 20)
    resampling = 2e-3 if name == "sliced" else 1e-5  # sliced: a step function read by linear interpolation
    assert error(statistic, repeated, target) == pytest.approx(0, abs=resampling)
    other = features(2)
    assert error(statistic, other.repeat_interleave(2, dim=-1), target) == pytest.approx(
        error(statistic, other, target), rel=20 * resampling)  # fmt: skip


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_distribution_losses_do_not_see_the_order_of_pixels(name: str) -> None:
    statistic, output = style_statistic(name), features(2)
    target = target_of(statistic, features(1))
    order = torch.randperm(80, generator=torch.Generator().manual_seed(3))
    shuffled = output.reshape(1, 6, 80)[..., order].reshape(output.shape)
    assert error(statistic, shuffled, target) == pytest.approx(error(statistic, output, target), rel=1e-4)


@pytest.mark.parametrize("name", STYLE_LOSSES)
def test_a_blend_of_two_styles_is_the_mixture_of_their_features(name: str) -> None:
    """Two styles blended 1:1 are as one style whose pixels are both styles' pixels; 3:1 leans to the first."""
    statistic, first, second = style_statistic(name), features(1), features(5) * 2
    blend = target_of(statistic, first, second)
    together = target_of(statistic, torch.cat([first, second], dim=-1))
    for seed in (2, 3):
        output = features(seed)
        assert error(statistic, output, blend) == pytest.approx(error(statistic, output, together), rel=1e-3)
    leaning = target_of(statistic, first, second, shares=(0.75, 0.25))
    assert error(statistic, first, leaning) < error(statistic, first, blend)
    assert error(statistic, second, leaning) > error(statistic, second, blend)


def test_the_sliced_loss_is_the_same_for_the_same_seed_and_another_for_another() -> None:
    style, output = features(1), features(2)

    def value(seed: int, draw: int = 0) -> float:
        statistic = style_statistic("sliced", seed, draw)
        return error(statistic, output, target_of(statistic, style))

    assert value(7) == value(7)
    assert value(7) != value(8) and value(7, draw=64) != value(7, draw=128)


@pytest.mark.parametrize("name", STYLE_LOSSES)
def test_regions_each_match_their_own_style(name: str) -> None:
    """An output whose left half has style A's features and right half style B's: zero against the
    region targets A-left, B-right; the regions' errors add up by their shares of the picture."""
    statistic, left_style, right_style = style_statistic(name), features(1), features(5) * 2
    output = torch.cat([left_style[..., :5], right_style[..., 5:]], dim=-1)
    masks = torch.zeros(1, 2, 8, 10)
    masks[:, 0, :, :5], masks[:, 1, :, 5:] = 1, 1
    halves = [statistic.mix([statistic.describe(s, m[:, None])], [1.0])
              for s, m in ((left_style, masks[:, 0]), (right_style, masks[:, 1]))]  # fmt: skip
    shares = masks.mean((-1, -2))
    own = statistic.error(output, stack_regions(halves), masks, shares)
    assert float(own) == pytest.approx(0, abs=1e-4)
    swapped = statistic.error(output, stack_regions(halves[::-1]), masks, shares)
    alone = [float(statistic.error(output, stack_regions([halves[1 - r]]), masks[:, r : r + 1], torch.ones(1, 1)))
             for r in (0, 1)]  # fmt: skip
    assert float(swapped) == pytest.approx(sum(alone) / 2, rel=1e-3) and float(swapped) > 0.01


@pytest.mark.parametrize("name", STYLE_LOSSES)
def test_a_mask_over_everything_is_no_mask(name: str) -> None:
    statistic, output = style_statistic(name), features(2)
    target = target_of(statistic, features(1))
    whole = statistic.error(output, stack_regions([target]), torch.ones(1, 1, 8, 10), torch.ones(1, 1))
    assert float(whole) == pytest.approx(error(statistic, output, target), rel=1e-4)


@pytest.mark.parametrize("name", STYLE_LOSSES)
def test_each_image_of_a_batch_has_its_own_error_and_bf16_features_are_read_in_float32(name: str) -> None:
    statistic = style_statistic(name)
    target = target_of(statistic, features(1))
    batch = torch.cat([features(2), features(3)])
    errors = statistic.error(batch, target, None, None)
    assert errors.shape == (2,)
    assert float(errors[1]) == pytest.approx(error(statistic, features(3), target), rel=1e-4)
    rounded = statistic.error(batch.bfloat16(), target, None, None)
    assert rounded.dtype == torch.float32 and torch.allclose(rounded, errors, rtol=0.05)


def test_an_unknown_style_loss_is_a_settings_error_that_suggests_one() -> None:
    with pytest.raises(SettingsError, match="did you mean 'sliced'"):
        Config(style_loss="slice")


@pytest.mark.parametrize("name", STYLE_LOSSES)
def test_each_style_loss_runs_and_is_recorded(run: Run, tmp_path: Path, name: str) -> None:
    result = run("--style-loss", name, "--iterations", "4", "--size", "64", "--scales", "2")
    assert result.exit_code == 0, result.output
    assert read_metadata(tmp_path / "out.png")["config"]["style_loss"] == name


def test_a_style_loss_with_regions_and_two_styles_runs(run: Run, images: dict[str, Path], tmp_path: Path) -> None:
    from PIL import Image

    left = Image.new("L", (40, 30), 0)
    left.paste(255, (0, 0, 20, 30))
    left.save(tmp_path / "left.png")
    Image.eval(left, lambda v: 255 - v).save(tmp_path / "right.png")
    for name in DISTRIBUTIONS:
        result = run("--style-loss", name, "--style-mask", str(tmp_path / "left.png"), "--style-mask",
                     str(tmp_path / "right.png"), styles=("style", "style2"), out=f"{name}.png")  # fmt: skip
        assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name", STYLE_LOSSES)
def test_the_objective_weighs_each_loss_by_its_balance_and_bf16_agrees(
    weights_file: Callable[[str, str], Path], name: str
) -> None:
    from conftest import pattern_image

    from stylize.network.layers import parse_layer_list
    from stylize.network.loader import load_network
    from stylize.optimize.objective import LossWeights, Objective
    from stylize.optimize.targets import Targets, content_features, style_targets

    config = Config(weights=weights_file("vgg19", "relu2_1"), content_layers=parse_layer_list("relu2_1", "c"),
                    style_layers=parse_layer_list("relu1_1,relu2_1", "s"), device="cpu")  # fmt: skip
    net, statistic = load_network(config), style_statistic(name)
    content, style = to_tensor(pattern_image(48, 36, 1)), to_tensor(pattern_image(40, 40, 2))
    terms = {}
    for dtype in (torch.float32, torch.bfloat16):
        targets = Targets(content_features(net.extractor, net.choice, content, dtype),
                          style_targets(net.extractor, net.choice, [style], None, dtype, statistic))  # fmt: skip
        objective = Objective(net.extractor, net.choice, targets, LossWeights(1.0, 5.0), dtype, statistic)
        terms[dtype] = objective(to_tensor(pattern_image(48, 36, 3)))
    plain = terms[torch.float32]
    assert torch.allclose(plain.total, plain.content + 5.0 * statistic.balance * plain.style)
    assert float(plain.style) > 0.01
    assert float(terms[torch.bfloat16].style) == pytest.approx(float(plain.style), rel=0.1)
