"""The parameters a result carries (plain JSON values), written into and read back from every format.

PNG: a text chunk under the key `stylize`; JPEG: a comment (COM) segment; WebP: an XMP packet
with the JSON in one attribute; TIFF: the ImageDescription tag. The JSON is ASCII (non-ASCII
escaped), so every one of these holds it unchanged.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, unescape

from PIL import Image, PngImagePlugin, UnidentifiedImageError

from ..errors import ImageError

METADATA_KEY = "stylize"
TIFF_DESCRIPTION = 270  # ImageDescription
XMP_PACKET = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              '<rdf:Description xmlns:stylize="https://pypi.org/project/stylize/" stylize:parameters="{}"/>'
              "</rdf:RDF></x:xmpmeta>")  # fmt: skip
XMP_VALUE = re.compile(rb'stylize:parameters="([^"]*)"')


def metadata_options(fmt: str, metadata: dict[str, Any] | None) -> dict[str, Any]:
    """Pillow save options that embed `metadata` in a file of format `fmt` (sorted JSON: equal runs, equal bytes)."""
    if metadata is None:
        return {}
    text = json.dumps(metadata, sort_keys=True)
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text(METADATA_KEY, text)
        return {"pnginfo": info}
    if fmt == "JPEG":
        return {"comment": f"{METADATA_KEY}:{text}".encode("ascii")}
    if fmt == "WEBP":
        return {"xmp": XMP_PACKET.format(escape(text, {'"': "&quot;"})).encode("ascii")}
    if fmt == "TIFF":
        return {"tiffinfo": {TIFF_DESCRIPTION: f"{METADATA_KEY}:{text}"}}
    return {}


def read_metadata(path: Path) -> dict[str, Any]:
    """The run parameters a result made by stylize carries, or ImageError."""
    try:
        with Image.open(path) as image:
            text = _embedded_text(image)
    except (OSError, UnidentifiedImageError) as err:
        raise ImageError(f"{path}: cannot read ({err})") from None
    if text is None:
        raise ImageError(f"{path}: carries no stylize parameters",
                         hint="it was made with --metadata none, or not by stylize")  # fmt: skip
    try:
        loaded: dict[str, Any] = json.loads(text)
    except json.JSONDecodeError:
        raise ImageError(f"{path}: its stylize parameters are damaged") from None
    return loaded


def _embedded_text(image: Image.Image) -> str | None:
    if image.format == "PNG":
        text: str | None = getattr(image, "text", {}).get(METADATA_KEY)
        return text
    if image.format == "JPEG":
        return _after_key(image.info.get("comment"))
    if image.format == "WEBP":
        match = XMP_VALUE.search(image.info.get("xmp") or b"")
        return unescape(match.group(1).decode("ascii", "replace"), {"&quot;": '"'}) if match else None
    if image.format == "TIFF":
        return _after_key(getattr(image, "tag_v2", {}).get(TIFF_DESCRIPTION))
    return None


def _after_key(value: bytes | str | None) -> str | None:
    """'stylize:{...}' -> '{...}'; None for anything else (another program's comment)."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    prefix = f"{METADATA_KEY}:"
    return value[len(prefix) :] if isinstance(value, str) and value.startswith(prefix) else None
