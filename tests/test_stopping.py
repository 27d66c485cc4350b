"""--iterations auto: the plateau rule, the engine stopping on it, and the count over sizes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import TINY_LAYERS, read_rgb

import stylize
from stylize.cli.command import main
from stylize.config import AUTO, Config
from stylize.errors import SettingsError
from stylize.io.metadata import read_metadata
from stylize.network.layers import parse_layer_list
from stylize.optimize.engine import Step
from stylize.optimize.stopping import Plateau
from stylize.run.stages import AUTO_CAP, PLATEAU, plan_stages


def losses_until_stop(rule: Plateau, losses: list[float]) -> int:
    """How many of `losses` a run watching `rule` accepts before it stops (all of them if never)."""
    watch = rule.watch()
    for count, loss in enumerate(losses, 1):
        if watch.reached(loss):
            return count
    return len(losses)


def test_the_rule_waits_a_window_then_stops_when_the_window_improved_too_little() -> None:
    rule = Plateau(window=3, tolerance=0.01)
    steep = [10.0 * 0.8**k for k in range(20)]  # 20% per iteration: never a plateau
    assert losses_until_stop(rule, steep) == 20
    flat = [5.0] * 10
    assert losses_until_stop(rule, flat) == 4, "stops at the first full window, not before"
    # steep, then 0.2% per iteration: three of those together are 0.6% < 1%
    mixed = [*steep[:6], *(steep[5] * 0.998**k for k in range(1, 20))]
    assert losses_until_stop(rule, mixed) == 9
    # a single slow iteration inside a steep run does not stop it
    bump = [*steep[:5], steep[4] * 0.999, *(steep[4] * 0.999 * 0.8**k for k in range(1, 10))]
    assert losses_until_stop(rule, bump) == len(bump)


def tiny_config(weights_file: Callable[[str, str], Path], **changes: object) -> Config:
    settings: dict[str, object] = dict(weights=weights_file("vgg19", "relu2_1"),
                                       content_layers=parse_layer_list("relu2_1", "c"),
                                       style_layers=parse_layer_list("relu1_1,relu2_1", "s"),
                                       size=64, device="cpu", precision="fp32")  # fmt: skip
    return Config(**{**settings, **changes})  # type: ignore[arg-type]


def test_auto_is_the_default_and_each_size_gets_the_rule_and_the_cap() -> None:
    assert Config().iterations == AUTO
    stages = plan_stages(1024, 0, AUTO)
    assert [(s.size, s.iterations, s.until) for s in stages] == [(512, AUTO_CAP, PLATEAU), (1024, AUTO_CAP, PLATEAU)]
    assert [(s.size, s.iterations, s.until) for s in plan_stages(1024, 0, 40)] == [(512, 40, None), (1024, 40, None)]


@pytest.mark.parametrize("bad", [0, -3, "many", 2.5])
def test_iterations_are_a_count_or_auto(bad: object) -> None:
    with pytest.raises(SettingsError, match="--iterations"):
        Config(iterations=bad)  # type: ignore[arg-type]


def test_auto_stops_a_run_that_stopped_improving_and_a_count_runs_exactly(
    weights_file: Callable[[str, str], Path], images: dict[str, Path]
) -> None:
    content, style = read_rgb(images["content"]), read_rgb(images["style"])
    steps: list[Step] = []
    auto = stylize.transfer(content, [style], tiny_config(weights_file, scales=2), steps.append)
    per_stage = {stage: [s for s in steps if s.stage == stage] for stage in (1, 2)}
    for stage_steps in per_stage.values():
        assert PLATEAU.window < len(stage_steps) < AUTO_CAP, "each size stops on the rule, before the cap"
        losses = [s.loss for s in stage_steps]
        assert losses_until_stop(PLATEAU, losses) == len(losses), "it stopped where the rule says, not elsewhere"
    assert [s.overall for s in steps] == list(range(1, len(steps) + 1)), "counted over both sizes"
    assert auto.iterations == len(steps) and auto.note is None
    counted: list[Step] = []
    exact = stylize.transfer(content, [style], tiny_config(weights_file, iterations=7), counted.append)
    assert exact.iterations == 7 and [s.iteration for s in counted] == list(range(1, 8))


def test_the_cli_takes_auto_records_it_and_refuses_words(
    weights_file: Callable[[str, str], Path], images: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out.png"
    args = [str(images["content"]), str(images["style"]), "-o", str(out), "--weights",
            str(weights_file("vgg19", "relu2_1")), *TINY_LAYERS, "--size", "40", "--device", "cpu"]  # fmt: skip
    done = CliRunner().invoke(main, [*args, "--iterations", "auto"])
    assert done.exit_code == 0, done.output
    stored = read_metadata(out)
    assert stored["config"]["iterations"] == AUTO and 1 <= stored["iterations_done"] <= AUTO_CAP
    assert f"{stored['iterations_done']} iterations" in done.output
    refused = CliRunner().invoke(main, [*args, "--iterations", "lots"])
    assert refused.exit_code == 2 and "--iterations" in refused.output
