"""Writing images: checked before any work, atomic, transparency carried where the format keeps it.

Atomic: a hidden part file in the same folder, flushed, then renamed over the result, so a
result appears complete or not at all; part files of writers that were killed are cleared by
the next run.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from ..errors import ImageError, WriteError
from .formats import OUTPUT_FORMATS
from .metadata import metadata_options
from .tensors import to_pil

ALPHA_FORMATS = ("PNG", "WEBP", "TIFF")  # formats that keep a transparency channel
# .NAME.HOST.PID.part: a result being written; left behind only if the writer was killed mid-write
PART_FILE = re.compile(r"^\.(?P<name>.+)\.(?P<host>[^.]+)\.(?P<pid>\d+)\.part$")


def check_can_write(path: Path) -> None:
    """Before any work: `path` has a format we write, in a folder where a file can be created."""
    check_output_path(path)
    check_folder_writable(path.parent if str(path.parent) else Path("."))


def check_output_path(path: Path) -> None:
    """`path` has a format we write and names a file in an existing folder (checked before each write)."""
    if path.suffix.lower() not in OUTPUT_FORMATS:
        raise ImageError(f"{path}: unsupported output format {path.suffix or '(no extension)'!r}",
                         hint=f"use one of {', '.join(sorted(OUTPUT_FORMATS))}")  # fmt: skip
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ImageError(f"{path}: the folder {folder} does not exist", hint="create it first")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, expected a file name")


def check_folder_writable(folder: Path) -> None:
    """Create and remove an empty file in `folder`: a read-only filesystem or a missing permission
    is found before any work (os.access alone says yes to root, even on a read-only mount)."""
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".stylize-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise WriteError(f"{folder}: cannot write in this folder ({err.strerror or err})", err.errno) from None


def save_image(
    tensor: torch.Tensor, path: Path, metadata: dict[str, Any] | None = None, alpha: Image.Image | None = None
) -> None:
    """Write atomically (temporary file in the same folder, then rename), with `metadata` embedded.

    `alpha` (mode L, any size) becomes the result's transparency where the format keeps one
    (PNG, WebP, TIFF); a JPEG keeps the transparent areas on white, as they were optimised.
    """
    check_output_path(path)
    fmt, options = OUTPUT_FORMATS[path.suffix.lower()]
    options = {**options, **metadata_options(fmt, metadata)}
    tmp = part_path(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)  # the umask applies, as for any file
        with os.fdopen(fd, "wb") as out:
            picture = to_pil(tensor)
            if alpha is not None and fmt in ALPHA_FORMATS:
                picture.putalpha(alpha.resize(picture.size, Image.Resampling.LANCZOS))
            picture.save(out, format=fmt, **options)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except OSError as err:
        raise WriteError(f"{path}: cannot write ({err.strerror or err})", err.errno) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def part_path(path: Path) -> Path:
    """Where `path` is written before it is renamed into place (removed as stale when its writer is gone)."""
    return path.with_name(f".{path.name}.{_host()}.{os.getpid()}.part")


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
