"""The flags of painterly harmonization: an object pasted into a painting, painted like the rest of it."""

from __future__ import annotations

import click

from .colours import MASK
from .options import D, Decorator, option

HARMONIZE: list[Decorator] = [
    click.option(
        "--harmonize",
        type=MASK,
        default=None,
        metavar="MASK",
        help="CONTENT is the painting STYLE with an object pasted in, MASK (white) where: paint the object like the "
        "painting around it (Luan et al. 2018: patches matched to the painting's, two passes). Outside the region "
        "the result is the painting's own pixels. A grey or JPEG mask is cut at half grey. {content} in the path: "
        "each composite's own mask.",
    ),
    click.option(
        "--harmonize-region",
        type=MASK,
        default=None,
        metavar="MASK",
        help="With --harmonize: the region allowed to change (white); default: MASK grown by --harmonize-margin.",
    ),
    option(
        "--harmonize-margin",
        type=click.FloatRange(0, 50),
        default=D.harmonize_margin,
        metavar="PERCENT",
        help="With --harmonize: how far around the object the picture may change, in percent of the long side "
        "(the paper's 11-14 px at 700 px).",
    ),
    click.option(
        "--harmonize-strength",
        type=click.FloatRange(0, 100, min_open=True),
        default=None,
        metavar="S",
        help="With --harmonize: the painting's style strength, 1 (flat, Art Nouveau) to 10 (Cubism, "
        "Expressionism); default: estimated from the painting. The style weight is --style-weight x S / 2.",
    ),
]
