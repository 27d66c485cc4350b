"""Stylised frames -> one video file, encoded by PyAV (FFmpeg's encoders): H.264 in .mp4 .mov .mkv, VP9 in .webm.

Written aside and renamed into place, like every result, so a killed run leaves no half video.
H.264 in 4:2:0 needs even sides: a frame with an odd side loses its last row or column.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

from ..errors import ImageError, SettingsError, WriteError
from ..io.reading import load_image
from ..io.saving import part_path
from .source import video_library

CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}
QUALITY = {"libx264": {"crf": "18", "preset": "medium"}, "libvpx-vp9": {"crf": "30", "b": "0"}}


def check_video_output(path: Path) -> None:
    """--video-out names a container we can write: SettingsError otherwise."""
    if path.suffix.lower() not in CONTAINERS:
        raise SettingsError(f"--video-out {path}: cannot write {path.suffix or 'a file without extension'!r}",
                            hint=f"use one of {', '.join(CONTAINERS)}")  # fmt: skip
    video_library()


def _codec(suffix: str, available: set[str]) -> str:
    wanted = ["libvpx-vp9"] if suffix == ".webm" else ["libx264", "mpeg4"]
    for codec in wanted:
        if codec in available:
            return codec
    raise SettingsError(f"this PyAV has no encoder for {suffix} ({' or '.join(wanted)})")


def encode_video(frames: Sequence[Path], output: Path, fps: float,
                 on_frame: Callable[[int], None] | None = None) -> None:  # fmt: skip
    """Encode the image files `frames` (one size, in order) at `fps` frames a second into `output`."""
    av = video_library()
    suffix = output.suffix.lower()
    codec = _codec(suffix, set(av.codecs_available))
    tmp = part_path(output)
    try:
        with av.open(str(tmp), mode="w", format=CONTAINERS[suffix]) as container:
            stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
            for done, path in enumerate(frames, 1):
                picture = load_image(path)
                width, height = picture.width // 2 * 2, picture.height // 2 * 2
                if done == 1:
                    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
                    stream.options = QUALITY.get(codec, {})
                frame = av.VideoFrame.from_image(picture.crop((0, 0, width, height)))
                container.mux(stream.encode(frame))
                if on_frame is not None:
                    on_frame(done)
            container.mux(stream.encode(None))
        os.replace(tmp, output)
    except OSError as err:
        raise WriteError(f"{output}: cannot write ({err.strerror or err})", err.errno) from None
    except (av.FFmpegError, ValueError) as err:
        raise ImageError(f"{output}: cannot encode the video ({str(err).splitlines()[0]})") from None
    finally:
        if tmp.exists():
            tmp.unlink()
