from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from stylize.config import Config
from stylize.engine import Step, optimize
from stylize.errors import OptimizationError
from stylize.images import load_image, resize_long_side, to_tensor
from stylize.layers import parse_layer_list
from stylize.objective import LossTerms, Objective, compute_targets
from stylize.pipeline import load_network


@pytest.fixture
def setup(weights_file: Callable[[str, str], Path], images: dict[str, Path]) -> tuple[Objective, torch.Tensor, Config]:
    config = Config(
        weights=weights_file("vgg19", "relu2_1"),
        content_layers=parse_layer_list("relu2_1", "c"),
        style_layers=parse_layer_list("relu1_1,relu2_1", "s"),
        size=40,
        iterations=8,
        device="cpu",
    )
    net = load_network(config)
    content = to_tensor(resize_long_side(load_image(images["content"]), 40))
    style = to_tensor(resize_long_side(load_image(images["style"]), 40))
    targets = compute_targets(net.extractor, net.choice, content, [style])
    objective = Objective(net.extractor, net.choice, targets, config.content_weight, config.style_weight, 0.1)
    return objective, content, config


def test_lbfgs_runs_every_iteration_and_lowers_the_loss(setup: tuple[Objective, torch.Tensor, Config]) -> None:
    objective, content, config = setup
    steps: list[Step] = []
    start = objective(content).total.item()
    result = optimize(objective, content, config, steps.append)
    assert [s.iteration for s in steps] == list(range(1, config.iterations + 1))
    assert result.iterations == config.iterations and result.note is None
    assert result.loss < 0.5 * start
    assert all(b.loss <= a.loss + 1e-6 for a, b in itertools.pairwise(steps)), "line search must descend"
    assert result.evaluations >= config.iterations
    assert result.image.min() >= 0 and result.image.max() <= 1
    assert not torch.equal(result.image, content)


def test_adam_lowers_the_loss_and_stays_in_range(setup: tuple[Objective, torch.Tensor, Config]) -> None:
    objective, content, config = setup
    config = replace(config, optimizer="adam", iterations=20, learning_rate=0.05)
    start = objective(content).total.item()
    result = optimize(objective, content, config)
    assert result.loss < start
    assert result.image.min() >= 0 and result.image.max() <= 1


class Flaky:
    """An objective that returns NaN on chosen evaluations."""

    def __init__(self, inner: Objective, bad: set[int]) -> None:
        self.inner, self.bad, self.calls = inner, bad, 0

    def __call__(self, image: torch.Tensor) -> LossTerms:
        self.calls += 1
        terms = self.inner(image)
        if self.calls in self.bad:
            nan = terms.total * float("nan")
            return LossTerms(nan, terms.content, terms.style, terms.tv)
        return terms


def test_a_non_finite_loss_is_recovered_from(setup: tuple[Objective, torch.Tensor, Config]) -> None:
    objective, content, config = setup
    flaky = Flaky(objective, {4})
    result = optimize(flaky, content, config)  # type: ignore[arg-type]
    assert result.note is not None and "non-finite" in result.note
    assert result.iterations == config.iterations
    assert torch.isfinite(result.image).all()


def test_a_loss_that_stays_non_finite_stops_with_the_last_good_image(
    setup: tuple[Objective, torch.Tensor, Config],
) -> None:
    objective, content, config = setup
    flaky = Flaky(objective, set(range(3, 100)))
    with pytest.raises(OptimizationError, match="non-finite") as caught:
        optimize(flaky, content, config)  # type: ignore[arg-type]
    image = caught.value.image
    assert isinstance(image, torch.Tensor) and torch.isfinite(image).all()


def test_a_flat_objective_ends_with_a_reason_instead_of_looping(setup: tuple[Objective, torch.Tensor, Config]) -> None:
    objective, content, config = setup
    objective.weights = (0.0, 0.0, 0.0)
    result = optimize(objective, content, replace(config, iterations=50))
    assert result.iterations == 0
    assert result.note is not None and "converged" in result.note
    assert torch.equal(result.image, content)


def test_the_range_penalty_keeps_the_optimised_pixels_in_range(setup: tuple[Objective, torch.Tensor, Config]) -> None:
    """Without it L-BFGS parks pixels outside [0, 1]; the saved image would then differ from the optimised one."""
    objective, content, config = setup
    config = replace(config, iterations=30)
    outside = {}
    for weight in (0.0, 1e4):  # this random network's gradients are far larger than VGG's: a large weight
        penalised = Objective(objective.extractor, objective.choice, objective.targets, 1.0, 50.0, 0.0, weight)
        steps: list[Step] = []
        optimize(penalised, content, config, steps.append)  # steps carry the unclipped image
        image = steps[-1].image
        outside[weight] = ((image < 0) | (image > 1)).float().mean().item()
    assert outside[0.0] > 0.01, "the unpenalised run should leave the range (else this test proves nothing)"
    assert outside[1e4] < outside[0.0] / 4


def test_out_of_range_is_zero_inside_and_grows_outside() -> None:
    from stylize.losses import out_of_range

    inside = torch.rand(1, 3, 8, 8)
    assert out_of_range(inside).item() == 0
    assert out_of_range(inside + 1.5).item() > out_of_range(inside + 1.1).item() > 0
    assert out_of_range(inside - 1.5).item() > 0
