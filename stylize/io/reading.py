"""Image files -> upright sRGB images, refusing hostile input before spending resources on it.

Every problem is an ImageError naming the file: a missing path, a folder, no permission, an
empty, truncated or corrupt file, something that is not an image, or an image that declares
more pixels than the limit (checked from the header, before anything is decoded: a small file
can declare a huge image). Unusual but valid images simply work: EXIF rotation is applied, an
ICC profile is converted to sRGB, every colour mode becomes RGB (16-bit scaled, CMYK converted),
an animation gives its first frame, and transparency is kept apart as an alpha channel (the
RGB has transparent areas on white).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from ..config import MAX_PIXELS
from ..errors import ImageError

ORIENTATION_TAG = 0x0112  # EXIF; values 5-8 turn the image a quarter


@dataclass(frozen=True)
class Decoded:
    image: Image.Image  # RGB, upright, sRGB; transparent areas composited on white
    alpha: Image.Image | None  # mode L, the file's transparency, where it had any
    notes: tuple[str, ...] = ()  # what a user should know (an animation's first frame was used, ...)


def read_image(path: Path, max_pixels: int = MAX_PIXELS) -> Decoded:
    """Decode `path`, or raise ImageError naming the file and the problem."""
    with _open(path, max_pixels) as opened, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow's notes on damaged files ("Tag data larger than file") help no user
        try:
            return _decode(opened, path)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
            raise ImageError(f"{path}: cannot decode image ({err})") from None
        except Exception as err:  # a malformed file can trip any decoder; one bad input must not end a batch
            raise ImageError(f"{path}: cannot decode image ({type(err).__name__}: {err})") from None


def load_image(path: Path, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """The RGB image of `path` (transparent areas on white)."""
    return read_image(path, max_pixels).image


def image_size(path: Path, max_pixels: int = MAX_PIXELS) -> tuple[int, int]:
    """(width, height) of the upright image, from the file's header only (nothing is decoded)."""
    with _open(path, max_pixels) as opened, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        width, height = opened.size
        try:
            orientation = opened.getexif().get(ORIENTATION_TAG, 1)
        except Exception:  # unreadable EXIF: decoding will say what is wrong with the file
            orientation = 1
        return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _open(path: Path, max_pixels: int) -> Image.Image:
    """Open (header only) with errors that name the file; refuses images over `max_pixels` (0: no limit)."""
    if not path.exists():
        raise ImageError(f"{path}: no such file")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, expected an image file")
    opened: Image.Image
    try:
        with warnings.catch_warnings():  # we check the size ourselves, below, with the user's limit
            warnings.simplefilter("ignore")  # ... and Pillow's notes on damaged headers help no user
            opened = Image.open(path)
    except UnidentifiedImageError:
        empty = " (the file is empty)" if path.stat().st_size == 0 else ""
        raise ImageError(f"{path}: not an image Pillow can read{empty}") from None
    except Image.DecompressionBombError:  # Pillow's own guard, at twice its MAX_IMAGE_PIXELS (179 MP)
        if max_pixels and max_pixels <= 2 * (Image.MAX_IMAGE_PIXELS or 0):
            raise ImageError(f"{path}: declares more than {_megapixels(max_pixels)}; refused before decoding",
                             hint="raise --max-pixels if you trust the file") from None  # fmt: skip
        opened = _open_unguarded(path)
    except PermissionError:
        raise ImageError(f"{path}: no permission to read it") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise ImageError(f"{path}: cannot read image ({err})") from None
    except Exception as err:  # as in read_image: a malformed header can trip any plugin
        raise ImageError(f"{path}: cannot read image ({type(err).__name__}: {err})") from None
    width, height = opened.size
    if max_pixels and width * height > max_pixels:
        opened.close()
        raise ImageError(f"{path}: {width}x{height} is {_megapixels(width * height)}, more than the limit of "
                         f"{_megapixels(max_pixels)}; refused before decoding",
                         hint="raise --max-pixels if you trust the file")  # fmt: skip
    if width < 1 or height < 1:
        opened.close()
        raise ImageError(f"{path}: declares an empty image ({width}x{height})")
    return opened


def _open_unguarded(path: Path) -> Image.Image:
    """Open without Pillow's bomb guard, for a user who raised --max-pixels above it."""
    previous, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        return Image.open(path)
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.0f} megapixels" if pixels >= 1e6 else f"{pixels} pixels"


def _decode(opened: Image.Image, path: Path) -> Decoded:
    notes = []
    frames = getattr(opened, "n_frames", 1)
    if frames > 1:
        opened.seek(0)
        notes.append(f"{path}: animated ({frames} frames); the first frame is used")
    opened.load()
    image = ImageOps.exif_transpose(opened)
    image, converted = _to_srgb(image)
    if converted is False:
        notes.append(f"{path}: its colour profile could not be applied; colours are used as stored")
    alpha = _alpha(image)
    if alpha is not None:
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image.convert("RGBA"))
    return Decoded(_to_rgb(image), alpha, tuple(notes))


def _to_srgb(image: Image.Image) -> tuple[Image.Image, bool | None]:
    """Apply an embedded ICC profile (-> sRGB). None: there was none; False: it could not be applied."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK", "L", "LA"):
        return image, None
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        mode = "RGBA" if image.mode in ("RGBA", "LA") else "RGB"
        if image.mode == "LA":  # lcms has no gray+alpha transform: carry the alpha around it
            converted = ImageCms.profileToProfile(image.convert("L"), source, ImageCms.createProfile("sRGB"),
                                                  outputMode="RGB")  # fmt: skip
            assert converted is not None
            converted.putalpha(image.getchannel("A"))
            return converted, True
        result = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=mode)
        assert result is not None
        return result, True
    except Exception:  # a broken or unusual profile: the pixels are still usable
        return image, False


def _alpha(image: Image.Image) -> Image.Image | None:
    """The transparency as mode L, or None where the image is opaque."""
    if image.mode not in ("RGBA", "LA", "PA", "P", "RGBa", "La") and "transparency" not in image.info:
        return None
    if image.mode == "P" and "transparency" not in image.info:
        return None
    alpha = image.convert("RGBA").getchannel("A")
    return None if alpha.getextrema() == (255, 255) else alpha


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image.copy()
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        array = np.asarray(image, dtype=np.float64)
        if image.mode != "F":
            array = array / 257.0  # 16-bit to 8-bit
        return Image.fromarray(np.clip(np.nan_to_num(array), 0, 255).astype(np.uint8)).convert("RGB")
    return image.convert("RGB")
