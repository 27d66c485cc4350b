"""The parameters a PNG result carries (plain JSON values under one text key), written and read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image, PngImagePlugin, UnidentifiedImageError

from ..errors import ImageError

METADATA_KEY = "stylize"


def png_info(metadata: dict[str, Any]) -> PngImagePlugin.PngInfo:
    """The PNG text chunk that carries `metadata` (sorted JSON, so equal runs give equal bytes)."""
    info = PngImagePlugin.PngInfo()
    info.add_text(METADATA_KEY, json.dumps(metadata, sort_keys=True))
    return info


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
