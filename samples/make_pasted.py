"""Draw the sample for --harmonize: the cup of `coffee.jpg` cut out and pasted into `swirls.jpg`.

    python samples/make_pasted.py

`swirls_pasted.jpg` is the painting with the cup pasted in, `swirls_pasted_mask.png` the cup's
mask (white = pasted). The cut-out is two ellipses (the saucer and the cup), halved in size.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).parent
SAUCER = (78, 82, 478, 382)  # ellipses in coffee.jpg (600x400): the saucer and the cup's rim and body
CUP = (172, 17, 408, 200)
SCALE = 0.5
AT = (140, 150)  # where the cut-out's corner goes in swirls.jpg (480x360)


def main() -> None:
    coffee, painting = Image.open(HERE / "coffee.jpg").convert("RGB"), Image.open(HERE / "swirls.jpg").convert("RGB")
    cut = Image.new("L", coffee.size, 0)
    draw = ImageDraw.Draw(cut)
    draw.ellipse(SAUCER, fill=255)
    draw.ellipse(CUP, fill=255)
    size = (round(coffee.width * SCALE), round(coffee.height * SCALE))
    small, small_cut = coffee.resize(size, Image.Resampling.LANCZOS), cut.resize(size, Image.Resampling.LANCZOS)
    small_cut = small_cut.point(lambda v: 255 if v >= 128 else 0)
    pasted = painting.copy()
    pasted.paste(small, AT, small_cut)
    mask = Image.new("L", painting.size, 0)
    mask.paste(small_cut, AT)
    pasted.save(HERE / "swirls_pasted.jpg", quality=92)
    mask.save(HERE / "swirls_pasted_mask.png", optimize=True)


if __name__ == "__main__":
    main()
