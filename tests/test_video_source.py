"""A video's frames (image files or a video file), its chunks for --shard, where a rerun continues, encoding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from video_clips import panning_clip, save_frames, texture

from stylize.errors import ImageError, SettingsError
from stylize.video.chunks import Chunk, chain_start, video_chunk
from stylize.video.encode import check_video_output, encode_video
from stylize.video.source import ImageFrames, VideoFile, is_video_file, name_order

pytest.importorskip("av")


def test_frames_are_in_name_order_with_numbers_by_value() -> None:
    paths = [Path(p) for p in ("f10.png", "f2.png", "f1.png", "g1.png")]
    assert [p.name for p in name_order(paths)] == ["f1.png", "f2.png", "f10.png", "g1.png"]


def test_image_frames_read_in_order_from_any_frame(tmp_path: Path) -> None:
    frames = panning_clip(texture(300, 200), 4, size=(64, 48))
    folder = save_frames(frames, tmp_path / "frames")
    source = ImageFrames(name_order(list(folder.iterdir())), 0)
    assert source.count == 4 and source.size == (64, 48) and source.fps is None
    read = list(source.read(2))
    assert [index for index, _ in read] == [2, 3]
    assert np.array_equal(np.asarray(read[0][1]), np.asarray(frames[2]))
    assert source.name(0).name == "frame1.png"


def test_a_frame_of_another_size_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    folder = save_frames(panning_clip(texture(300, 200), 4, size=(64, 48)), tmp_path / "frames")
    Image.new("RGB", (48, 64)).save(folder / "frame3.png")
    with pytest.raises(SettingsError, match=r"frame3\.png is 48x64, but .*frame1\.png is 64x48"):
        ImageFrames(name_order(list(folder.iterdir())), 0)


def test_an_unreadable_frame_fails_when_it_is_reached(tmp_path: Path) -> None:
    folder = save_frames(panning_clip(texture(300, 200), 4, size=(64, 48)), tmp_path / "frames")
    (folder / "frame3.png").write_bytes(b"not a picture")
    source = ImageFrames(name_order(list(folder.iterdir())), 0)  # planning goes on: frames 1 and 2 can be made
    seen = []
    with pytest.raises(ImageError, match=r"frame 3: .*frame3\.png"):
        for index, _ in source.read(0):
            seen.append(index)
    assert seen == [0, 1]


def test_a_video_file_encoded_here_reads_back_frame_by_frame(tmp_path: Path) -> None:
    frames = panning_clip(texture(300, 200), 6, size=(64, 48))
    folder = save_frames(frames, tmp_path / "frames")
    video = tmp_path / "clip.mp4"
    encode_video(name_order(list(folder.iterdir())), video, 12.0)
    source = VideoFile(video)
    assert (source.count, source.size, source.fps) == (6, (64, 48), 12.0)
    read = list(source.read(4))
    assert [index for index, _ in read] == [4, 5]
    differences = [np.abs(np.asarray(read[0][1], np.float32) - np.asarray(f, np.float32)).mean() for f in frames]
    assert int(np.argmin(differences)) == 4 and differences[4] < 0.5 * sorted(differences)[1]  # its own frame
    assert source.name(4).name == "clip.mp4#000005"
    assert is_video_file(str(video)) and not is_video_file(str(folder))


def test_odd_sides_lose_a_row_and_nothing_is_left_half_written(tmp_path: Path) -> None:
    folder = save_frames(panning_clip(texture(300, 200), 3, size=(65, 47)), tmp_path / "frames")
    video = tmp_path / "odd.webm"
    encode_video(name_order(list(folder.iterdir())), video, 24.0)
    assert VideoFile(video).size == (64, 46)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames", "odd.webm"]


def test_a_file_that_is_not_a_video_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 1000)
    with pytest.raises(ImageError) as caught:
        VideoFile(bad)
    assert "bad.mp4: cannot be read as a video" in str(caught.value) and "\n" not in str(caught.value)


def test_video_out_needs_a_container_we_write() -> None:
    with pytest.raises(SettingsError, match=r"\.avi"):
        check_video_output(Path("out.avi"))
    check_video_output(Path("out.mp4"))


@pytest.mark.parametrize("frames, shards", [(24, 4), (10, 3), (5, 5), (3, 4), (1, 1)])
def test_shards_are_contiguous_chunks_covering_every_frame_once(frames: int, shards: int) -> None:
    chunks = [video_chunk(frames, (k, shards)) for k in range(1, shards + 1)]
    written = [i for c in chunks for i in range(c.first, c.last + 1)]
    assert written == list(range(frames))
    for chunk in chunks:
        assert chunk.lead_in == (chunk.first - 1 if chunk.first > 0 else None)
    assert video_chunk(frames, None) == Chunk(0, frames - 1, None)


def test_a_rerun_continues_at_the_first_missing_frame() -> None:
    chunk = Chunk(5, 9, 4)
    assert chain_start(chunk, lambda i: i < 7) == 7
    assert chain_start(chunk, lambda i: i != 8) == 5 + 3  # a gap: the chain goes on from there
    assert chain_start(chunk, lambda i: True) == 10
    assert chain_start(chunk, lambda i: False) == 5
