"""A corpus of bad and unusual inputs, made by the tests themselves, and a fuzzer over the loader.

Bad inputs must end in an ImageError naming the file (never another exception, never a hang);
unusual but valid ones must simply load as RGB.
"""

from __future__ import annotations

import io
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import PIL
import pytest
from conftest import pattern_image
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms

from stylize.errors import ImageError
from stylize.io.reading import image_size, read_image

FORMATS = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP", "tif": "TIFF", "gif": "GIF", "bmp": "BMP"}


def encoded(fmt: str, mode: str = "RGB", size: tuple[int, int] = (24, 18), **options: object) -> bytes:
    image = pattern_image(*size, seed=7)
    if mode in ("I;16", "I"):  # a real 16-bit image spans 0..65535
        wide = np.asarray(image.convert("L"), dtype=np.uint16) * 257
        image = Image.fromarray(wide) if mode == "I;16" else Image.fromarray(wide.astype(np.int32))
    elif mode != "RGB":
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, FORMATS[fmt], **options)
    return buffer.getvalue()


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail instead of hanging (SIGALRM; the tests run on Linux)."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"the loader took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def refused_or_loaded(path: Path) -> str:
    """'refused' (an ImageError naming the file) or 'loaded' (an RGB image); anything else fails the test."""
    with time_limit(5):
        try:
            size = image_size(path)
            decoded = read_image(path)
        except ImageError as err:
            assert str(path) in str(err), f"the error must name the file: {err}"
            assert "\n" not in err.message
            return "refused"
    assert decoded.image.mode == "RGB" and decoded.image.size == size
    return "loaded"


