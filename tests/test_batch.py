"""Folders in, folders out: discovery, names, skips and resume, isolation of bad inputs, shards,
dry runs, logs, batches that do not change results, and SIGKILL in the middle of a run."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from conftest import TINY_LAYERS, pattern_image, read_rgb
from PIL import Image

from stylize.batch.inputs import find_images
from stylize.batch.plan import Job, make_jobs, output_name, shard
from stylize.cli import main
from stylize.config import Config
from stylize.errors import SettingsError
from stylize.network.layers import parse_layer_list

Run = Callable[..., Result]


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """photos/: four good images (two sizes), a truncated JPEG and a text file named .jpg."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, size in enumerate([(48, 36), (48, 36), (36, 48), (48, 36)]):
        pattern_image(*size, seed=20 + i).save(folder / f"p{i}.png")
    buffer = io.BytesIO()
    pattern_image(48, 36, seed=30).save(buffer, "JPEG")
    (folder / "truncated.jpg").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    (folder / "notes.jpg").write_text("not an image at all\n")
    (folder / "README.txt").write_text("ignored: not an image extension\n")
    (folder / ".hidden.png").write_bytes(b"ignored: hidden")
    return folder


@pytest.fixture
def batch(weights_file: Callable[[str, str], Path], images: dict[str, Path], tmp_path: Path) -> Run:
    """batch(*inputs_and_flags) -> stylize with a tiny random network, 40 px, 3 iterations."""

    def invoke(*args: str) -> Result:
        common = ["--weights", str(weights_file("vgg19", "relu2_1")), *TINY_LAYERS, "--size", "40",
                  "--iterations", "3", "--device", "cpu", "--progress", "lines"]  # fmt: skip
        return CliRunner().invoke(main, [*args, *common])

    return invoke


def outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


def test_a_folder_with_bad_files_makes_the_good_ones_reports_the_bad_and_resumes(
    batch: Run, photos: Path, images: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    first = batch(str(photos), str(images["style"]), "-o", f"{out}/")
    assert first.exit_code == 1, first.output
    assert sorted(outputs(out)) == [f"p{i}_style.png" for i in range(4)]
    errors = [line for line in first.stderr.splitlines() if line.startswith("stylize: error:")]
    assert len(errors) == 2
    assert any("truncated.jpg" in e for e in errors) and any("notes.jpg" in e for e in errors)
    assert "4 done, 0 skipped, 2 failed" in first.stderr
    with Image.open(out / "p2_style.png") as portrait:
        assert portrait.size == (30, 40)
    made = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    again = batch(str(photos), str(images["style"]), "-o", str(out))
    assert again.exit_code == 1
    assert "0 done, 4 skipped, 2 failed" in again.stderr
    assert "iterations" not in again.stderr, "nothing may be optimised again"
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()} == made
    redo = batch(str(photos), str(images["style"]), "-o", str(out), "--overwrite")
    assert "4 done, 0 skipped, 2 failed" in redo.stderr


def test_fail_fast_stops_at_the_first_bad_input(
    batch: Run, photos: Path, images: dict[str, Path], tmp_path: Path
) -> None:
    result = batch(str(photos), "-s", str(images["style"]), "-o", str(tmp_path / "out"), "--fail-fast")
    assert result.exit_code == 1
    assert "not started (--fail-fast)" in result.stderr
    assert len(outputs(tmp_path / "out")) < 4


def test_shards_together_make_exactly_the_unsharded_files(
    batch: Run, photos: Path, images: dict[str, Path], tmp_path: Path
) -> None:
    # one thread: a picture made alone and one made beside another then sum in the same order (with more
    # threads the sums round differently, and L-BFGS carries that into visible differences in bf16)
    styles = ["-s", str(images["style"]), "-s", str(images["style2"]), "--each-style", "--threads", "1"]
    assert batch(str(photos), *styles, "-o", str(tmp_path / "all")).exit_code == 1
    for k in (1, 2):
        assert batch(str(photos), *styles, "-o", str(tmp_path / "sharded"), "--shard", f"{k}/2").exit_code == 1
    whole, sharded = outputs(tmp_path / "all"), outputs(tmp_path / "sharded")
    assert len(whole) == 8 and sorted(whole) == sorted(sharded)
    for name in whole:  # a picture does not depend on the shard (or the batch) it was made in
        assert pixel_difference(tmp_path / "all" / name, tmp_path / "sharded" / name) == 0, name


def pixel_difference(a: Path, b: Path) -> int:
    """Largest difference of two images' 8-bit values. Not bytes: a picture made alone uses all the
    cores for each layer, one made beside another uses one, and the sums round differently."""
    return int(np.abs(np.asarray(read_rgb(a), dtype=np.int16) - np.asarray(read_rgb(b), dtype=np.int16)).max())


