"""Draw samples/swirls.jpg: a synthetic 'painting' of short thick strokes along a swirling flow.

Made by this script (MIT, like the project), so it can be shipped and regenerated:
    python samples/make_swirls.py
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

WIDTH, HEIGHT = 480, 360
PALETTE = [(22, 44, 110), (35, 80, 160), (70, 130, 200), (240, 200, 60), (250, 230, 120), (20, 30, 60), (120, 170, 220)]


def flow(x: float, y: float) -> float:
    """Angle of the brush at (x, y): a few vortices plus a gentle drift."""
    angle = 0.6 * math.sin(y / 55.0)
    for cx, cy, spin in ((140, 120, 1.0), (340, 220, -1.0), (250, 80, 0.7)):
        dx, dy = x - cx, y - cy
        weight = math.exp(-(dx * dx + dy * dy) / (2 * 70.0**2))
        angle += weight * spin * (math.atan2(dy, dx) + math.pi / 2)
    return angle


def main() -> None:
    rng = random.Random(7)
    image = Image.new("RGB", (WIDTH, HEIGHT), PALETTE[1])
    draw = ImageDraw.Draw(image)
    for _ in range(9000):
        x, y = rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT)
        colour = rng.choice(PALETTE[:3] if y > HEIGHT * 0.35 or rng.random() < 0.6 else PALETTE[3:])
        points = [(x, y)]
        for _ in range(6):
            a = flow(x, y)
            x, y = x + 4 * math.cos(a), y + 4 * math.sin(a)
            points.append((x, y))
        draw.line(points, fill=colour, width=rng.choice((3, 4, 5)))
    image.filter(ImageFilter.SMOOTH).save(Path(__file__).with_name("swirls.jpg"), quality=92)


if __name__ == "__main__":
    main()
