"""Assemble the README's picture sheets from the sample images and results in this folder.

    python samples/make_before_after.py

- `before_after.jpg`: content | style | result.
- `harmonize.jpg`: the painting | the cup pasted in | its mask | `--harmonize` (make_pasted.py, README.md here).
- `colour_regions.jpg`: two rows: the photo, the style, the default result, `--preserve-colors luminance`,
  `--preserve-colors match`; then the two masks, the second style and the two-style result
  (commands in README.md here).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).parent
HEIGHT = 240
GAP = 8
COLOUR_REGIONS = (
    ("chelsea.jpg", "swirls.jpg", "chelsea_swirls.png", "chelsea_swirls_luminance.png", "chelsea_swirls_match.png"),
    ("chelsea_left.png", "chelsea_right.png", "hubble.jpg", "chelsea_swirls_hubble.png"),
)
HARMONIZE = ("swirls.jpg", "swirls_pasted.jpg", "swirls_pasted_mask.png", "swirls_harmonized.png")


def row(names: tuple[str, ...], height: int = HEIGHT, outline: bool = False) -> Image.Image:
    """The images side by side, each scaled to `height`, GAP px of white between them (`outline`: a grey frame
    round each)."""
    tiles = []
    for name in names:
        image = Image.open(HERE / name).convert("RGB")
        tiles.append(image.resize((round(image.width * height / image.height), height), Image.Resampling.LANCZOS))
    sheet = Image.new("RGB", (sum(t.width for t in tiles) + GAP * (len(tiles) - 1), height), "white")
    x = 0
    for tile in tiles:
        sheet.paste(tile, (x, 0))
        if outline:  # so that a white mask's edge shows on the white sheet
            ImageDraw.Draw(sheet).rectangle((x, 0, x + tile.width - 1, height - 1), outline=(160, 160, 160))
        x += tile.width + GAP
    return sheet


def rows(images: list[Image.Image]) -> Image.Image:
    """Rows one above the other, GAP px apart, left-aligned on white."""
    sheet = Image.new("RGB", (max(r.width for r in images), sum(r.height for r in images) + GAP * (len(images) - 1)),
                      "white")  # fmt: skip
    y = 0
    for image in images:
        sheet.paste(image, (0, y))
        y += image.height + GAP
    return sheet


def main() -> None:
    row(("chelsea.jpg", "swirls.jpg", "chelsea_swirls.png")).save(HERE / "before_after.jpg", quality=90)
    if (HERE / HARMONIZE[-1]).is_file():
        row(HARMONIZE, 180, outline=True).save(HERE / "harmonize.jpg", quality=88)
    if all((HERE / name).is_file() for names in COLOUR_REGIONS for name in names):
        rows([row(names, 180, outline=True) for names in COLOUR_REGIONS]).save(HERE / "colour_regions.jpg", quality=88)


if __name__ == "__main__":
    main()
