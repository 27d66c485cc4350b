"""Finding input images: files as given, folders scanned (sorted), globs expanded (sorted)."""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

from ..errors import SettingsError
from ..io.formats import INPUT_SUFFIXES

GLOB_CHARACTERS = frozenset("*?[")


def find_images(specs: Sequence[str], recursive: bool = False, skip_folder: Path | None = None) -> list[Path]:
    """Every image named by `specs`, in order, without repeats.

    A file is taken as given (even with another extension, and even if it does not exist: it
    then fails on its own, without stopping the others). A folder gives the images inside it,
    by extension, sorted, hidden files left out; `recursive` descends into sub-folders. A glob
    (quoted, so that stylize expands it) gives its matches, sorted. `skip_folder` (the output
    folder) is never scanned, so results are not taken for inputs on a rerun.
    """
    found: dict[Path, None] = {}
    for spec in specs:
        path = Path(spec)
        if path.is_dir():
            images = _scan(path, recursive, skip_folder)
        elif not path.exists() and GLOB_CHARACTERS & set(spec):
            images = sorted(Path(m) for m in glob.glob(spec, recursive=recursive) if _is_image(Path(m)))
            if not images:
                raise SettingsError(f"{spec}: no image file matches this pattern")
        else:
            images = [path]
        found.update(dict.fromkeys(images))
    return list(found)


def _scan(folder: Path, recursive: bool, skip_folder: Path | None) -> list[Path]:
    skip = skip_folder.resolve() if skip_folder is not None else None
    if skip is not None and folder.resolve() == skip:
        return []
    images: list[Path] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            if recursive:
                images += _scan(entry, recursive, skip_folder)
        elif _is_image(entry):
            images.append(entry)
    return images


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in INPUT_SUFFIXES and not path.name.startswith(".") and not path.is_dir()
