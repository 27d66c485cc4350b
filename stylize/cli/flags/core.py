"""The command's main flags in groups (work list, picture, messages and tools), in the order `--help` lists them."""

from __future__ import annotations

from pathlib import Path

import click

from ...batch.plan import DEFAULT_NAME
from ...config import LAYER_PRESETS, METADATA_MODES, MODELS, OPTIMIZERS, PRECISIONS, STYLE_LOSSES
from ..progress import PROGRESS_MODES
from .options import D, Decorator, option

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
    option(
        "--name",
        default=DEFAULT_NAME,
        metavar="TEMPLATE",
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
        help="Do only the K-th of N interleaved slices of the work list (N processes or machines split it); "
        "with --video, the K-th of N stretches of consecutive frames.",
    ),
    option(
        "--batch-size",
        type=int,
        default=D.batch_size,
        help="Pictures of one size optimised together. 0: automatic (CPU: one per core up to 4; GPU: by free memory).",
    ),
    option(
        "--max-pixels",
        type=int,
        default=D.max_pixels,
        help="Refuse input images with more pixels than this, from their header, before decoding. 0: no limit.",
    ),
    click.option(
        "--log",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Append one JSON line per input (status, output, losses, time, error) to this file.",
    ),
    option(
        "--progress",
        type=click.Choice(PROGRESS_MODES),
        default="auto",
        help="bars: a bar over the files and one per batch; lines: a line per file (auto: lines when not a terminal).",
    ),
]

PICTURE: list[Decorator] = [
    option(
        "--model",
        type=click.Choice(MODELS),
        default=D.model,
        help="Network. vgg19 uses the bundled Caffe ImageNet weights (no download); vgg16/vgg16-bn use torchvision's.",
    ),
    click.option(
        "--weights",
        type=click.Path(path_type=Path),
        default=None,
        help="A torchvision-format state dict file to use instead of the model's default weights.",
    ),
    option(
        "--layers",
        type=click.Choice(LAYER_PRESETS),
        default=D.layers,
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
    option(
        "--content-weight",
        type=float,
        default=D.content_weight,
        help="Weight of the content error (keeps the photo's shapes).",
    ),
    option(
        "--style-weight",
        type=float,
        default=D.style_weight,
        help="Weight of the style error (more paint). Same balance at every --size.",
    ),
    option(
        "--style-loss",
        type=click.Choice(STYLE_LOSSES),
        default=D.style_loss,
        help="What of the painting to match: gram (feature correlations), diagonal (each feature's mean and "
        "spread), wasserstein (means and covariances), sliced (whole feature distributions; slower).",
    ),
    option(
        "--tv-weight",
        type=float,
        default=D.tv_weight,
        help="Total-variation weight (smooths noise); try 1-10.",
    ),
    click.option(
        "--style-blend",
        default=None,
        help="Weights of several STYLE images, comma list, e.g. 0.7,0.3.  [default: equal]",
    ),
    option(
        "--optimizer",
        type=click.Choice(OPTIMIZERS),
        default=D.optimizer,
        help="L-BFGS (best pictures) or Adam (less memory).",
    ),
    option(
        "--iterations",
        metavar="N|auto",
        default=D.iterations,
        help="Optimiser iterations at the final size (each coarser size gets as many). "
        "auto: until the picture stops improving (at most 300 per size).",
    ),
    option(
        "--scales",
        type=int,
        default=D.scales,
        help="Coarse to fine: optimise at this many sizes, each twice the last, ending at --size. "
        "0: automatic (start at 512 px, so from --size 1024 up); 1: off, one size only.",
    ),
    option(
        "--precision",
        type=click.Choice(PRECISIONS),
        default=D.precision,
        help="Precision of the network: auto = bf16 on GPUs and on CPUs with bf16 instructions, else fp32. "
        "Losses and the image always stay fp32.",
    ),
    option(
        "--lr",
        type=float,
        default=D.learning_rate,
        help="Adam step size (pixels in 0..1); L-BFGS uses a line search.",
    ),
    option(
        "--init",
        default=D.init,
        help="Start image: palette (the photo, its colours moved to the style's), content (the photo as it is), "
        "noise (median-filtered), style, or an image path.",
    ),
    click.option("--size", type=int, default=D.size, show_default=True, help="Long side of the output in pixels."),
    click.option(
        "--style-size", type=int, default=None, help="Long side of the style images in pixels.  [default: --size]"
    ),
    option(
        "--seed",
        type=int,
        default=D.seed,
        help="Random seed; same seed on the same device gives the same bytes.",
    ),
    click.option(
        "--device", default=D.device, show_default=True, help="auto (GPU if present), cpu, cuda, cuda:N or mps."
    ),
    option(
        "--threads",
        type=int,
        default=D.threads,
        help="CPU threads to compute with. 0: the CPUs this process may use (its affinity mask, capped by "
        "SLURM_CPUS_PER_TASK, NSLOTS, NCPUS or OMP_NUM_THREADS).",
    ),
    option(
        "--save-every",
        type=int,
        default=D.save_every,
        help="Also save OUT.NNNN.ext every N iterations (0: never).",
    ),
    option(
        "--metadata",
        type=click.Choice(METADATA_MODES),
        default=D.metadata,
        help="What results embed: names = input file names (no folders) and settings; full = paths as given; "
        "none = nothing.",
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
        help="Print the parameters a result carries (PNG, JPEG, WebP, TIFF) and exit.",
    ),
]
