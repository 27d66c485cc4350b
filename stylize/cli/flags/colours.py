"""The flags that decide colours and regions: whose colours stay, which style goes where."""

from __future__ import annotations

from pathlib import Path

import click

from ...config import COLOUR_MODES
from .options import D, Decorator, option

MASK = click.Path(path_type=Path, dir_okay=False)

COLOURS_AND_REGIONS: list[Decorator] = [
    option(
        "--preserve-colors",
        type=click.Choice(COLOUR_MODES),
        default=D.preserve_colors,
        help="Keep the photo's colours: luminance = paint only the lightness, then put the photo's colours back "
        "(CIELAB); match = recolour the style to the photo's palette first, then paint. none: the painting's colours.",
    ),
    click.option(
        "--style-mask",
        "style_masks",
        multiple=True,
        type=MASK,
        metavar="MASK",
        help="Where a STYLE goes, once per STYLE in their order: white = this style, black = not, grey = partly. "
        "Where no mask is white the photo stays. A mask is its alpha if it has transparency, else its lightness. "
        "In folders, {content} in the path is each photo's name: masks/{content}_sky.png.",
    ),
    click.option(
        "--style-source-mask",
        "style_source_masks",
        multiple=True,
        type=MASK,
        metavar="MASK",
        help="The part of each STYLE image to take the style from (once per STYLE, white = use).",
    ),
    click.option(
        "--content-mask",
        type=MASK,
        default=None,
        metavar="MASK",
        help="Where the photo must stay (faces, text): its content counts up to 10 times more where white. "
        "{content} in the path: each photo's own mask.",
    ),
]