def test_shard_slices_partition_any_work_list() -> None:
    jobs = [Job(i, Path(f"c{i}"), (Path("s"),), Path(f"o{i}")) for i in range(1, 24)]
    for n in (1, 2, 3, 5, 30):
        parts = [shard(jobs, (k, n)) for k in range(1, n + 1)]
        assert sorted(j.index for part in parts for j in part) == list(range(1, 24))
        assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_dry_run_lists_the_plan_and_computes_nothing(
    batch: Run, photos: Path, images: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "p0_style.png").write_bytes(b"an earlier result")
    result = batch(str(photos), str(images["style"]), "-o", str(out), "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 6
    assert any(line.startswith("skip\t") and "p0_style.png" in line for line in lines)
    assert any(line.startswith("make\t") and "p2.png" in line and "30x40" in line for line in lines)
    assert sum(line.startswith("fail\t") for line in lines) == 2
    assert "3 to make, 1 to skip, 2 unreadable" in result.stderr
    assert sorted(outputs(out)) == ["p0_style.png"]


def test_names_log_and_grid(batch: Run, images: dict[str, Path], tmp_path: Path) -> None:
    log = tmp_path / "run.jsonl"
    result = batch(str(images["content"]), "-s", str(images["style"]), "-s", str(images["style2"]), "--each-style",
                   "-o", str(tmp_path / "grid"), "--name", "{index:02d}-{content}-{style}-{size}.jpg",
                   "--log", str(log))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(outputs(tmp_path / "grid")) == ["01-content-style-40.jpg", "02-content-style2-40.jpg"]
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["status"] for e in entries] == ["done", "done"]
    assert entries[0]["losses"]["style"] > 0 and entries[0]["iterations"] == 3 and entries[0]["size"] == [40, 30]
    assert entries[1]["output"].endswith("02-content-style2-40.jpg") and entries[1]["error"] is None


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--name", "../{content}.png"], "a name, not a path"),
        (["--name", "/abs/{content}.png"], "a name, not a path"),
        (["--name", "{colour}.png"], "unknown field {colour}"),
        (["--name", "{content}.bmp"], "unsupported extension"),
        (["--name", "same.png"], "would both be written to"),
        (["--shard", "3/2"], "--shard"),
        (["--batch-size", "-1"], "--batch-size"),
        (["--each-style", "--style-blend", "1,2"], "--each-style"),
    ],
)
def test_impossible_batch_settings_are_usage_errors(
    batch: Run, photos: Path, images: dict[str, Path], tmp_path: Path, flags: list[str], message: str
) -> None:
    result = batch(str(photos), "-s", str(images["style"]), "-s", str(images["style2"]), "-o", str(tmp_path / "o"),
                   *flags)  # fmt: skip
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_several_results_need_a_folder(batch: Run, photos: Path, images: dict[str, Path], tmp_path: Path) -> None:
    result = batch(str(photos), str(images["style"]), "-o", str(tmp_path / "out.png"))
    assert result.exit_code == 2 and "names a file" in result.stderr


def test_a_name_from_an_input_cannot_leave_the_folder() -> None:
    with pytest.raises(SettingsError):
        output_name("{content}.png", 1, Path(".."), (Path("s.jpg"),), Config())


def test_find_images_scans_sorts_globs_and_skips_the_output_folder(tmp_path: Path) -> None:
    for name in ["b.jpg", "a.PNG", "sub/c.webp", "sub/deeper/d.tif", "out/result.png", ".hidden.jpg", "x.txt"]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    names = lambda paths: [p.relative_to(tmp_path).as_posix() for p in paths]  # noqa: E731
    assert names(find_images([str(tmp_path)])) == ["a.PNG", "b.jpg", "out/result.png"][:2]
    assert names(find_images([str(tmp_path)], recursive=True, skip_folder=tmp_path / "out")) == [
        "a.PNG", "b.jpg", "sub/c.webp", "sub/deeper/d.tif"]  # fmt: skip
    assert names(find_images([str(tmp_path / "*.jpg"), str(tmp_path / "b.jpg")])) == ["b.jpg"]
    assert names(find_images([str(tmp_path / "missing.jpg")])) == ["missing.jpg"]  # fails later, on its own
    with pytest.raises(SettingsError, match="no image file matches"):
        find_images([str(tmp_path / "*.gif")])


def test_a_batch_gives_the_pictures_that_single_runs_give(
    batch: Run, photos: Path, images: dict[str, Path], tmp_path: Path
) -> None:
    for bad in ("truncated.jpg", "notes.jpg"):
        (photos / bad).unlink()
    one = ("--threads", "1")  # the same sums in the same order alone and side by side (see above)
    together = batch(str(photos), str(images["style"]), "-o", str(tmp_path / "together"), "--batch-size", "3", *one)
    assert together.exit_code == 0
    for i in range(4):
        single = tmp_path / f"single{i}.png"
        assert batch(str(photos / f"p{i}.png"), str(images["style"]), "-o", str(single), *one).exit_code == 0
        assert pixel_difference(single, tmp_path / "together" / f"p{i}_style.png") == 0, f"p{i}: batch changed it"


