"""`stylize FRAMES STYLE -o OUT/ --video`: frames made in order as a chain, resumed, sharded, encoded; bad input."""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from click.testing import Result as CliResult
from conftest import TINY_LAYERS, read_rgb
from PIL import Image
from video_clips import panning_clip, save_frames, texture

from stylize.cli import main
from stylize.io.metadata import read_metadata
from stylize.version import install_hint, pip_install
from stylize.video.encode import encode_video
from stylize.video.source import VideoFile, name_order

pytest.importorskip("av")
pytest.importorskip("cv2")

VideoRun = Callable[..., CliResult]


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return save_frames(panning_clip(texture(300, 200), 5, size=(64, 48)), tmp_path / "frames")


@pytest.fixture
def video(weights_file: Callable[[str, str], Path], images: dict[str, Path], tmp_path: Path) -> VideoRun:
    """video(frames, *extra) -> `stylize FRAMES style.png -o tmp/out/ --video` with a tiny random network."""

    def invoke(frames: Path | str, *extra: str, out: str = "out/") -> CliResult:
        args = [str(frames), str(images["style"]), "-o", str(tmp_path / out), "--video", "--device", "cpu"]
        args += ["--weights", str(weights_file("vgg19", "relu2_1")), *TINY_LAYERS, "--size", "40"]
        args += ["--iterations", "4", "--video-iterations", "2", "--progress", "lines", *extra]
        return CliRunner().invoke(main, args)

    return invoke


def frames_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def test_every_frame_is_made_in_order_each_chained_to_the_last(video: VideoRun, clip: Path, tmp_path: Path) -> None:
    result = video(clip, "--video-out", str(tmp_path / "clip.mp4"), "--fps", "12")
    assert result.exit_code == 0, result.output
    made = frames_in(tmp_path / "out")
    assert [p.name for p in made] == [f"{i:06d}.png" for i in range(1, 6)]
    notes = [read_metadata(p)["video"] for p in made]
    assert [n["frame"] for n in notes] == [1, 2, 3, 4, 5]
    assert [n["chained"] for n in notes] == [False, True, True, True, True]
    assert notes[1]["temporal_weight"] == 100.0
    first, later = read_metadata(made[0]), read_metadata(made[1])
    assert first["content"] == "frame1.png" and first["iterations_done"] == 4
    assert later["iterations_done"] == 2 and later["config"]["scales"] == 1
    encoded = VideoFile(tmp_path / "clip.mp4")
    assert (encoded.count, encoded.size, encoded.fps) == (5, read_rgb(made[0]).size, 12.0)
    assert "5 frames encoded" in result.output


def test_a_rerun_continues_at_the_first_missing_frame_and_makes_the_same_frames(
    video: VideoRun, clip: Path, tmp_path: Path
) -> None:
    assert video(clip).exit_code == 0
    made = frames_in(tmp_path / "out")
    whole = [p.read_bytes() for p in made]
    for path in made[2:]:  # as if killed after frame 2
        path.unlink()
    kept = made[1].stat().st_mtime_ns
    result = video(clip, "--log", str(tmp_path / "run.jsonl"))
    assert result.exit_code == 0, result.output
    log = [json.loads(line) for line in (tmp_path / "run.jsonl").read_text().splitlines()]
    assert [entry["status"] for entry in log] == ["skipped", "skipped", "done", "done", "done"]
    assert made[1].stat().st_mtime_ns == kept
    assert [p.read_bytes() for p in made] == whole  # frame 3 chained from frame 2 as read back from disk


def test_frames_after_a_gap_are_made_again(video: VideoRun, clip: Path, tmp_path: Path) -> None:
    assert video(clip).exit_code == 0
    made = frames_in(tmp_path / "out")
    made[1].unlink()
    result = video(clip, "--log", str(tmp_path / "run.jsonl"))
    assert result.exit_code == 0
    log = [json.loads(line)["status"] for line in (tmp_path / "run.jsonl").read_text().splitlines()]
    assert log == ["skipped", "done", "done", "done", "done"]


def test_an_unreadable_frame_stops_the_run_there_and_keeps_the_frames_before(
    video: VideoRun, clip: Path, tmp_path: Path
) -> None:
    (clip / "frame4.png").write_bytes(b"\x89PNG broken")
    result = video(clip)
    assert result.exit_code == 1
    assert "frame4.png" in result.output and "frame 4" in result.output
    assert [p.name for p in frames_in(tmp_path / "out")] == ["000001.png", "000002.png", "000003.png"]


