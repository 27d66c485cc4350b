"""Steering a run while it works (what the live page sends): weights, pause, stop and keep, skip."""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from conftest import compute_targets, resize_long_side, settings

from stylize.config import Config
from stylize.errors import SettingsError
from stylize.io.reading import load_image
from stylize.io.tensors import to_tensor
from stylize.network.layers import parse_layer_list
from stylize.network.loader import load_network
from stylize.optimize.engine import Result, Step, optimize_batch
from stylize.optimize.objective import LossWeights, Objective
from stylize.optimize.steering import Steering, WeightChange, checked_weight, picture_changes


@pytest.fixture
def setup(weights_file: Callable[[str, str], Path], images: dict[str, Path]) -> tuple[Objective, torch.Tensor, Config]:
    config = Config(weights=weights_file("vgg19", "relu2_1"), content_layers=parse_layer_list("relu2_1", "c"),
                    style_layers=parse_layer_list("relu1_1,relu2_1", "s"), size=40, iterations=12,
                    device="cpu")  # fmt: skip
    net = load_network(config)
    content = to_tensor(resize_long_side(load_image(images["content"]), 40))
    style = to_tensor(resize_long_side(load_image(images["style"]), 40))
    targets = compute_targets(net.extractor, net.choice, content, [style])
    return Objective(net.extractor, net.choice, targets, LossWeights(1.0, 1.0)), content, config


def steered(setup: tuple[Objective, torch.Tensor, Config], steering: Steering,
            act: Callable[[Step], None] = lambda step: None) -> tuple[Result, list[Step]]:  # fmt: skip
    objective, content, config = setup
    steps: list[Step] = []

    def on_step(step: Step) -> None:
        steps.append(step)
        act(step)

    (result,) = optimize_batch(objective, content, settings(config), on_step, steering=steering)
    assert isinstance(result, Result)
    return result, steps


def test_a_changed_weight_takes_effect_at_the_next_iteration_and_is_recorded(
    setup: tuple[Objective, torch.Tensor, Config],
) -> None:
    steering = Steering()
    result, steps = steered(setup, steering, lambda s: steering.set_weight("style", 50) if s.iteration == 4 else None)
    assert [s.weights["style"] for s in steps if s.weights] == [1.0] * 4 + [50.0] * 8
    assert result.changes == (WeightChange(4, "style", 50.0),)
    assert setup[0].weights.style == 50.0 and result.iterations == 12
    # the total is now weighted by 50: the restart re-evaluated, so totals after it are not the old objective's
    after = steps[4]
    assert after.loss == pytest.approx(after.content + 50 * after.style, rel=1e-4)


def test_a_larger_style_weight_makes_the_style_loss_fall_faster(setup: tuple[Objective, torch.Tensor, Config]) -> None:
    objective = setup[0]
    plain, _ = steered(setup, Steering())
    objective.weights = LossWeights(1.0, 1.0)
    steering = Steering()
    pushed, _ = steered(setup, steering, lambda s: steering.set_weight("style", 100) if s.iteration == 4 else None)
    assert pushed.style < 0.8 * plain.style
    assert pushed.content > plain.content


def test_pause_holds_the_run_until_resumed(setup: tuple[Objective, torch.Tensor, Config]) -> None:
    steering = Steering()
    seen: list[float] = []

    def pause_at_three(step: Step) -> None:
        seen.append(time.monotonic())
        if step.iteration == 3:
            steering.pause()
            threading.Timer(0.6, steering.resume).start()

    result, _ = steered(setup, steering, pause_at_three)
    assert result.iterations == 12 and steering.paused is False
    gaps = [b - a for a, b in itertools.pairwise(seen)]
    assert max(gaps) >= 0.5 and gaps.index(max(gaps)) == 2


def test_stop_keeps_the_picture_where_it_is(setup: tuple[Objective, torch.Tensor, Config]) -> None:
    steering = Steering()
    result, steps = steered(setup, steering, lambda s: steering.stop() if s.iteration == 5 else None)
    assert result.iterations == 5 and len(steps) == 5
    assert result.note == "stopped from the preview page"
    assert not steering.skipping
    steering.end_batch()
    again, _ = steered(setup, steering)
    assert again.iterations == 12, "a stop is spent with its batch"


def test_skip_stops_and_marks_the_batch(setup: tuple[Objective, torch.Tensor, Config]) -> None:
    steering = Steering()
    result, _ = steered(setup, steering, lambda s: steering.stop(skip=True) if s.iteration == 2 else None)
    assert result.iterations == 2 and steering.skipping


def test_a_stop_while_paused_ends_the_pause(setup: tuple[Objective, torch.Tensor, Config]) -> None:
    steering = Steering()

    def pause_then_stop(step: Step) -> None:
        if step.iteration == 2:
            steering.pause()
            threading.Timer(0.3, steering.stop).start()

    result, _ = steered(setup, steering, pause_then_stop)
    assert result.iterations == 2


def test_weights_changed_earlier_hold_from_the_start_of_the_next_picture(
    setup: tuple[Objective, torch.Tensor, Config],
) -> None:
    steering = Steering()
    steering.set_weight("content", 3)
    result, steps = steered(setup, steering)
    assert setup[0].weights.content == 3.0 and steps[0].weights == {"content": 3.0, "style": 1.0, "tv": 0.0}
    assert result.changes == (WeightChange(0, "content", 3.0),)


@pytest.mark.parametrize("value", [-1, "nan", "inf", "x", None, True, [1]])
def test_bad_values_are_refused_like_the_cli_refuses_them(value: object) -> None:
    steering = Steering()
    with pytest.raises(SettingsError, match="--style-weight"):
        steering.set_weight("style", value)
    assert steering.weights() == {}


def test_only_the_three_weights_can_be_steered() -> None:
    with pytest.raises(SettingsError, match="unknown weight 'range'"):
        checked_weight("range", 1)
    assert checked_weight("tv", "0.5") == 0.5 and not math.isnan(checked_weight("style", 0))


def test_a_pictures_changes_count_over_all_sizes_and_drop_values_already_in_force() -> None:
    stages = [(0, (WeightChange(3, "style", 9.0),)),
              (10, (WeightChange(0, "style", 9.0), WeightChange(4, "style", 2.0))),
              (20, (WeightChange(0, "content", 1.0),))]  # fmt: skip
    assert picture_changes(stages, {"content": 1.0, "style": 5.0}) == (
        WeightChange(3, "style", 9.0), WeightChange(14, "style", 2.0))  # fmt: skip
