"""Assemble samples/before_after.jpg (content | style | result) for the README.

    python samples/make_before_after.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

HERE = Path(__file__).parent
HEIGHT = 240


def main() -> None:
    tiles = []
    for name in ("chelsea.jpg", "swirls.jpg", "chelsea_swirls.png"):
        image = Image.open(HERE / name).convert("RGB")
        tiles.append(image.resize((round(image.width * HEIGHT / image.height), HEIGHT), Image.Resampling.LANCZOS))
    gap = 8
    sheet = Image.new("RGB", (sum(t.width for t in tiles) + gap * (len(tiles) - 1), HEIGHT), "white")
    x = 0
    for tile in tiles:
        sheet.paste(tile, (x, 0))
        x += tile.width + gap
    sheet.save(HERE / "before_after.jpg", quality=90)


if __name__ == "__main__":
    main()