# --- the bad ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("keep", [0.0, 0.05, 0.3, 0.6, 0.9, 0.98])
def test_truncations_of_every_format_are_refused_or_loaded(tmp_path: Path, fmt: str, keep: float) -> None:
    data = encoded(fmt)
    path = tmp_path / f"cut.{fmt}"
    path.write_bytes(data[: int(len(data) * keep)])
    outcome = refused_or_loaded(path)
    if keep < 0.3:
        assert outcome == "refused"  # not even the header survives


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.jpg", b""),
        ("text.jpg", b"this is a text file, not a photo\n" * 20),
        ("random.png", bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8))),
        ("zeros.tif", bytes(2048)),
        ("html.webp", b"<!doctype html><html><body>404 Not Found</body></html>"),
        ("png_magic_only.png", b"\x89PNG\r\n\x1a\n"),
        ("jpeg_magic_only.jpg", b"\xff\xd8\xff\xe0"),
    ],
)
def test_things_that_are_not_images_are_refused(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert refused_or_loaded(path) == "refused"


def test_missing_paths_and_folders_are_refused(tmp_path: Path) -> None:
    assert refused_or_loaded(tmp_path / "nowhere.jpg") == "refused"
    (tmp_path / "folder.jpg").mkdir()
    assert refused_or_loaded(tmp_path / "folder.jpg") == "refused"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_a_file_without_read_permission_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "locked.png"
    path.write_bytes(encoded("png"))
    path.chmod(0)
    with pytest.raises(ImageError, match="permission"):
        read_image(path)


def bomb(kind: str, side: int) -> bytes:
    """A few dozen bytes that declare a side x side image."""
    import struct
    import zlib

    if kind == "gif":
        screen = struct.pack("<HHBBB", side, side, 0, 0, 0)
        frame = b"," + struct.pack("<HHHHB", 0, 0, side, side, 0) + b"\x02\x00"  # no pixel data at all
        return b"GIF89a" + screen + frame + b";"

    def chunk(name: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + name + data + struct.pack(">I", zlib.crc32(name + data))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + chunk(b"IEND", b"")


@pytest.mark.parametrize("kind", ["png", "gif"])
@pytest.mark.parametrize("side", [13_000, 30_000, 65_535])
def test_bombs_are_refused_from_the_header_and_the_limit_can_be_raised(tmp_path: Path, kind: str, side: int) -> None:
    path = tmp_path / f"bomb.{kind}"
    path.write_bytes(bomb(kind, side))
    assert path.stat().st_size < 100
    with time_limit(5), pytest.raises(ImageError, match="refused before decoding"):
        read_image(path)
    with time_limit(5), pytest.raises(ImageError, match="refused before decoding"):
        image_size(path)
    assert image_size(path, max_pixels=0) == (side, side)  # no limit: the header is read, nothing decoded


# --- the unusual but valid ----------------------------------------------------------------------

MODES = {
    "1": ["png", "tif", "bmp", "gif"],
    "L": ["png", "jpg", "webp", "tif", "gif", "bmp"],
    "LA": ["png", "webp", "tif"],
    "P": ["png", "tif", "gif", "bmp"],
    "RGBA": ["png", "webp", "tif"],
    "CMYK": ["jpg", "tif"],
    "YCbCr": ["jpg", "tif"],
    "I;16": ["png", "tif"],
    "I": ["tif"],
    "F": ["tif"],
    "LAB": ["tif"],
}


@pytest.mark.parametrize(("mode", "fmt"), [(m, f) for m, fmts in MODES.items() for f in fmts])
def test_every_colour_mode_loads_as_rgb(tmp_path: Path, mode: str, fmt: str) -> None:
    if (mode, fmt) == ("YCbCr", "tif") and int(PIL.__version__.split(".")[0]) < 13:
        pytest.skip("Pillow before 13 cannot read back a YCbCr TIFF it wrote (seen with 10.0 to 12.0)")
    path = tmp_path / f"{mode.replace(';', '_')}.{fmt}"
    path.write_bytes(encoded(fmt, mode))
    assert refused_or_loaded(path) == "loaded"
    pixels = np.asarray(read_image(path).image, dtype=np.float32)
    assert pixels.std() > 1, "the picture must survive the conversion"


def test_sixteen_bit_keeps_its_range(tmp_path: Path) -> None:
    ramp = (np.linspace(0, 65535, 32 * 8).reshape(8, 32)).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "ramp16.png")
    pixels = np.asarray(read_image(tmp_path / "ramp16.png").image)[..., 0]
    assert pixels.min() == 0 and pixels.max() == 255


def test_transparency_is_kept_apart_on_white(tmp_path: Path) -> None:
    rgba = np.zeros((10, 20, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:, :10, 3] = 255  # left half opaque red, right half transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "half.png")
    decoded = read_image(tmp_path / "half.png")
    assert decoded.alpha is not None and decoded.alpha.getextrema() == (0, 255)
    assert tuple(decoded.image.getpixel((15, 5))) == (255, 255, 255)  # type: ignore[arg-type]
    assert tuple(decoded.image.getpixel((5, 5))) == (200, 0, 0)  # type: ignore[arg-type]
    Image.new("RGBA", (8, 8), (1, 2, 3, 255)).save(tmp_path / "opaque.png")
    assert read_image(tmp_path / "opaque.png").alpha is None, "an opaque alpha channel is no transparency"


def test_an_animation_gives_its_first_frame_with_a_note(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (16, 12), colour) for colour in ("red", "green", "blue")]
    for fmt in ("gif", "webp"):
        path = tmp_path / f"anim.{fmt}"
        frames[0].save(path, FORMATS[fmt], save_all=True, append_images=frames[1:], duration=100, loop=0)
        decoded = read_image(path)
        red, green, _ = decoded.image.getpixel((8, 6))  # type: ignore[misc]
        assert red > 200 and green < 60
        assert any("3 frames" in note for note in decoded.notes)


def test_an_icc_profile_is_converted_to_srgb(tmp_path: Path) -> None:
    lab_profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB"))  # an extreme profile: any change shows
    srgb_profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    image = Image.new("RGB", (8, 8), (120, 60, 30))
    image.save(tmp_path / "srgb.png", icc_profile=srgb_profile.tobytes())
    image.save(tmp_path / "other.png", icc_profile=lab_profile.tobytes())
    same = read_image(tmp_path / "srgb.png")
    assert same.image.getpixel((0, 0)) == (120, 60, 30) and not same.notes
    other = read_image(tmp_path / "other.png")
    assert other.image.getpixel((0, 0)) != (120, 60, 30) or other.notes


def test_exif_rotation_very_wide_and_tiny_images_load(tmp_path: Path) -> None:
    for name, size in (("wide.png", (2000, 3)), ("tall.png", (3, 2000)), ("tiny.png", (1, 1))):
        Image.new("RGB", size, "gray").save(tmp_path / name)
        assert refused_or_loaded(tmp_path / name) == "loaded"


# --- the fuzzer ---------------------------------------------------------------------------------

SEEDS = {fmt: encoded(fmt) for fmt in FORMATS}


def mutations() -> st.SearchStrategy[tuple[str, bytes]]:
    """A valid file of some format with bytes flipped, cut, inserted or duplicated."""

    @st.composite
    def mutate(draw: Callable[..., object]) -> tuple[str, bytes]:
        fmt = draw(st.sampled_from(sorted(SEEDS)))
        data = bytearray(SEEDS[str(fmt)])
        for _ in range(int(draw(st.integers(1, 6)))):  # type: ignore[call-overload]
            kind = draw(st.sampled_from(["flip", "cut", "insert", "repeat", "zero"]))
            at = int(draw(st.integers(0, max(0, len(data) - 1))))  # type: ignore[call-overload]
            if kind == "flip" and data:
                data[at] ^= 1 << int(draw(st.integers(0, 7)))  # type: ignore[call-overload]
            elif kind == "cut":
                del data[at : at + int(draw(st.integers(1, 64)))]  # type: ignore[call-overload]
            elif kind == "insert":
                data[at:at] = bytes(draw(st.binary(min_size=1, max_size=16)))  # type: ignore[call-overload]
            elif kind == "repeat":
                data[at:at] = data[at : at + 32]
            else:
                data[at : at + 8] = bytes(8)
        return str(fmt), bytes(data)

    return mutate()


FUZZ_SETTINGS = settings(max_examples=3000, deadline=None, derandomize=True,
                         suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


@FUZZ_SETTINGS
@pytest.mark.slow  # 3000 cases
@given(case=mutations())
def test_mutated_files_are_refused_or_loaded_never_anything_else(tmp_path: Path, case: tuple[str, bytes]) -> None:
    fmt, data = case
    path = tmp_path / f"mutant.{fmt}"
    path.write_bytes(data)
    refused_or_loaded(path)
