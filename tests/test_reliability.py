"""Resuming from unfinished images, what results tell about their inputs, write failures that stop a
batch, and the CPU threads a run takes (in process, with the tiny network)."""

from __future__ import annotations

import errno
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import TINY_LAYERS, pattern_image

from stylize.cli import main
from stylize.errors import WriteError
from stylize.io.metadata import read_metadata

Run = Callable[..., Result]


@pytest.fixture
def cli(weights_file: Callable[[str, str], Path]) -> Run:
    def invoke(*args: str) -> Result:
        flags = ["--weights", str(weights_file("vgg19", "relu2_1")), *TINY_LAYERS, "--device", "cpu", "--size", "48"]
        return CliRunner().invoke(main, [*args, *flags])

    return invoke


def stop_at(iteration: int, monkeypatch: pytest.MonkeyPatch, seen: list[int] | None = None) -> None:
    """Make the next run raise KeyboardInterrupt (as Ctrl-C would) after `iteration` iterations; `seen`
    collects how many iterations each optimisation is asked for."""
    from stylize.optimize import engine
    from stylize.run import pictures

    def interrupted(objective: object, init: object, settings: object, on_step: object, evaluate: object,
                    steering: object = None) -> object:  # fmt: skip
        if seen is not None:
            seen.append(settings.iterations)  # type: ignore[attr-defined]

        def stop(step: engine.Step) -> None:
            assert callable(on_step)
            on_step(step)
            if step.iteration == iteration:
                raise KeyboardInterrupt

        return engine.optimize_batch(objective, init, settings, stop if iteration else on_step, evaluate)  # type: ignore[arg-type]

    monkeypatch.setattr(pictures, "optimize_batch", interrupted)


