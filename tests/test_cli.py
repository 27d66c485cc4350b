"""The command as a user meets it: flags, messages, exit codes, files (random small networks)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import Run, read_rgb
from PIL import Image

from stylize.cli import main
from stylize.config import Config
from stylize.io.metadata import read_metadata


def test_help_lists_every_flag_with_its_default() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    text = result.output
    for flag in ["--output", "--model", "--weights", "--layers", "--content-layers", "--style-layers",
                 "--content-weight", "--style-weight", "--tv-weight", "--style-blend", "--optimizer",
                 "--iterations", "--scales", "--precision", "--lr", "--init", "--size", "--style-size", "--seed",
                 "--device", "--save-every", "--quiet", "--verbose", "--list-layers", "--inspect",
                 "--version", "--style", "--name", "--each-style", "--recursive", "--overwrite", "--fail-fast",
                 "--dry-run", "--shard", "--batch-size", "--log", "--progress"]:  # fmt: skip
        assert flag in text, flag
    defaults = Config()
    flat = " ".join(text.split())
    for value in [defaults.iterations, defaults.size, defaults.style_weight, defaults.model, defaults.init,
                  defaults.scales, defaults.precision, defaults.batch_size]:  # fmt: skip
        assert f"[default: {value}]" in flat, value


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and re.match(r"stylize \d+\.\d+\.\d+ \(neural-stylize\)\n", result.output)
    assert re.search(r"^--device auto: (cpu|cuda|mps) \(.+\)$", result.output, re.M), result.output


@pytest.mark.parametrize("model", ["vgg19", "vgg16", "vgg16-bn"])
def test_list_layers(model: str) -> None:
    result = CliRunner().invoke(main, ["--list-layers", "--model", model])
    assert result.exit_code == 0
    assert "relu4_2" in result.output and "pool5" in result.output
    assert ("bn1_1" in result.output) == (model == "vgg16-bn")
    assert ("relu5_4" in result.output) == (model == "vgg19")


def test_a_run_writes_the_image_with_reproducible_parameters(run: Run, tmp_path: Path) -> None:
    result = run("--seed", "5")
    assert result.exit_code == 0, result.output
    out = tmp_path / "out.png"
    with Image.open(out) as image:
        assert image.size == (40, 30)
    meta = read_metadata(out)
    assert meta["config"]["seed"] == 5 and meta["config"]["style_layers"] == "relu1_1:1,relu2_1:1"
    assert meta["iterations_done"] == 3 and meta["version"]
    assert "wrote" in result.stderr
    inspected = CliRunner().invoke(main, ["--inspect", str(out)])
    assert inspected.exit_code == 0 and '"seed": 5' in inspected.output


def test_same_seed_gives_identical_bytes_and_noise_init_depends_on_seed(run: Run, tmp_path: Path) -> None:
    assert run("--init", "noise", "--seed", "1", out="a.png").exit_code == 0
    assert run("--init", "noise", "--seed", "1", out="b.png").exit_code == 0
    assert run("--init", "noise", "--seed", "2", out="c.png").exit_code == 0
    a, b, c = ((tmp_path / n).read_bytes() for n in ("a.png", "b.png", "c.png"))
    assert a == b
    assert a != c


def test_mistyped_layer_is_a_usage_error_with_a_suggestion(run: Run) -> None:
    result = run("--style-layers", "relu1_1,rleu2_1")
    assert result.exit_code == 2
    assert "did you mean 'relu2_1'" in result.stderr
    assert "Traceback" not in result.output


def test_missing_output_and_missing_style_are_usage_errors(images: dict[str, Path]) -> None:
    no_output = CliRunner().invoke(main, [str(images["content"]), str(images["style"])])
    assert no_output.exit_code == 2 and "--output" in no_output.stderr
    no_style = CliRunner().invoke(main, [str(images["content"]), "-o", "x.png"])
    assert no_style.exit_code == 2


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--style-weight", "-1"], "--style-weight"),
        (["--iterations", "0"], "--iterations"),
        (["--size", "8"], "--size"),
        (["--device", "tpu"], "device"),
        (["--device", "cuda:7"], "cuda"),
        (["--style-blend", "a,b"], "--style-blend"),
        (["--content-layers", "relu2_1:x"], "not a number"),
        (["--scales", "3"], "--scales 3 with --size 40"),
        (["--precision", "fp8"], "--precision"),
    ],
)
def test_impossible_settings_exit_2(run: Run, flags: list[str], message: str) -> None:
    result = run(*flags)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output


def test_unreadable_content_exits_1_with_one_line(run: Run, images: dict[str, Path]) -> None:
    images["content"].write_bytes(b"this is not an image")
    result = run()
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and str(images["content"]) in lines[0]


def test_unwritable_output_is_found_before_work(run: Run) -> None:
    result = run(out="no_such_folder/out.png")
    assert result.exit_code == 1 and "does not exist" in result.stderr
    result = run(out="out.bmp")
    assert result.exit_code == 1 and "unsupported output format" in result.stderr


def test_vgg16_without_network_exits_1_naming_the_way_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, images: dict[str, Path]
) -> None:
    import urllib.error

    import torch

    from stylize.network import weights

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))

    def offline(*args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(weights.urllib.request, "urlopen", offline)
    result = CliRunner().invoke(main, [str(images["content"]), str(images["style"]), "-o", str(tmp_path / "o.png"),
                                       "--model", "vgg16", "--size", "40"])  # fmt: skip
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "--weights" in lines[0] and "vgg19" in lines[0]


@pytest.mark.parametrize("model", ["vgg16", "vgg16-bn"])
def test_vgg16_with_a_weights_file_runs(run: Run, model: str, tmp_path: Path) -> None:
    result = run(model=model)
    assert result.exit_code == 0, result.output
    assert read_metadata(tmp_path / "out.png")["config"]["model"] == model


def test_weights_of_the_wrong_model_are_a_clear_error(run: Run, weights_file: Callable[[str, str], Path]) -> None:
    result = run("--weights", str(weights_file("vgg16-bn", "relu2_1")))
    assert result.exit_code == 1 and "weights" in result.stderr and "Traceback" not in result.output


def test_several_styles_blend(run: Run, tmp_path: Path) -> None:
    equal = run(styles=("style", "style2"), out="equal.png")
    skewed = run("--style-blend", "1,0", styles=("style", "style2"), out="skewed.png")
    only_first = run(styles=("style",), out="first.png")
    assert equal.exit_code == skewed.exit_code == only_first.exit_code == 0
    pixels = {n: np.asarray(read_rgb(tmp_path / f"{n}.png")) for n in ("equal", "skewed", "first")}
    assert np.array_equal(pixels["skewed"], pixels["first"]), "a zero blend weight must drop that style"
    assert not np.array_equal(pixels["equal"], pixels["first"])
    wrong = run("--style-blend", "1,2,3", styles=("style", "style2"))
    assert wrong.exit_code == 2 and "--style-blend" in wrong.stderr


def test_save_every_writes_intermediate_images(run: Run, tmp_path: Path) -> None:
    assert run("--save-every", "1").exit_code == 0
    assert sorted(p.name for p in tmp_path.glob("out.*.png")) == ["out.0001.png", "out.0002.png", "out.0003.png"]


@pytest.mark.parametrize("init", ["palette", "content", "noise", "style", "image"])
def test_inits(run: Run, init: str, images: dict[str, Path], tmp_path: Path) -> None:
    value = str(images["style2"]) if init == "image" else init
    result = run("--init", value, "--iterations", "1")
    assert result.exit_code == 0, result.output
    assert read_metadata(tmp_path / "out.png")["config"]["init"] == Path(value).name  # names only (--metadata names)


def test_init_path_that_does_not_exist(run: Run) -> None:
    result = run("--init", "nosuch.jpg")
    assert result.exit_code == 1 and "nosuch.jpg" in result.stderr


@pytest.mark.parametrize(
    "flags",
    [
        ["--optimizer", "adam", "--lr", "0.05"],
        ["--tv-weight", "5"],
        ["--style-weight", "50"],
        ["--content-weight", "0.5"],
        ["--style-size", "32"],
        ["--layers", "lesson", "--content-layers", "relu2_1", "--style-layers", "relu1_2,relu2_1"],
    ],
)
def test_tuning_flags_change_the_result(run: Run, flags: list[str], tmp_path: Path) -> None:
    assert run(out="base.png").exit_code == 0
    result = run(*flags, out="tuned.png")
    assert result.exit_code == 0, result.output
    base = np.asarray(read_rgb(tmp_path / "base.png"), dtype=np.int16)
    tuned = np.asarray(read_rgb(tmp_path / "tuned.png"), dtype=np.int16)
    assert np.abs(base - tuned).max() > 0, flags


def test_coarse_to_fine_shows_a_bar_per_size_and_records_the_settings(run: Run, tmp_path: Path) -> None:
    result = run("--size", "64", "--scales", "2", "--precision", "bf16", "--save-every", "2")
    assert result.exit_code == 0, result.output
    assert "32x24 (1/2)" in result.stderr and "64x48 (2/2)" in result.stderr and "3/3" in result.stderr
    config = read_metadata(tmp_path / "out.png")["config"]
    assert (config["scales"], config["precision"]) == (2, "bf16")
    assert read_metadata(tmp_path / "out.png")["iterations_done"] == 6
    assert sorted(p.name for p in tmp_path.glob("out.*.png")) == ["out.0002.png", "out.0004.png", "out.0006.png"]


def test_precision_changes_the_arithmetic(run: Run, tmp_path: Path) -> None:
    for precision in ("fp32", "bf16"):
        assert run("--precision", precision, out=f"{precision}.png").exit_code == 0
    exact = np.asarray(read_rgb(tmp_path / "fp32.png"), dtype=np.int16)
    reduced = np.asarray(read_rgb(tmp_path / "bf16.png"), dtype=np.int16)
    assert 0 < np.abs(exact - reduced).mean() < 8, "bf16 must differ from fp32, but only a little"


def test_quiet_prints_nothing_on_success(run: Run) -> None:
    result = run("--quiet")
    assert result.exit_code == 0 and result.output == ""


def test_progress_bar_shows_iterations_and_losses(run: Run) -> None:
    result = run()
    assert "3/3" in result.stderr and "style=" in result.stderr and "content=" in result.stderr
    assert "tv=" not in result.stderr
    assert "tv=" in run("--tv-weight", "1").stderr


def test_verbose_shows_the_traceback(run: Run, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"junk")
    quiet = run("--weights", str(junk))
    assert quiet.exit_code == 1 and "Traceback" not in quiet.stderr
    result = run("--weights", str(junk), "--verbose")
    assert result.exit_code == 1 and "Traceback" in result.stderr


def test_a_failed_optimisation_keeps_the_last_good_image(
    run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import torch

    from stylize.errors import OptimizationError
    from stylize.run import pictures

    def failing(*args: object, **kwargs: object) -> list[OptimizationError]:
        err = OptimizationError("the loss stayed non-finite")
        err.image = torch.full((1, 3, 30, 40), 0.5)
        return [err]

    monkeypatch.setattr(pictures, "optimize_batch", failing)
    result = run()
    assert result.exit_code == 1
    assert "out.unfinished.png" in result.stderr
    assert not (tmp_path / "out.png").exists()
    assert read_metadata(tmp_path / "out.unfinished.png")["unfinished"] is True


def test_ctrl_c_saves_the_unfinished_image_and_exits_130(
    run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from stylize.optimize import engine
    from stylize.run import pictures

    def interrupted(objective: object, init: object, settings: object, on_step: object, evaluate: object,
                    steering: object = None) -> object:  # fmt: skip
        def stop_at_second(step: engine.Step) -> None:
            assert callable(on_step)
            on_step(step)
            if step.iteration == 2:
                raise KeyboardInterrupt

        return engine.optimize_batch(objective, init, settings, stop_at_second, evaluate)  # type: ignore[arg-type]

    monkeypatch.setattr(pictures, "optimize_batch", interrupted)
    result = run()
    assert result.exit_code == 130
    assert "unfinished image saved" in result.stderr
    assert not (tmp_path / "out.png").exists()
    assert read_metadata(tmp_path / "out.unfinished.png")["iterations_done"] == 2