def test_make_jobs_blends_or_grids() -> None:
    contents, styles = [Path("a.jpg"), Path("b.jpg")], [Path("x.jpg"), Path("y.jpg")]
    blended = make_jobs(contents, styles, Path("out"), True, Config())
    assert [j.output.name for j in blended] == ["a_x+y.png", "b_x+y.png"]
    grid = make_jobs(contents, styles, Path("out"), True, Config(), each_style=True)
    assert [(j.index, j.output.name) for j in grid] == [(1, "a_x.png"), (2, "a_y.png"), (3, "b_x.png"), (4, "b_y.png")]


@pytest.mark.slow
def test_sigkill_in_the_middle_leaves_no_partial_file_and_a_rerun_completes(
    weights_file: Callable[[str, str], Path], images: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(8):
        pattern_image(64, 48, seed=40 + i).save(folder / f"f{i}.png")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "stylize", str(folder), str(images["style"]), "-o", str(out), "--weights",
               str(weights_file("vgg19", "relu2_1")), *TINY_LAYERS, "--size", "64", "--iterations", "25",
               "--device", "cpu", "--batch-size", "1", "--progress", "lines"]  # fmt: skip
    environment = {**os.environ, "PYTHONWARNINGS": "ignore"}
    made = []
    for extra_wait in (0.0, 0.3):  # kill twice, at different moments, each after it reported a new picture
        process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=environment)
        assert process.stderr is not None
        with process.stderr:
            for line in process.stderr:
                if b"wrote" in line:
                    break
            time.sleep(extra_wait)
            process.send_signal(signal.SIGKILL)
            process.wait()
        visible = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
        made.append(len(visible))
        for name in visible:
            assert name.endswith("_style.png") and ".unfinished" not in name, name
            with Image.open(out / name) as image:
                image.load()  # complete and decodable
    assert 0 < made[0] < made[1], f"each run wrote a picture before its kill: {made} results on disk"
    finished = subprocess.run(command, capture_output=True, env=environment, timeout=300)
    assert finished.returncode == 0, finished.stderr.decode()
    assert sorted(p.name for p in out.iterdir()) == [f"f{i}_style.png" for i in range(8)]
    assert b"skipped" in finished.stderr


