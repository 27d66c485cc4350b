"""The command's flags, in three groups, one click option each; defaults come from Config.

The order here is the order `stylize --help` lists them in.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..batch.plan import DEFAULT_NAME
from ..config import LAYER_PRESETS, MODELS, OPTIMIZERS, PRECISIONS, Config
from .progress import PROGRESS_MODES

D = Config()  # defaults live in Config only

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

WORK_LIST: list[Decorator] = [
    click.option(
        "-s",
        "--style",
        "style_options",
        multiple=True,
        metavar="STYLE",
        help="A style image, folder or glob (repeatable). With -s, every argument is a CONTENT input.",
    ),
    click.option(
        "-o",
        "--output",
        type=click.Path(path_type=Path),
        help="Result file (format from its extension: .png .jpg .webp .tif), or a folder "
        "(existing, ending in /, or without extension) for several results.",
    ),
    click.option(
        "--name",
        default=DEFAULT_NAME,
        metavar="TEMPLATE",
        show_default=True,
        help="File names of results in an -o folder; fields {content} {style} {index} {seed} {size}, "
        "e.g. '{index:04d}_{content}.jpg'.",
    ),
    click.option("--each-style", is_flag=True, help="One picture per style for every photo (a grid), not one blend."),
    click.option("-r", "--recursive", is_flag=True, help="Look for images in sub-folders of input folders too."),
    click.option(
        "--overwrite", is_flag=True, help="Redo results already in the -o folder (by default they are skipped)."
    ),
    click.option(
        "--fail-fast", is_flag=True, help="Stop at the first input that fails (by default: report it, go on)."
    ),
    click.option("--dry-run", is_flag=True, help="List what would be made or skipped, with sizes; compute nothing."),
    click.option(
        "--shard",
        default=None,
        metavar="K/N",
        help="Do only the K-th of N interleaved slices of the work list (N processes or machines split it).",
    ),
    click.option(
        "--batch-size",
        type=int,
        default=D.batch_size,
        show_default=True,
        help="Pictures of one size optimised together. 0: automatic (CPU: one per core up to 4; GPU: by free memory).",
    ),
    click.option(
        "--max-pixels",
        type=int,
        default=D.max_pixels,
        show_default=True,
        help="Refuse input images with more pixels than this, from their header, before decoding. 0: no limit.",
    ),
    click.option(
        "--log",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Append one JSON line per input (status, output, losses, time, error) to this file.",
    ),
    click.option(
        "--progress",
        type=click.Choice(PROGRESS_MODES),
        default="auto",
        show_default=True,
        help="bars: a bar over the files and one per batch; lines: a line per file (auto: lines when not a terminal).",
    ),
]

PICTURE: list[Decorator] = [
    click.option(
        "--model",
        type=click.Choice(MODELS),
        default=D.model,
        show_default=True,
        help="Network. vgg19 uses the bundled Caffe ImageNet weights (no download); vgg16/vgg16-bn use torchvision's.",
    ),
    click.option(
        "--weights",
        type=click.Path(path_type=Path),
        default=None,
        help="A torchvision-format state dict file to use instead of the model's default weights.",
    ),
    click.option(
        "--layers",
        type=click.Choice(LAYER_PRESETS),
        default=D.layers,
        show_default=True,
        help="Layer preset: paper = style relu1_1..relu5_1, content relu4_2; "
        "lesson = the block ends (last ReLU before each pool), content the 4th.",
    ),
    click.option(
        "--content-layers",
        default=None,
        help="Comma list overriding the preset's content layers, optional NAME:WEIGHT, "
        "e.g. relu4_2 or relu3_2:0.5,relu4_2.",
    ),
    click.option(
        "--style-layers",
        default=None,
        help="Comma list overriding the preset's style layers, e.g. relu1_1:0.5,relu2_1,relu3_1.",
    ),
    click.option(
        "--content-weight",
        type=float,
        default=D.content_weight,
        show_default=True,
        help="Weight of the content error (keeps the photo's shapes).",
    ),
    click.option(
        "--style-weight",
        type=float,
        default=D.style_weight,
        show_default=True,
        help="Weight of the style error (more paint). Same balance at every --size.",
    ),
    click.option(
        "--tv-weight",
        type=float,
        default=D.tv_weight,
        show_default=True,
        help="Total-variation weight (smooths noise); try 1-10.",
    ),
    click.option(
        "--style-blend",
        default=None,
        help="Weights of several STYLE images, comma list, e.g. 0.7,0.3.  [default: equal]",
    ),
    click.option(
        "--optimizer",
        type=click.Choice(OPTIMIZERS),
        default=D.optimizer,
        show_default=True,
        help="L-BFGS (best pictures) or Adam (less memory).",
    ),
    click.option(
        "--iterations",
        type=int,
        default=D.iterations,
        show_default=True,
        help="Optimiser iterations at the final size (each coarser size gets as many).",
    ),
    click.option(
        "--scales",
        type=int,
        default=D.scales,
        show_default=True,
        help="Coarse to fine: optimise at this many sizes, each twice the last, ending at --size. "
        "0: automatic (start at 512 px, so from --size 1024 up); 1: off, one size only.",
    ),
    click.option(
        "--precision",
        type=click.Choice(PRECISIONS),
        default=D.precision,
        show_default=True,
        help="Precision of the network: auto = bf16 on GPUs and on CPUs with bf16 instructions, else fp32. "
        "Losses and the image always stay fp32.",
    ),
    click.option(
        "--lr",
        type=float,
        default=D.learning_rate,
        show_default=True,
        help="Adam step size (pixels in 0..1); L-BFGS uses a line search.",
    ),
    click.option(
        "--init",
        default=D.init,
        show_default=True,
        help="Start image: content, noise (median-filtered), style, or an image path.",
    ),
    click.option("--size", type=int, default=D.size, show_default=True, help="Long side of the output in pixels."),
    click.option(
        "--style-size", type=int, default=None, help="Long side of the style images in pixels.  [default: --size]"
    ),
    click.option(
        "--seed",
        type=int,
        default=D.seed,
        show_default=True,
        help="Random seed; same seed on the same device gives the same bytes.",
    ),
    click.option(
        "--device", default=D.device, show_default=True, help="auto (GPU if present), cpu, cuda, cuda:N or mps."
    ),
    click.option(
        "--save-every",
        type=int,
        default=D.save_every,
        show_default=True,
        help="Also save OUT.NNNN.ext every N iterations (0: never).",
    ),
]

MESSAGES_AND_TOOLS: list[Decorator] = [
    click.option("-q", "--quiet", is_flag=True, help="No progress bar or messages; errors only."),
    click.option("--verbose", is_flag=True, help="Show tracebacks on errors."),
    click.option("--list-layers", is_flag=True, help="Print the --model's layer names and exit."),
    click.option(
        "--inspect",
        "inspect_path",
        type=click.Path(path_type=Path),
        default=None,
        help="Print the parameters embedded in a PNG result and exit.",
    ),
]


def flags(options: list[Decorator]) -> Decorator:
    """All of `options` as one decorator, listed in `--help` in the order given."""

    def apply(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return apply
