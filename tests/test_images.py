from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import pattern_image, resize_long_side
from PIL import Image

from stylize.errors import ImageError
from stylize.io.metadata import read_metadata
from stylize.io.reading import load_image
from stylize.io.saving import check_output_path, save_image
from stylize.io.tensors import to_pil, to_tensor


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    image = Image.new("RGB", (40, 20), "red")
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when displayed
    path = tmp_path / "rotated.jpg"
    image.save(path, exif=exif)
    assert load_image(path).size == (20, 40)


@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "LA", "CMYK", "I;16", "1"])
def test_colour_modes_become_rgb(tmp_path: Path, mode: str) -> None:
    source = pattern_image(24, 16, 0)
    if mode == "I;16":  # real 16-bit data: 0..65535
        converted = Image.fromarray(np.asarray(source.convert("L")).astype(np.uint16) * 257)
    else:
        converted = source.convert(mode)
    path = tmp_path / ("img.tif" if mode in ("CMYK",) else "img.png")
    converted.save(path)
    loaded = load_image(path)
    assert loaded.mode == "RGB" and loaded.size == (24, 16)
    if mode == "I;16":
        assert np.asarray(loaded).max() > 100  # 16-bit values are scaled, not clipped to white/black


def test_transparent_areas_become_white(tmp_path: Path) -> None:
    path = tmp_path / "alpha.png"
    Image.new("RGBA", (4, 4), (0, 0, 0, 0)).save(path)
    assert np.asarray(load_image(path)).min() == 255


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "no such file"),
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: p.write_bytes(b"hello, not an image"), "not an image"),
        (lambda p: p.write_bytes(b""), "not an image"),
    ],
)
def test_unreadable_inputs_are_image_errors(tmp_path: Path, make: object, message: str) -> None:
    path = tmp_path / "input.jpg"
    make(path)  # type: ignore[operator]
    with pytest.raises(ImageError, match=message):
        load_image(path)


def test_truncated_jpeg_is_an_image_error(tmp_path: Path) -> None:
    full = tmp_path / "full.jpg"
    pattern_image(64, 64, 0).save(full, quality=90)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(full.read_bytes()[:300])
    with pytest.raises(ImageError, match=str(cut.name)):
        load_image(cut)


def test_resize_long_side_keeps_aspect() -> None:
    assert resize_long_side(Image.new("RGB", (1024, 768)), 256).size == (256, 192)
    assert resize_long_side(Image.new("RGB", (300, 600)), 100).size == (50, 100)


def test_tensor_round_trip_is_exact() -> None:
    image = pattern_image(10, 7, 4)
    tensor = to_tensor(image)
    assert tensor.shape == (1, 3, 7, 10) and tensor.is_contiguous()
    assert np.array_equal(np.asarray(to_pil(tensor)), np.asarray(image))


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp", ".tif"])
def test_save_formats_from_extension_atomically(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"out{suffix}"
    save_image(torch.rand(1, 3, 8, 12), path, {"a": 1})
    with Image.open(path) as saved:
        assert saved.size == (12, 8)
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "no temporary file may remain"
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_png_metadata_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "out.png"
    save_image(torch.rand(1, 3, 4, 4), path, {"seed": 7, "layers": ["relu1_1"]})
    assert read_metadata(path) == {"seed": 7, "layers": ["relu1_1"]}
    plain = tmp_path / "plain.png"
    Image.new("RGB", (2, 2)).save(plain)
    with pytest.raises(ImageError, match="no stylize parameters"):
        read_metadata(plain)


def test_bad_output_paths_are_found_before_work(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="unsupported output format"):
        check_output_path(tmp_path / "out.gif")
    with pytest.raises(ImageError, match="does not exist"):
        check_output_path(tmp_path / "missing" / "out.png")
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(ImageError, match="is a folder"):
        check_output_path(tmp_path / "dir.png")


def png_header_only(path: Path, width: int, height: int) -> None:
    """A 60-byte PNG that declares a width x height image (a decompression bomb's header)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))


def test_an_image_declaring_too_many_pixels_is_refused_before_decoding(tmp_path: Path) -> None:
    from stylize.io.reading import MAX_PIXELS, image_size

    for side in (13_000, 30_000):  # over our limit; over Pillow's own guard too
        bomb = tmp_path / f"bomb{side}.png"
        png_header_only(bomb, side, side)
        assert bomb.stat().st_size < 100 and side**2 > MAX_PIXELS
        for read in (load_image, image_size):
            with pytest.raises(ImageError, match=r"megapixels.*; refused before decoding"):
                read(bomb)


def test_image_size_reads_the_header_and_applies_exif_rotation(tmp_path: Path) -> None:
    from stylize.io.reading import image_size

    image = Image.new("RGB", (40, 20), "red")
    exif = image.getexif()
    exif[0x0112] = 6
    image.save(tmp_path / "r.jpg", exif=exif)
    assert image_size(tmp_path / "r.jpg") == (20, 40) == load_image(tmp_path / "r.jpg").size
