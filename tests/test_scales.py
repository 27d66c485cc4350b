"""Coarse-to-fine planning and the multi-size pipeline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from conftest import read_rgb, resize_long_side

import stylize
from stylize.errors import SettingsError
from stylize.io.tensors import to_tensor
from stylize.network.layers import parse_layer_list
from stylize.optimize.engine import Step
from stylize.run.stages import COARSEST_SIZE, Stage, auto_scale_count, plan_stages


@pytest.mark.parametrize(
    ("size", "count"),
    [(64, 1), (COARSEST_SIZE, 1), (2 * COARSEST_SIZE - 1, 1), (2 * COARSEST_SIZE, 2), (8 * COARSEST_SIZE, 4)],
)
def test_auto_scale_count_starts_at_the_coarsest_size(size: int, count: int) -> None:
    assert auto_scale_count(size) == count
    assert plan_stages(size, 0, 10)[0].size >= min(size, COARSEST_SIZE)


def test_explicit_scales_halve_the_size_and_end_at_the_requested_size_and_iterations() -> None:
    stages = plan_stages(1000, 3, 40)
    assert [s.size for s in stages] == [250, 500, 1000]
    assert stages[-1] == Stage(1000, 40)
    assert all(s.iterations >= 1 for s in stages)
    assert plan_stages(1000, 1, 40) == (Stage(1000, 40),), "--scales 1 turns coarse-to-fine off"


def test_impossible_scales_are_rejected_with_the_reason() -> None:
    with pytest.raises(SettingsError, match="would start at 16 px"):
        stylize.Config(size=512, scales=6)
    with pytest.raises(SettingsError, match="--scales"):
        stylize.Config(scales=-1)
    with pytest.raises(SettingsError, match="precision"):
        stylize.Config(precision="fp8")


def test_a_coarse_to_fine_run_reports_every_stage_and_ends_at_full_size(
    weights_file: Callable[[str, str], Path], images: dict[str, Path]
) -> None:
    config = stylize.Config(weights=weights_file("vgg19", "relu2_1"), content_layers=parse_layer_list("relu2_1", "c"),
                            style_layers=parse_layer_list("relu1_1,relu2_1", "s"), size=128, scales=3, iterations=3,
                            device="cpu", precision="fp32")  # fmt: skip
    steps: list[Step] = []
    result = stylize.transfer(read_rgb(images["content"]), [read_rgb(images["style"])], config, steps.append)
    assert [(s.stage, s.iteration) for s in steps] == [(k, i) for k in (1, 2, 3) for i in (1, 2, 3)]
    assert {s.stages for s in steps} == {3}
    assert [tuple(s.image.shape[-2:]) for s in steps[::3]] == [(24, 32), (48, 64), (96, 128)]
    assert result.image.shape == (1, 3, 96, 128)
    assert result.iterations == 9 and result.evaluations >= 9
    assert result.image.min() >= 0 and result.image.max() <= 1


def test_each_stage_starts_from_the_previous_result(
    weights_file: Callable[[str, str], Path], images: dict[str, Path]
) -> None:
    """The first step of stage 2 is close to stage 1's last image upsampled, not to the content photo."""
    config = stylize.Config(weights=weights_file("vgg19", "relu2_1"), content_layers=parse_layer_list("relu2_1", "c"),
                            style_layers=parse_layer_list("relu1_1,relu2_1", "s"), size=64, scales=2, iterations=15,
                            style_weight=50, device="cpu", precision="fp32")  # fmt: skip
    firsts: dict[int, torch.Tensor] = {}
    lasts: dict[int, torch.Tensor] = {}

    def keep(step: Step) -> None:
        firsts.setdefault(step.stage, step.image.clone())
        lasts[step.stage] = step.image.clone()

    stylize.transfer(read_rgb(images["content"]), [read_rgb(images["style"])], config, keep)
    upsampled = torch.nn.functional.interpolate(lasts[1], size=(48, 64), mode="bicubic", align_corners=False)
    content = to_tensor(resize_long_side(read_rgb(images["content"]), 64))
    from_previous = (firsts[2] - upsampled).abs().mean()
    from_content = (firsts[2] - content).abs().mean()
    assert from_previous < 0.5 * from_content