def test_a_rerun_resumes_from_the_unfinished_image_for_the_iterations_left(
    cli: Run, images: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out.png"
    command = [str(images["content"]), str(images["style"]), "-o", str(out), "--iterations", "6"]
    stop_at(2, monkeypatch)
    assert cli(*command).exit_code == 130
    kept = read_metadata(tmp_path / "out.unfinished.png")
    progress = (kept["unfinished"], kept["iterations_done"], kept["stage"], kept["stage_iterations_done"])
    assert progress == (True, 2, 1, 2)
    asked: list[int] = []
    stop_at(0, monkeypatch, asked)
    resumed = cli(*command)
    assert resumed.exit_code == 0, resumed.output
    assert "resuming from" in resumed.stderr and "(2 iterations done)" in resumed.stderr
    assert asked == [4], "the rerun should do only the iterations left"
    assert read_metadata(out)["iterations_done"] == 6
    assert not (tmp_path / "out.unfinished.png").exists()


def test_an_unfinished_image_from_other_settings_or_with_overwrite_is_not_resumed(
    cli: Run, images: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out.png"
    command = [str(images["content"]), str(images["style"]), "-o", str(out), "--iterations", "5"]
    stop_at(2, monkeypatch)
    assert cli(*command).exit_code == 130
    asked: list[int] = []
    stop_at(0, monkeypatch, asked)
    other = cli(*command, "--style-weight", "7")
    assert other.exit_code == 0 and "made from other inputs or settings; starting over" in other.stderr
    assert asked == [5] and read_metadata(out)["iterations_done"] == 5
    stop_at(2, monkeypatch)
    assert cli(*command).exit_code == 130
    asked.clear()
    stop_at(0, monkeypatch, asked)
    assert cli(*command, "--overwrite").exit_code == 0
    assert asked == [5] and not (tmp_path / "out.unfinished.png").exists()


def test_a_folder_run_resumes_each_interrupted_picture(
    cli: Run, images: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos, out = tmp_path / "photos", tmp_path / "out"
    photos.mkdir()
    for i in range(3):
        pattern_image(48, 36, seed=20 + i).save(photos / f"p{i}.png")
    command = [str(photos), "-s", str(images["style"]), "-o", str(out), "--iterations", "4", "--batch-size", "2"]
    stop_at(3, monkeypatch)
    stopped = cli(*command)
    assert stopped.exit_code == 130
    assert "0 done, 0 skipped, 0 failed, 3 not started (interrupted)" in stopped.stderr
    assert sorted(p.name for p in out.iterdir()) == ["p0_style.unfinished.png", "p1_style.unfinished.png"]
    done = [read_metadata(out / f"p{i}_style.unfinished.png")["iterations_done"] for i in range(2)]
    assert done == [3, 2], "p0 had done its third iteration, p1 its second, when the run stopped"
    asked: list[int] = []
    stop_at(0, monkeypatch, asked)
    resumed = cli(*command)
    assert resumed.exit_code == 0, resumed.output
    assert sorted(asked) == [1, 2, 4], "each picture resumes for the iterations it has left; p2 starts afresh"
    assert sorted(p.name for p in out.iterdir()) == ["p0_style.png", "p1_style.png", "p2_style.png"]
    assert all(read_metadata(out / f"p{i}_style.png")["iterations_done"] == 4 for i in range(3))


def test_results_carry_file_names_by_default_paths_with_full_and_nothing_with_none(
    cli: Run, images: dict[str, Path], tmp_path: Path
) -> None:
    inputs = [str(images["content"]), str(images["style"]), "--iterations", "1"]
    for ext in ("png", "jpg", "webp", "tif"):
        assert cli(*inputs, "-o", str(tmp_path / f"names.{ext}")).exit_code == 0
        named = read_metadata(tmp_path / f"names.{ext}")
        assert (named["content"], named["styles"]) == ("content.png", ["style.png"]), ext
        assert str(tmp_path) not in json.dumps(named), f"a directory leaked into the {ext} metadata"
    assert cli(*inputs, "-o", str(tmp_path / "full.png"), "--metadata", "full").exit_code == 0
    full = read_metadata(tmp_path / "full.png")
    assert full["content"] == str(images["content"]) and full["config"]["weights"].startswith("/")
    assert cli(*inputs, "-o", str(tmp_path / "none.png"), "--metadata", "none").exit_code == 0
    inspected = CliRunner().invoke(main, ["--inspect", str(tmp_path / "none.png")])
    assert inspected.exit_code == 1 and "carries no stylize parameters" in inspected.stderr
    assert "--metadata none" in inspected.stderr
    for name in ("names.webp", "full.png"):
        shown = CliRunner().invoke(main, ["--inspect", str(tmp_path / name)])
        assert shown.exit_code == 0 and '"iterations_done": 1' in shown.output


def test_a_write_that_fails_for_lack_of_space_stops_the_batch(
    cli: Run, images: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stylize.run import files

    photos, out = tmp_path / "photos", tmp_path / "out"
    photos.mkdir()
    for i in range(4):
        pattern_image(48, 36, seed=30 + i).save(photos / f"p{i}.png")
    real_save, writes = files.save_image, []

    def full_after_one(*args: object, **kwargs: object) -> None:
        writes.append(args[1])
        if len(writes) > 1:
            raise WriteError(f"{args[1]}: cannot write (No space left on device)", errno.ENOSPC)
        real_save(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(files, "save_image", full_after_one)
    result = cli(str(photos), "-s", str(images["style"]), "-o", str(out), "--iterations", "1", "--batch-size", "1")
    assert result.exit_code == 1
    assert "No space left on device" in result.stderr
    assert f"1 done, 0 skipped, 1 failed, 2 not started (cannot write to {out})" in result.stderr
    assert len(writes) == 2, "no picture should be made after the disk is full"
    assert sorted(p.name for p in out.iterdir()) == ["p0_style.png"]


def test_threads_follow_the_affinity_mask_and_the_schedulers_allocation(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    import torch

    from stylize.network import devices

    for name in devices.ALLOCATION_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5})
    assert devices.allowed_cpus() == 6
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "4")
    assert devices.allowed_cpus() == 4
    monkeypatch.setenv("OMP_NUM_THREADS", "0")  # invalid: ignored, as the README's old recipe could produce
    assert devices.allowed_cpus() == 4
    monkeypatch.setenv("NSLOTS", "2")
    assert devices.allowed_cpus() == 2
    before = torch.get_num_threads()
    try:
        assert devices.use_threads(0) == 2 and torch.get_num_threads() == 2
        assert devices.use_threads(1) == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_threads_sets_the_threads_a_run_computes_with(cli: Run, images: dict[str, Path], tmp_path: Path) -> None:
    import torch

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        ran = cli(str(images["content"]), str(images["style"]), "-o", str(tmp_path / "x.png"), "--iterations", "1",
                  "--threads", "1")  # fmt: skip
        assert ran.exit_code == 0 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


BAD_FLAGS = [
    (["--threads", "-1"], "--threads must be >= 0"),
    (["--metadata", "paths"], "Invalid value for '--metadata'"),
]


@pytest.mark.parametrize(("flags", "message"), BAD_FLAGS)
def test_bad_threads_and_metadata_are_usage_errors(
    cli: Run, images: dict[str, Path], flags: list[str], message: str
) -> None:
    result = cli(str(images["content"]), str(images["style"]), "-o", "x.png", *flags)
    assert result.exit_code == 2 and message in result.output


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a device that is always full)")
def test_a_log_that_cannot_be_written_is_one_clear_error(cli: Run, images: dict[str, Path], tmp_path: Path) -> None:
    result = cli(str(images["content"]), str(images["style"]), "-o", str(tmp_path / "x.png"), "--iterations", "1",
                 "--log", "/dev/full")  # fmt: skip
    assert result.exit_code == 1
    assert "stylize: error: --log /dev/full: cannot write (No space left on device)" in result.stderr
    assert "internal error" not in result.stderr