def test_ctrl_c_in_a_batch_keeps_every_unfinished_picture_and_exits_130(
    batch: Run, photos: Path, images: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stylize.optimize import engine
    from stylize.run import pictures

    def interrupted(objective: object, init: object, settings: object, on_step: object, evaluate: object,
                    steering: object = None) -> object:  # fmt: skip
        def stop_at_second(step: engine.Step) -> None:
            assert callable(on_step)
            on_step(step)
            if step.iteration == 2 and step.index == 1:
                raise KeyboardInterrupt

        return engine.optimize_batch(objective, init, settings, stop_at_second, evaluate)  # type: ignore[arg-type]

    monkeypatch.setattr(pictures, "optimize_batch", interrupted)
    out = tmp_path / "out"
    result = batch(str(photos), str(images["style"]), "-o", str(out), "--batch-size", "2")
    assert result.exit_code == 130, result.output
    assert sorted(outputs(out)) == ["p0_style.unfinished.png", "p1_style.unfinished.png"]
    assert result.stderr.count("unfinished image saved") == 2


def test_photos_given_as_styles_by_an_unquoted_glob_get_a_note(
    batch: Run, photos: Path, images: dict[str, Path], tmp_path: Path
) -> None:
    shell_glob = [str(photos / f"p{i}.png") for i in range(3)]  # what `photos/*.png` becomes in the shell
    result = batch(*shell_glob, str(images["style"]), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0
    assert "in a blend of 3 styles" in result.stderr and "name the style with -s" in result.stderr
    assert sorted(outputs(tmp_path / "out")) == ["p0_p1+p2+style.png"]
    with_s = batch(*shell_glob, "-s", str(images["style"]), "-o", str(tmp_path / "three"))
    assert "note" not in with_s.stderr and len(outputs(tmp_path / "three")) == 3


def test_a_photo_that_changes_size_after_planning_fails_alone(
    weights_file: Callable[[str, str], Path], images: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stylize.batch import batches, runner
    from stylize.batch.report import Events
    from stylize.network.loader import load_network

    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(2):
        pattern_image(48, 36, seed=50 + i).save(folder / f"q{i}.png")
    config = Config(weights=weights_file("vgg19", "relu2_1"), size=40, iterations=2, device="cpu",
                    content_layers=parse_layer_list("relu2_1", "c"),
                    style_layers=parse_layer_list("relu1_1,relu2_1", "s"))  # fmt: skip
    jobs = make_jobs(find_images([str(folder)]), [images["style"]], tmp_path / "out", True, config)
    (tmp_path / "out").mkdir()
    real_size = batches.image_size
    monkeypatch.setattr(batches, "image_size", lambda p, limit: (36, 48) if p.name == "q1.png" else real_size(p, limit))
    net = load_network(config)
    report = runner.run_jobs(jobs, config, net, runner.RunOptions(), Events())
    net.extractor.close()
    assert [o.status for o in sorted(report.outcomes, key=lambda o: o.job.index)] == ["done", "failed"]
    assert "changed while the run was planned" in (report.outcomes[-1].error or "")


def test_out_of_memory_retries_the_batch_in_halves(
    batch: Run, photos: Path, images: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    from stylize.batch import runner

    real = runner.transfer_batch
    sizes: list[int] = []

    def small_memory(pictures: list[object], *args: object, **kwargs: object) -> object:
        sizes.append(len(pictures))
        if len(pictures) > 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(pictures, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "transfer_batch", small_memory)
    for bad in ("truncated.jpg", "notes.jpg"):
        (photos / bad).unlink()
    result = batch(str(photos), str(images["style"]), "-o", str(tmp_path / "out"), "--batch-size", "3")
    assert result.exit_code == 0, result.output
    assert "retrying 1 at a time" in result.stderr
    assert len(outputs(tmp_path / "out")) == 4
    assert sizes[0] == 3 and 1 in sizes


def test_transparency_is_carried_to_formats_that_keep_it(batch: Run, images: dict[str, Path], tmp_path: Path) -> None:
    rgba = np.asarray(pattern_image(48, 36, seed=3).convert("RGBA")).copy()
    rgba[:, 24:, 3] = 0  # the right half transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "cutout.png")
    for name in ("keeps.png", "keeps.webp", "white.jpg"):
        result = batch(str(tmp_path / "cutout.png"), str(images["style"]), "-o", str(tmp_path / name))
        assert result.exit_code == 0, result.output
    with Image.open(tmp_path / "keeps.png") as png, Image.open(tmp_path / "keeps.webp") as webp:
        for image in (png, webp):
            assert image.mode == "RGBA"
            alpha = np.asarray(image.getchannel("A"))
            assert alpha[:, :15].min() > 200 and alpha[:, -15:].max() < 50
    with Image.open(tmp_path / "white.jpg") as jpg:
        assert jpg.mode == "RGB"


def test_very_wide_and_tiny_photos_are_made_with_a_warning(batch: Run, images: dict[str, Path], tmp_path: Path) -> None:
    pattern_image(400, 4, seed=8).save(tmp_path / "strip.png")
    pattern_image(6, 5, seed=9).save(tmp_path / "speck.png")
    strip = batch(str(tmp_path / "strip.png"), str(images["style"]), "-o", str(tmp_path / "strip_out.png"))
    assert strip.exit_code == 0, strip.output
    assert "very wide or tall" in strip.stderr
    with Image.open(tmp_path / "strip_out.png") as made:
        assert min(made.size) >= 2 and made.size[0] / made.size[1] == pytest.approx(100, rel=0.05)
    speck = batch(str(tmp_path / "speck.png"), str(images["style"]), "-o", str(tmp_path / "speck_out.png"))
    assert speck.exit_code == 0 and "upscaled" in speck.stderr
    with Image.open(tmp_path / "speck_out.png") as made:
        assert made.size == (40, 33)


def test_results_written_behind_the_next_batch_are_the_same_files_and_all_reported(
    batch: Run, photos: Path, images: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a GPU run does (batch/overlap.py), on the CPU: photos read ahead, results written on the file
    thread while the next batch computes; the same bytes, every outcome reported, the bad files too."""
    from stylize.batch import runner

    made = {}
    for behind in (False, True):
        monkeypatch.setattr(runner, "writes_behind", lambda device, behind=behind: behind)
        out = tmp_path / f"out-{behind}"
        result = batch(str(photos), str(images["style"]), "-o", f"{out}/", "--batch-size", "1", "--log",
                       str(tmp_path / f"log-{behind}.jsonl"))  # fmt: skip
        assert "4 done, 0 skipped, 2 failed" in result.stderr, result.stderr
        made[behind] = outputs(out)
        logged = [json.loads(line) for line in (tmp_path / f"log-{behind}.jsonl").read_text().splitlines()]
        assert sorted(r["status"] for r in logged) == ["done"] * 4 + ["failed"] * 2
    assert made[True] == made[False] and len(made[True]) == 4