def test_frames_of_different_sizes_are_a_usage_error_naming_the_first_odd_one(
    video: VideoRun, clip: Path, tmp_path: Path
) -> None:
    Image.new("RGB", (50, 50)).save(clip / "frame3.png")
    Image.new("RGB", (30, 50)).save(clip / "frame5.png")
    result = video(clip)
    assert result.exit_code == 2
    assert "frame3.png is 50x50" in result.output and "frame5" not in result.output
    assert not (tmp_path / "out").exists()


def test_a_file_that_cannot_be_decoded_is_one_line(video: VideoRun, tmp_path: Path) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video at all" * 50)
    result = video(bad)
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "broken.mp4: cannot be read as a video" in result.output


def test_a_video_file_is_read_frame_by_frame(video: VideoRun, clip: Path, tmp_path: Path) -> None:
    encode_video(name_order(frames_in(clip)), tmp_path / "in.mp4", 10.0)
    result = video(tmp_path / "in.mp4", "--video-out", str(tmp_path / "out.mp4"))
    assert result.exit_code == 0, result.output
    made = frames_in(tmp_path / "out")
    assert len(made) == 5 and read_metadata(made[4])["content"] == "in.mp4#000005"
    assert VideoFile(tmp_path / "out.mp4").fps == 10.0  # the input's rate


def test_shards_make_contiguous_stretches_each_chained_from_its_own_lead_in(
    video: VideoRun, clip: Path, tmp_path: Path
) -> None:
    assert video(clip, "--shard", "2/2").exit_code == 0
    assert [p.name for p in frames_in(tmp_path / "out")] == ["000003.png", "000004.png", "000005.png"]
    assert read_metadata(tmp_path / "out" / "000003.png")["video"]["chained"] is True  # from frame 2, not written
    assert video(clip, "--shard", "1/2").exit_code == 0
    assert len(frames_in(tmp_path / "out")) == 5
    result = video(clip, "--video-out", str(tmp_path / "all.mp4"))  # all there: only encodes
    assert result.exit_code == 0 and "0 done, 5 skipped" in result.output
    assert VideoFile(tmp_path / "all.mp4").count == 5


@pytest.mark.parametrize("extra, message", [
    (("--video-out", "x.mp4", "--shard", "1/2"), "run once more without --shard"),
    (("--video-out", "x.avi"), "cannot write '.avi'"),
    (("--fps", "0", "--video-out", "x.mp4"), "--fps must be > 0"),
    (("--each-style",), "--each-style"),
    (("--video-iterations", "few"), "neither a count nor 'auto'"),
    (("--temporal-weight", "-2"), "--temporal-weight must be"),
])  # fmt: skip
def test_misused_video_flags_are_usage_errors(video: VideoRun, clip: Path, tmp_path: Path, extra: tuple[str, ...],
                                              message: str) -> None:  # fmt: skip
    result = video(clip, *extra)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (tmp_path / "out").exists()


def test_video_needs_a_folder_output_and_video_flags_need_video(
    run: Callable[..., CliResult], video: VideoRun, clip: Path
) -> None:
    assert "with --video, -o is the folder of frames" in video(clip, out="one.png").output
    result = run("--video-out", "x.mp4")
    assert result.exit_code == 2 and "--video-out and --fps are for --video runs" in result.output


def test_dry_run_lists_the_frames_to_make(video: VideoRun, clip: Path, tmp_path: Path) -> None:
    assert video(clip, "--shard", "1/2").exit_code == 0  # frames 1 and 2
    result = video(clip, "--dry-run")
    assert result.exit_code == 0
    assert "5 frames of 64x48" in result.output and "continuing at 3" in result.output
    lines = [line.split("\t")[0] for line in result.output.splitlines() if "\t" in line]
    assert lines == ["skip", "skip", "make", "make", "make"]


def test_each_frame_is_a_picture_of_the_run_size(video: VideoRun, clip: Path, tmp_path: Path) -> None:
    assert video(clip).exit_code == 0
    sizes = {read_rgb(p).size for p in frames_in(tmp_path / "out")}
    assert sizes == {(40, 30)}
    pictures = [np.asarray(read_rgb(p), np.float32) for p in frames_in(tmp_path / "out")]
    assert all(np.abs(a - b).mean() > 0 for a, b in itertools.pairwise(pictures))  # each frame its own picture


@pytest.mark.parametrize("library", ["cv2", "av"])
def test_a_missing_extra_is_a_usage_error_with_the_install_command(
    video: VideoRun, clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, library: str
) -> None:
    monkeypatch.setitem(sys.modules, library, None)  # import fails as if not installed
    result = video(clip, "--video-out", str(tmp_path / "x.mp4"))
    assert result.exit_code == 2
    assert install_hint("video") in result.output and "neural-stylize[video]" in pip_install("video")
    assert not (tmp_path / "out").exists()
