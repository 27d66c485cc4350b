"""Draw the sample masks for samples/chelsea.jpg (451x300): the left and the right of the picture,
with a soft border a sixth of the width wide, so two styles blend where they meet.

    python samples/make_masks.py

`chelsea_left.png` is white on the left, `chelsea_right.png` is its complement; used as
`--style-mask` once per style (README, *Colour and regions*).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).parent
WIDTH, HEIGHT = 451, 300
BORDER = WIDTH / 6  # px over which the left mask goes from white to black


def main() -> None:
    x = np.arange(WIDTH, dtype=np.float64)
    ramp = np.clip((WIDTH / 2 + BORDER / 2 - x) / BORDER, 0.0, 1.0)  # 1 on the left, 0 on the right
    left = np.round(np.tile(ramp, (HEIGHT, 1)) * 255).astype(np.uint8)
    Image.fromarray(left).save(HERE / "chelsea_left.png", optimize=True)
    Image.fromarray(255 - left).save(HERE / "chelsea_right.png", optimize=True)


if __name__ == "__main__":
    main()
