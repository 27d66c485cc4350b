"""The `stylize` command: its arguments, what it does with them, its messages and exit codes.

`flags` declares the options; `settings` turns them into a Config and BatchFlags; `actions` plans and runs the work and
`progress` draws it; these are the only code that prints or exits. Exit codes:
0 done, 1 the run failed (unreadable input, missing weights, ...), 2 bad usage (unknown flag or
layer, impossible value), 130 interrupted (Ctrl-C), 143 stopped by SIGTERM, 129 by SIGHUP.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn

import click

from ..errors import StylizeError
from .about import print_version
from .flags.colours import COLOURS_AND_REGIONS
from .flags.core import MESSAGES_AND_TOOLS, PICTURE, WORK_LIST
from .flags.fleet import FLEET
from .flags.harmonize import HARMONIZE
from .flags.memory import MEMORY
from .flags.options import flags
from .flags.preview import PREVIEW
from .flags.video import VIDEO
from .settings import build_config, build_flags
from .signals import Stopped, say

EPILOG = """\b
Examples:
  stylize photo.jpg starry.jpg -o out.png
  stylize photos/ starry.jpg -o out/                               (a folder: every photo; rerun to resume)
  stylize photos/*.jpg -s starry.jpg -s scream.jpg --each-style -o out/   (every photo x every style)
  stylize "frames/*.png" -s starry.jpg -o out/ --name "{index:05d}.png" --shard 1/4 --log run.jsonl
  stylize photo.jpg starry.jpg -o out.png --size 1024 --iterations 200
  stylize photo.jpg starry.jpg -o big.png --size 2048              (coarse to fine: 512, 1024, 2048 px)
  stylize photo.jpg starry.jpg -o print.png --size 4096 --max-memory 8G   (in tiles: larger than memory)
  stylize photo.jpg starry.jpg -o out.png --precision fp32         (float32 everywhere)
  stylize photo.jpg a.jpg b.jpg --style-blend 0.7,0.3 -o blend.png
  stylize photo.jpg starry.jpg -o out.png --preserve-colors luminance   (the photo's colours)
  stylize photo.jpg a.jpg b.jpg --style-mask left.png --style-mask right.png -o out.png   (a style per region)
  stylize photo.jpg starry.jpg -o out.png --style-weight 30        (more paint)
  stylize pasted.jpg painting.jpg -o out.png --harmonize mask.png  (paint a pasted object like the painting)
  stylize photo.jpg starry.jpg -o out.png --style-layers relu1_1:0.5,relu2_1,relu3_1 (finer strokes)
  stylize photo.jpg starry.jpg -o out.png --preview 8000         (watch and steer it in a browser)
  stylize clip.mp4 starry.jpg -o frames/ --video --video-out clip-starry.mp4   (a video without flicker)
  stylize photos/ -s starry.jpg -o out/ --ray auto                 (a folder on the Ray cluster of GPUs and CPUs)
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
@flags(WORK_LIST)
@flags(PICTURE)
@flags(COLOURS_AND_REGIONS)
@flags(HARMONIZE)
@flags(MEMORY)
@flags(PREVIEW)
@flags(VIDEO)
@flags(FLEET)
@flags(MESSAGES_AND_TOOLS)
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=print_version,
              help="Show the version, torch's, and the device --device auto would use and why; then exit.")
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
        chosen = config.style_blend is not None or config.style_masks or flags.each_style  # several styles on purpose
        if not style_options and len(styles) > 1 and not chosen and not quiet:
            _note_blend(contents[0], styles)
        code = run(contents, styles, output, config, flags, quiet)
    except click.ClickException:
        raise
    except KeyboardInterrupt:
        say("stylize: interrupted")
        sys.exit(130)
    except Stopped as stop:
        say(f"stylize: stopped by {stop}")
        sys.exit(stop.exit_code)
    except Exception as err:
        _fail(err, verbose)
    sys.exit(code)
