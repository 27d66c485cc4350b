"""A video's frames, in order: image files (a folder or a glob, in name order) or a video file (PyAV).

Both say how many frames there are, their size and frame rate (a video file's own; none for
images) and read frames in order from any one. Frames of different sizes are refused before any
work (naming the first odd one); a frame that cannot be read is found when the chain reaches it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from PIL import Image

from ..errors import ImageError, SettingsError
from ..io.reading import image_size, load_image
from ..version import install_hint

VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".wmv", ".flv"})


class Frames(Protocol):
    count: int
    size: tuple[int, int]  # (width, height)
    fps: float | None  # the source's frame rate; None: not known (image files)

    def name(self, index: int) -> Path:
        """What frame `index` (0-based) is called in messages and metadata."""

    def read(self, start: int) -> Iterator[tuple[int, Image.Image]]:
        """(index, RGB image) of every frame from `start` on; ImageError at a frame that cannot be read."""


def is_video_file(spec: str) -> bool:
    return Path(spec).suffix.lower() in VIDEO_SUFFIXES and not Path(spec).is_dir()


def name_order(paths: Sequence[Path]) -> list[Path]:
    """Paths by name, numbers by value (frame2 before frame10), as frame numbering means."""
    def key(path: Path) -> list[Any]:
        return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", str(path))]

    return sorted(paths, key=key)


class ImageFrames:
    """Frames that are image files; all must be one size (read from their headers)."""

    fps: float | None = None

    def __init__(self, paths: Sequence[Path], max_pixels: int) -> None:
        if not paths:
            raise SettingsError("no frames found", hint="give a folder of frames, a quoted glob or a video file")
        self.paths, self.max_pixels = list(paths), max_pixels
        self.count = len(self.paths)
        self.size = _one_size(self.paths, max_pixels)

    def name(self, index: int) -> Path:
        return self.paths[index]

    def read(self, start: int) -> Iterator[tuple[int, Image.Image]]:
        for index in range(start, self.count):
            try:
                yield index, load_image(self.paths[index], self.max_pixels)
            except ImageError as err:
                raise ImageError(f"frame {index + 1}: {err.message}") from None


def _one_size(paths: list[Path], max_pixels: int) -> tuple[int, int]:
    """The frames' common size; a frame of another size is a usage error. A frame whose header cannot be
    read is left to fail when the chain reaches it (the frames before it are made)."""
    first: tuple[Path, tuple[int, int]] | None = None
    for path in paths:
        try:
            size = image_size(path, max_pixels)
        except ImageError:
            continue
        if first is None:
            first = (path, size)
        elif size != first[1]:
            raise SettingsError(f"{path} is {size[0]}x{size[1]}, but {first[0]} is {first[1][0]}x{first[1][1]}: "
                                "the frames of a video must all be one size",
                                hint="resize or remove the odd frames")  # fmt: skip
    if first is None:
        raise ImageError(f"none of the {len(paths)} frames can be read (first: {paths[0]})")
    return first[1]


class VideoFile:
    """Frames decoded from a video file by PyAV (FFmpeg's decoders)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        av = video_library()
        try:
            with av.open(str(path)) as container:
                if not container.streams.video:
                    raise ImageError(f"{path}: has no video stream")
                stream = container.streams.video[0]
                self.size = (stream.codec_context.width, stream.codec_context.height)
                self.fps = float(stream.average_rate) if stream.average_rate else None
                self.count = sum(1 for packet in container.demux(stream) if packet.size)
        except (av.FFmpegError, OSError, ValueError) as err:
            raise ImageError(f"{path}: cannot be read as a video ({_reason(err)})") from None
        if self.count == 0 or min(self.size) <= 0:
            raise ImageError(f"{path}: has no frames that can be decoded")

    def name(self, index: int) -> Path:
        return self.path.with_name(f"{self.path.name}#{index + 1:06d}")

    def read(self, start: int) -> Iterator[tuple[int, Image.Image]]:
        av = video_library()
        index = -1
        try:
            with av.open(str(self.path)) as container:
                for index, frame in enumerate(container.decode(video=0)):
                    if index >= start:
                        yield index, frame.to_image().convert("RGB")
        except (av.FFmpegError, OSError, ValueError) as err:
            raise ImageError(f"{self.path}: frame {index + 2} cannot be decoded ({_reason(err)})") from None


def _reason(err: Exception) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def video_library() -> Any:
    try:
        import av
    except ImportError:
        raise SettingsError("video files need PyAV", hint=install_hint("video")) from None
    return av
