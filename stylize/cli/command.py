"""The `stylize` command: its flags (one click option each), messages and exit codes.

`settings` turns the flags into a Config and BatchFlags; `actions` plans and runs the work and
`progress` draws it; these are the only code that prints or exits. Exit codes:
0 done, 1 the run failed (unreadable input, missing weights, ...), 2 bad usage (unknown flag or
layer, impossible value), 130 interrupted.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn

import click

from ..batch.plan import DEFAULT_NAME
from ..config import LAYER_PRESETS, MODELS, OPTIMIZERS, PRECISIONS, Config
from ..errors import StylizeError
from ..version import __version__
from .progress import PROGRESS_MODES
from .settings import build_config, build_flags

D = Config()  # defaults live in Config only

EPILOG = """\b
Examples:
  stylize photo.jpg starry.jpg -o out.png
  stylize photos/ starry.jpg -o out/                               (a folder: every photo; rerun to resume)
  stylize photos/*.jpg -s starry.jpg -s scream.jpg --each-style -o out/   (every photo x every style)
  stylize "frames/*.png" -s starry.jpg -o out/ --name "{index:05d}.png" --shard 1/4 --log run.jsonl
  stylize photo.jpg starry.jpg -o out.png --size 1024 --iterations 200
  stylize photo.jpg starry.jpg -o big.png --size 2048              (coarse to fine: 512, 1024, 2048 px)
  stylize photo.jpg starry.jpg -o out.png --precision fp32         (float32 everywhere)
  stylize photo.jpg a.jpg b.jpg --style-blend 0.7,0.3 -o blend.png
  stylize photo.jpg starry.jpg -o out.png --style-weight 30        (more paint)
  stylize photo.jpg starry.jpg -o out.png --style-layers relu1_1:0.5,relu2_1,relu3_1 (finer strokes)
  stylize --list-layers --model vgg16
  stylize --inspect out.png                                        (how it was made)
"""


def _note_blend(content: str, styles: list[str]) -> None:
    """An unquoted shell glob (`photos/*.jpg starry.jpg`) makes every photo but the first a style: say so."""
    shown = ", ".join(styles[:3]) + (", ..." if len(styles) > 3 else "")
    click.echo(f"stylize: note: {content} in a blend of {len(styles)} styles ({shown}); "
               "for several photos, name the style with -s", err=True)  # fmt: skip


def _fail(err: BaseException, verbose: bool) -> NoReturn:
    if verbose:
        traceback.print_exc()
    if isinstance(err, StylizeError):
        click.echo(f"stylize: error: {err}", err=True)
        sys.exit(err.exit_code)
    click.echo(f"stylize: internal error: {type(err).__name__}: {err} (run with --verbose for details)", err=True)
    sys.exit(1)


@click.command(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("inputs", nargs=-1, metavar="CONTENT [STYLE]...")
@click.option(
    "-s",
    "--style",
    "style_options",
    multiple=True,
    metavar="STYLE",
    help="A style image, folder or glob (repeatable). With -s, every argument is a CONTENT input.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Result file (format from its extension: .png .jpg .webp .tif), or a folder "
    "(existing, ending in /, or without extension) for several results.",
)
@click.option(
    "--name",
    default=DEFAULT_NAME,
    metavar="TEMPLATE",
    show_default=True,
    help="File names of results in an -o folder; fields {content} {style} {index} {seed} {size}, "
    "e.g. '{index:04d}_{content}.jpg'.",
)
@click.option("--each-style", is_flag=True, help="One picture per style for every photo (a grid), not one blend.")
@click.option("-r", "--recursive", is_flag=True, help="Look for images in sub-folders of input folders too.")
@click.option("--overwrite", is_flag=True, help="Redo results already in the -o folder (by default they are skipped).")
@click.option("--fail-fast", is_flag=True, help="Stop at the first input that fails (by default: report it, go on).")
@click.option("--dry-run", is_flag=True, help="List what would be made or skipped, with sizes; compute nothing.")
@click.option(
    "--shard",
    default=None,
    metavar="K/N",
    help="Do only the K-th of N interleaved slices of the work list (N processes or machines split it).",
)
@click.option(
    "--batch-size",
    type=int,
    default=D.batch_size,
    show_default=True,
    help="Pictures of one size optimised together. 0: automatic (CPU: one per core up to 4; GPU: by free memory).",
)
@click.option(
    "--max-pixels",
    type=int,
    default=D.max_pixels,
    show_default=True,
    help="Refuse input images with more pixels than this, from their header, before decoding. 0: no limit.",
)
@click.option(
    "--log",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Append one JSON line per input (status, output, losses, time, error) to this file.",
)
@click.option(
    "--progress",
    type=click.Choice(PROGRESS_MODES),
    default="auto",
    show_default=True,
    help="bars: a bar over the files and one per batch; lines: a line per file (auto: lines when not a terminal).",
)
@click.option(
    "--model",
    type=click.Choice(MODELS),
    default=D.model,
    show_default=True,
    help="Network. vgg19 uses the bundled Caffe ImageNet weights (no download); vgg16/vgg16-bn use torchvision's.",
)
@click.option(
    "--weights",
    type=click.Path(path_type=Path),
    default=None,
    help="A torchvision-format state dict file to use instead of the model's default weights.",
)
@click.option(
    "--layers",
    type=click.Choice(LAYER_PRESETS),
    default=D.layers,
    show_default=True,
    help="Layer preset: paper = style relu1_1..relu5_1, content relu4_2; "
    "lesson = the block ends (last ReLU before each pool), content the 4th.",
)
@click.option(
    "--content-layers",
    default=None,
    help="Comma list overriding the preset's content layers, optional NAME:WEIGHT, "
    "e.g. relu4_2 or relu3_2:0.5,relu4_2.",
)
@click.option(
    "--style-layers",
    default=None,
    help="Comma list overriding the preset's style layers, e.g. relu1_1:0.5,relu2_1,relu3_1.",
)
@click.option(
    "--content-weight",
    type=float,
    default=D.content_weight,
    show_default=True,
    help="Weight of the content error (keeps the photo's shapes).",
)
@click.option(
    "--style-weight",
    type=float,
    default=D.style_weight,
    show_default=True,
    help="Weight of the style error (more paint). Same balance at every --size.",
)
@click.option(
    "--tv-weight",
    type=float,
    default=D.tv_weight,
    show_default=True,
    help="Total-variation weight (smooths noise); try 1-10.",
)
@click.option(
    "--style-blend", default=None, help="Weights of several STYLE images, comma list, e.g. 0.7,0.3.  [default: equal]"
)
@click.option(
    "--optimizer",
    type=click.Choice(OPTIMIZERS),
    default=D.optimizer,
    show_default=True,
    help="L-BFGS (best pictures) or Adam (less memory).",
)
@click.option(
    "--iterations",
    type=int,
    default=D.iterations,
    show_default=True,
    help="Optimiser iterations at the final size (each coarser size gets as many).",
)
@click.option(
    "--scales",
    type=int,
    default=D.scales,
    show_default=True,
    help="Coarse to fine: optimise at this many sizes, each twice the last, ending at --size. "
    "0: automatic (start at 512 px, so from --size 1024 up); 1: off, one size only.",
)
@click.option(
    "--precision",
    type=click.Choice(PRECISIONS),
    default=D.precision,
    show_default=True,
    help="Precision of the network: auto = bf16 on GPUs and on CPUs with bf16 instructions, else fp32. "
    "Losses and the image always stay fp32.",
)
@click.option(
    "--lr",
    type=float,
    default=D.learning_rate,
    show_default=True,
    help="Adam step size (pixels in 0..1); L-BFGS uses a line search.",
)
@click.option(
    "--init",
    default=D.init,
    show_default=True,
    help="Start image: content, noise (median-filtered), style, or an image path.",
)
@click.option("--size", type=int, default=D.size, show_default=True, help="Long side of the output in pixels.")
@click.option(
    "--style-size", type=int, default=None, help="Long side of the style images in pixels.  [default: --size]"
)
@click.option(
    "--seed",
    type=int,
    default=D.seed,
    show_default=True,
    help="Random seed; same seed on the same device gives the same bytes.",
)
@click.option("--device", default=D.device, show_default=True, help="auto (GPU if present), cpu, cuda, cuda:N or mps.")
@click.option(
    "--save-every",
    type=int,
    default=D.save_every,
    show_default=True,
    help="Also save OUT.NNNN.ext every N iterations (0: never).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or messages; errors only.")
@click.option("--verbose", is_flag=True, help="Show tracebacks on errors.")
@click.option("--list-layers", is_flag=True, help="Print the --model's layer names and exit.")
@click.option(
    "--inspect",
    "inspect_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Print the parameters embedded in a PNG result and exit.",
)
@click.version_option(__version__, prog_name="stylize")
def main(inputs: tuple[str, ...], style_options: tuple[str, ...], output: Path | None, quiet: bool, verbose: bool,
         list_layers: bool, inspect_path: Path | None, **options: Any) -> None:  # fmt: skip
    """Paint CONTENT photos in the style of one or more STYLE images (Gatys et al. 2015).

    A pretrained VGG network is frozen; the pixels of each output are optimised (L-BFGS) so that
    its deep features match the photo and its feature correlations (Gram matrices) match the
    painting.

    \b
    Inputs: CONTENT STYLE [STYLE]...  the first argument is the photo, the others are styles
            CONTENT... -s STYLE       with -s, every argument is a photo (file, folder or glob)
    Several styles are blended into one picture (--style-blend), or --each-style gives one
    picture per style. Folders are scanned for images (sorted); a quoted glob is expanded.
    """
    from .actions import inspect_result, print_layers, run

    try:
        if list_layers:
            print_layers(options["model"])
            return
        if inspect_path is not None:
            inspect_result(inspect_path)
            return
        contents, styles = list(inputs[:1]), list(inputs[1:])
        if style_options:  # with -s every argument is a content input
            contents, styles = list(inputs), list(style_options)
        if not contents or not styles:
            raise click.UsageError("need a CONTENT image and at least one STYLE image: CONTENT STYLE, CONTENT -s STYLE")
        if output is None:
            raise click.UsageError("missing -o/--output: where to write the result")
        flags = build_flags(options)  # takes its flags out of `options`
        config = build_config(options)
        if not style_options and len(styles) > 1 and config.style_blend is None and not flags.each_style and not quiet:
            _note_blend(contents[0], styles)
        code = run(contents, styles, output, config, flags, quiet)
    except click.ClickException:
        raise
    except KeyboardInterrupt:
        click.echo("stylize: interrupted", err=True)
        sys.exit(130)
    except Exception as err:
        _fail(err, verbose)
    sys.exit(code)
