from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from conftest import compute_targets, optimize, resize_long_side, settings

from stylize.config import Config
from stylize.errors import OptimizationError
from stylize.io.reading import load_image
from stylize.io.tensors import to_tensor
from stylize.network.layers import parse_layer_list
from stylize.network.loader import load_network
from stylize.optimize.engine import Step
from stylize.optimize.objective import LossTerms, LossWeights, Objective


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
    weights = LossWeights(config.content_weight, config.style_weight, 0.1)
    objective = Objective(net.extractor, net.choice, targets, weights)
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

    def __call__(self, image: torch.Tensor, rows: list[int] | None = None) -> LossTerms:
        self.calls += 1
        terms = self.inner(image, rows)
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
    objective.weights = LossWeights(0.0, 0.0, 0.0)
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
        weights = LossWeights(1.0, 50.0, 0.0, weight)
        penalised = Objective(objective.extractor, objective.choice, objective.targets, weights)
        steps: list[Step] = []
        optimize(penalised, content, config, steps.append)  # steps carry the unclipped image
        image = steps[-1].image
        outside[weight] = ((image < 0) | (image > 1)).float().mean().item()
    assert outside[0.0] > 0.01, "the unpenalised run should leave the range (else this test proves nothing)"
    assert outside[1e4] < outside[0.0] / 4


def test_out_of_range_is_zero_inside_and_grows_outside() -> None:
    from stylize.losses.core import out_of_range

    inside = torch.rand(1, 3, 8, 8)
    assert out_of_range(inside).item() == 0
    assert out_of_range(inside + 1.5).item() > out_of_range(inside + 1.1).item() > 0
    assert out_of_range(inside - 1.5).item() > 0


def batch_setup(
    weights_file: Callable[[str, str], Path], count: int
) -> tuple[Objective, torch.Tensor, Config, list[torch.Tensor]]:
    """An objective over `count` different pattern images (one style), their inits, and per-image contents."""
    from conftest import pattern_image

    from stylize.optimize.targets import Targets, content_features, stack_targets, style_targets

    config = Config(weights=weights_file("vgg19", "relu2_1"), size=40, iterations=6, device="cpu",
                    content_layers=parse_layer_list("relu2_1", "c"),
                    style_layers=parse_layer_list("relu1_1,relu2_1", "s"))  # fmt: skip
    net = load_network(config)
    contents = [to_tensor(pattern_image(40, 30, seed)) for seed in range(10, 10 + count)]
    grams = style_targets(net.extractor, net.choice, [to_tensor(pattern_image(40, 40, 99))])
    targets = stack_targets([Targets(content_features(net.extractor, net.choice, c), grams) for c in contents])
    objective = Objective(net.extractor, net.choice, targets, LossWeights(1.0, 5.0, 0.0, 10.0))
    return objective, torch.cat(contents), config, contents


def test_an_image_in_a_batch_gets_the_same_result_as_alone(weights_file: Callable[[str, str], Path]) -> None:
    """Side by side (the CPU's way): each image's evaluations are its own, so the results are the same."""
    from stylize.optimize.engine import optimize_batch
    from stylize.optimize.evaluation import SideBySide

    objective, inits, config, _ = batch_setup(weights_file, 3)
    steps: list[Step] = []
    evaluate = SideBySide(2, 2)
    together = optimize_batch(objective, inits, settings(config), steps.append, evaluate)
    evaluate.close()
    for i in range(3):
        alone_objective = Objective(objective.extractor, objective.choice, objective.targets.rows([i]),
                                    LossWeights(1.0, 5.0, 0.0, 10.0))  # fmt: skip
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # as each worker of SideBySide(2, 2): the same sums in the same order
        try:
            alone = optimize(alone_objective, inits[i : i + 1], config)
        finally:
            torch.set_num_threads(threads)
        batched = together[i]
        assert not isinstance(batched, OptimizationError)
        assert batched.iterations == alone.iterations == config.iterations
        assert batched.evaluations == alone.evaluations
        assert torch.equal(batched.image, alone.image), f"image {i} depends on its batch"
        assert batched.loss == pytest.approx(alone.loss, rel=1e-5)
    assert sorted({(s.index, s.images) for s in steps}) == [(0, 3), (1, 3), (2, 3)]
    assert len(steps) == 3 * config.iterations
    assert not torch.allclose(together[0].image, together[1].image)  # type: ignore[union-attr]


def test_one_pass_over_a_batch_evaluates_each_image_as_alone(weights_file: Callable[[str, str], Path]) -> None:
    """Together (the GPU's way): the same losses and gradients up to float rounding.

    Not bit for bit: the batched convolutions round differently, and where two activations tie
    in a max-pool (or sit at a ReLU's kink) that rounding can send a pixel's gradient elsewhere,
    so a few elements may differ by more than rounding; L-BFGS then follows a slightly different path.
    """
    from stylize.optimize.evaluation import evaluate_together, read
    from stylize.optimize.optimizers.protocol import Evaluation

    objective, inits, _, _ = batch_setup(weights_file, 3)
    together = read(evaluate_together(objective, inits, [0, 1, 2]))
    for i in range(3):
        alone_objective = Objective(objective.extractor, objective.choice, objective.targets.rows([i]),
                                    LossWeights(1.0, 5.0, 0.0, 10.0))  # fmt: skip
        (alone,) = read(evaluate_together(alone_objective, inits[i : i + 1], [0]))
        batched = together[i]
        assert isinstance(batched, Evaluation) and isinstance(alone, Evaluation)
        assert batched.loss == pytest.approx(alone.loss, rel=1e-6)
        close = torch.isclose(batched.grad, alone.grad, rtol=1e-4, atol=1e-4).float().mean().item()
        assert close > 0.95, f"image {i}: only {close:.4%} of the gradient agrees"
        cosine = torch.nn.functional.cosine_similarity(batched.grad, alone.grad, dim=0).item()
        assert cosine > 0.999, f"image {i}: cosine {cosine}"


def test_one_image_failing_does_not_stop_the_others(weights_file: Callable[[str, str], Path]) -> None:
    from stylize.optimize.engine import optimize_batch

    objective, inits, config, _ = batch_setup(weights_file, 2)

    class PoisonRow:
        """NaN for row 1 from its third evaluation on."""

        def __init__(self) -> None:
            self.seen = 0

        def __call__(self, image: torch.Tensor, rows: list[int] | None = None) -> LossTerms:
            terms = objective(image, rows)
            if rows is not None and 1 in rows:
                self.seen += 1
                if self.seen >= 3:
                    mask = torch.tensor([float("nan") if r == 1 else 1.0 for r in rows])
                    return LossTerms(terms.total * mask, terms.content, terms.style, terms.tv)
            return terms

    outcomes = optimize_batch(PoisonRow(), inits, settings(config))  # type: ignore[arg-type]
    assert isinstance(outcomes[1], OptimizationError) and torch.isfinite(outcomes[1].image).all()
    assert not isinstance(outcomes[0], OptimizationError) and outcomes[0].iterations == config.iterations
