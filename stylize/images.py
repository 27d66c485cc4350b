"""Image files <-> tensors: decoding, EXIF orientation, colour modes, resizing, atomic saving.

Tensors are (1, 3, H, W) float32 RGB in [0, 1].
"""

from __future__ import annotations

import json
import os
import re
import socket
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from .errors import ImageError
from .formats import OUTPUT_FORMATS

METADATA_KEY = "stylize"
MAX_PIXELS = 150_000_000  # larger images are refused before decoding (a small file can declare a huge image)
# .NAME.HOST.PID.part: a result being written; left behind only if the writer was killed mid-write
PART_FILE = re.compile(r"^\.(?P<name>.+)\.(?P<host>[^.]+)\.(?P<pid>\d+)\.part$")


def load_image(path: Path) -> Image.Image:
    """Decode `path` to an upright RGB image, or raise ImageError naming the file and problem."""
    with _open(path) as opened:
        try:
            opened.load()
            upright = ImageOps.exif_transpose(opened)
            return _to_rgb(upright)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
            raise ImageError(f"{path}: cannot decode image ({err})") from None
        except Exception as err:  # a malformed file can trip any decoder; one bad input must not end a batch
            raise ImageError(f"{path}: cannot decode image ({type(err).__name__}: {err})") from None


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) of the upright image, from the file's header only (nothing is decoded)."""
    with _open(path) as opened:
        width, height = opened.size
        try:
            orientation = opened.getexif().get(0x0112, 1)  # EXIF orientation 5-8 turn the image a quarter
        except Exception:  # unreadable EXIF: decoding will say what is wrong with the file
            orientation = 1
        return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _open(path: Path) -> Image.Image:
    """Open (header only) with errors that name the file; refuses images over MAX_PIXELS."""
    if not path.exists():
        raise ImageError(f"{path}: no such file")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, expected an image file")
    try:
        with warnings.catch_warnings():  # we check the size ourselves, below
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            opened = Image.open(path)
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image Pillow can read") from None
    except Image.DecompressionBombError:  # Pillow's own guard, at twice its MAX_IMAGE_PIXELS
        limit = MAX_PIXELS / 1e6
        raise ImageError(f"{path}: declares more than {limit:.0f} megapixels; refused before decoding") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise ImageError(f"{path}: cannot read image ({err})") from None
    except Exception as err:  # as in load_image: a malformed header can trip any plugin
        raise ImageError(f"{path}: cannot read image ({type(err).__name__}: {err})") from None
    width, height = opened.size
    if width * height > MAX_PIXELS:
        opened.close()
        raise ImageError(f"{path}: {width}x{height} is {width * height / 1e6:.0f} megapixels, more than the "
                         f"limit of {MAX_PIXELS / 1e6:.0f}; refused before decoding")  # fmt: skip
    return opened


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image.copy()
    if image.mode in ("RGBA", "LA", "P", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")  # transparent areas on white
    if image.mode.startswith("I;16") or image.mode == "I":
        array = np.asarray(image, dtype=np.float64)
        return Image.fromarray(np.clip(array / 257.0, 0, 255).astype(np.uint8)).convert("RGB")
    return image.convert("RGB")


def long_side_size(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """(width, height) scaled so that the longer side is `long_side` px, keeping the aspect ratio."""
    width, height = size
    scale = long_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def resize_long_side(image: Image.Image, size: int) -> Image.Image:
    """Scale so that the longer side is `size` px, keeping the aspect ratio."""
    new = long_side_size(image.size, size)
    return image if new == image.size else image.resize(new, Image.Resampling.LANCZOS)


def resize_exact(image: Image.Image, height: int, width: int) -> Image.Image:
    return image if image.size == (width, height) else image.resize((width, height), Image.Resampling.LANCZOS)


def to_tensor(image: Image.Image) -> torch.Tensor:
    array = np.asarray(image, dtype=np.float32) / 255.0  # (H, W, 3)
    return torch.from_numpy(array).permute(2, 0, 1).contiguous()[None]  # (1, 3, H, W)


def to_pil(tensor: torch.Tensor) -> Image.Image:
    array = tensor.detach().float().cpu()[0].clamp(0, 1).permute(1, 2, 0).numpy()  # (H, W, 3)
    return Image.fromarray(np.round(array * 255.0).astype(np.uint8), mode="RGB")


def check_output_path(path: Path) -> None:
    """Fail now, before any computation, if `path` cannot be written."""
    if path.suffix.lower() not in OUTPUT_FORMATS:
        raise ImageError(f"{path}: unsupported output format {path.suffix or '(no extension)'!r}",
                         hint=f"use one of {', '.join(sorted(OUTPUT_FORMATS))}")  # fmt: skip
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ImageError(f"{path}: the folder {folder} does not exist", hint="create it first")
    if not os.access(folder, os.W_OK):
        raise ImageError(f"{path}: the folder {folder} is not writable")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, expected a file name")


def save_image(tensor: torch.Tensor, path: Path, metadata: dict[str, Any] | None = None) -> None:
    """Write atomically (temporary file in the same folder, then rename); metadata as PNG text."""
    check_output_path(path)
    fmt, options = OUTPUT_FORMATS[path.suffix.lower()]
    options = dict(options)
    if metadata is not None and fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text(METADATA_KEY, json.dumps(metadata, sort_keys=True))
        options["pnginfo"] = info
    tmp = path.with_name(f".{path.name}.{_host()}.{os.getpid()}.part")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)  # the umask applies, as for any file
        with os.fdopen(fd, "wb") as out:
            to_pil(tensor).save(out, format=fmt, **options)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except OSError as err:
        raise ImageError(f"{path}: cannot write ({err.strerror or err})") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def remove_stale_parts(folder: Path) -> list[Path]:
    """Delete the .part files that writers on this machine left when they were killed; the removed paths.

    A part file whose writer still runs (another shard) or ran on another machine is left alone.
    """
    removed = []
    for entry in folder.iterdir() if folder.is_dir() else []:
        match = PART_FILE.match(entry.name)
        if match and match["host"] == _host() and not _alive(int(match["pid"])):
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def _host() -> str:
    return socket.gethostname().split(".")[0].replace(".", "_") or "host"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # a part file with our own pid is from an earlier process that had the same pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def read_metadata(path: Path) -> dict[str, Any]:
    """The run parameters a PNG made by stylize carries, or ImageError."""
    try:
        with Image.open(path) as image:
            text = getattr(image, "text", {}).get(METADATA_KEY)
    except (OSError, UnidentifiedImageError) as err:
        raise ImageError(f"{path}: cannot read ({err})") from None
    if text is None:
        raise ImageError(f"{path}: carries no stylize parameters", hint="only PNG results made by stylize do")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
