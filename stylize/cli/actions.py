"""What the command does with its flags: list layers, inspect a result, plan and run the work.

The engine and the batch runner report through callbacks and never print; `progress` draws.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..batch.inputs import find_images
from ..batch.plan import Job, make_jobs, parse_shard, shard
from ..config import Config
from ..errors import ImageError, SettingsError
from ..network.layers import layer_names
from .about import run_device
from .fleet_actions import check_fleet, execute_fleet
from .live import check_preview, keep_page, live_page
from .progress import Progress, progress_mode
from .settings import BatchFlags
from .signals import Stopped, say, stop_on_signals, stop_words

if TYPE_CHECKING:
    from ..batch.report import Events, Report
    from ..batch.runner import RunOptions
    from ..fleet.pool import Pool
    from ..network.loader import Network
    from ..optimize.steering import Steering
    from ..run.regions import Masks


def print_layers(model: str) -> None:
    click.echo(f"Layers of {model} (for --content-layers / --style-layers):")
    click.echo(" ".join(layer_names(model)))


def inspect_result(path: Path) -> None:
    from ..io.metadata import read_metadata

    click.echo(json.dumps(read_metadata(path), indent=2, sort_keys=True))


def names_a_folder(output: Path) -> bool:
    """-o is a folder if it is one, ends with a slash, or has no extension."""
    return output.is_dir() or str(output).endswith(("/", os.sep)) or output.suffix == ""


def plan_work(
    contents: list[str], styles: list[str], output: Path, config: Config, flags: BatchFlags
) -> tuple[list[Job], Masks]:
    """Inputs -> the jobs of this shard and the run's masks; every usage problem is found here, before any work."""
    from ..io.saving import check_can_write
    from ..run.pictures import check_style_count
    from ..run.regions import load_masks
    from ..run.stages import check_tile

    folder = names_a_folder(output)
    content_paths = find_images(contents, flags.recursive, skip_folder=output if folder else None)
    style_paths = find_images(styles)
    if not content_paths:
        raise SettingsError(f"no content images found in {', '.join(contents)}",
                            hint="folders are scanned for image files; the output folder is left out")  # fmt: skip
    if flags.each_style and config.style_blend is not None:
        raise SettingsError("--style-blend mixes styles into one picture; --each-style makes one picture per style")
    check_style_count(1 if flags.each_style else len(style_paths), config)
    check_tile(config)
    check_preview(flags)
    masks = load_masks(config, style_paths)
    jobs = make_jobs(content_paths, style_paths, output, folder, config, flags.each_style, flags.name)
    if config.harmonize is not None:
        check_harmonize(jobs, style_paths, masks, config)
    if not folder:
        check_can_write(output)
    return shard(jobs, parse_shard(flags.shard)), masks


def check_harmonize(jobs: list[Job], style_paths: list[Path], masks: Masks, config: Config) -> None:
    """--harmonize: one painting, and every composite checked against it and its masks before any work."""
    from ..run.harmonize.api import check_harmonize_job

    if len(style_paths) != 1:
        raise SettingsError(f"--harmonize takes one painting (the one the object was pasted into), got "
                            f"{len(style_paths)}",
                            hint="give the painting as the only STYLE")  # fmt: skip
    for job in jobs:
        try:
            regions = masks.regions(job.styles, job.content)
            pasted = regions.harmonize.pasted if regions is not None and regions.harmonize is not None else None
            flag = masks.names.get(id(pasted), f"--harmonize {config.harmonize}")
            check_harmonize_job(job.content, job.styles[0], regions, config.max_pixels, flag)
        except SettingsError as err:
            raise SettingsError(f"{job.content}: {err.message}", hint=err.hint) from None
        except ImageError:  # an unreadable photo fails on its own when its turn comes, as without --harmonize
            continue


def run(contents: list[str], styles: list[str], output: Path, config: Config, flags: BatchFlags, quiet: bool) -> int:
    """Plan, then (unless --dry-run) make every picture; returns the exit code.

    One picture to a file name (-o out.png) is always made, overwriting; results in a folder are
    skipped when already there (a rerun resumes), unless --overwrite. With --video, `video_actions`.
    """
    if (flags.video_out is not None or flags.fps is not None) and not flags.video:
        raise SettingsError("--video-out and --fps are for --video runs", hint="add --video")
    check_fleet(flags, config, not flags.video and not names_a_folder(output))
    if flags.video and config.harmonize is not None:
        raise SettingsError("--harmonize is for pictures, not --video", hint="harmonize a still of the video")
    if flags.video:
        from .video_actions import run_video_command

        return run_video_command(contents, styles, output, config, flags, quiet)
    jobs, masks = plan_work(contents, styles, output, config, flags)
    single = not names_a_folder(output)
    if flags.dry_run:
        print_plan(jobs, config, flags.overwrite or single, masks)
        return 0
    if flags.ray is not None:
        return run_on_fleet(jobs, masks, config, flags, quiet)
    if not single:
        make_folders(jobs)
    from ..batch.runner import run_jobs

    def work(network: Network, config: Config, options: RunOptions, events: Events, report: Report,
             steering: Steering | None) -> None:  # fmt: skip
        run_jobs(jobs, config, network, options, events, report, masks, steering)

    return execute(work, len(jobs), single, config, flags, quiet).exit_code


def run_on_fleet(jobs: list[Job], masks: Masks, config: Config, flags: BatchFlags, quiet: bool) -> int:
    """--ray: the folder's pictures made by the cluster's workers, written here."""
    from ..batch.batches import load_styles
    from ..fleet.folder import run_fleet_jobs

    styles = load_styles(jobs, config.max_pixels)  # a bad style stops the run before the cluster is joined

    def work(pool: Pool, config: Config, options: RunOptions, events: Events, report: Report) -> None:
        make_folders(jobs)  # once the cluster is joined: a run that cannot join leaves nothing behind
        run_fleet_jobs(jobs, config, pool, options, events, report, masks)

    return execute_fleet(work, len(jobs), styles, config, flags, quiet).exit_code


Work = Callable[["Network", Config, "RunOptions", "Events", "Report", "Steering | None"], None]


def execute(work: Work, count: int, single: bool, config: Config, flags: BatchFlags, quiet: bool) -> Report:
    """Load the network and do `work` (`count` results) with progress, the live page and signal handling;
    the report says what happened."""
    from ..batch.report import Report
    from ..batch.runner import RunOptions
    from ..network.loader import load_network

    if flags.preview is not None and config.batch_size == 0:
        config = replace(config, batch_size=1)  # the page shows one picture: watch and steer one at a time
    if config.device == "auto" and not quiet:
        _note_unused_gpu()
    network = load_network(config, show_download=not quiet)
    progress = Progress(count, config, "none" if quiet else progress_mode(flags.progress, single=count == 1))
    progress.computing = run_device(config, network.device)
    options = RunOptions(overwrite=flags.overwrite or single, resume=not flags.overwrite, fail_fast=flags.fail_fast,
                         log=flags.log)  # fmt: skip
    report = Report()
    try:
        with stop_on_signals(), live_page(flags, count, config) as live:  # handlers stay until pictures are kept
            try:
                events = live.events(progress) if live else progress
                work(network, config, options, events, report, live.steering if live else None)
            except (KeyboardInterrupt, Stopped) as stop:
                why = stop_words(stop)
                report.stop_reason = report.stop_reason or why
                _keep_unfinished(progress, why)
                if not single and not quiet:
                    say(f"stylize: {report.summary(count)}")
                raise
            progress.close()
            if not single and not quiet:
                click.echo(f"stylize: {report.summary(count)}", err=True)
            keep_page(live, flags)
    finally:
        progress.close()
        network.extractor.close()  # remove the forward hooks
    return report


def _keep_unfinished(progress: Progress, why: str) -> None:
    """Save the current batch's pictures as they are, and say where (a signal waits for this)."""
    for kept in progress.save_unfinished():
        say(f"stylize: {why}; unfinished image saved to {kept}")


def make_folders(jobs: list[Job]) -> None:
    from ..io.saving import check_can_write

    for folder in dict.fromkeys(job.output.parent for job in jobs):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ImageError(f"{folder}: cannot create the output folder ({err.strerror or err})") from None
        check_can_write(folder / "probe.png")


def print_plan(jobs: list[Job], config: Config, overwrite: bool, masks: Masks) -> None:
    """--dry-run: one line per job (what would happen, input, styles, output, size), then counts. A
    job fails here as it would in the run: its photo or its own mask ({content}) unreadable."""
    from ..batch.plan import is_done
    from ..io.reading import image_size
    from ..run.stages import stage_sizes

    counts = {"make": 0, "skip": 0, "fail": 0}
    for job in jobs:
        try:
            width, height = stage_sizes(image_size(job.content, config.max_pixels), config)[-1]
            action, detail = ("make", f"{width}x{height}")
            if not overwrite and is_done(job):
                action, detail = "skip", "already there"
            else:
                masks.regions(job.styles, job.content)
        except (ImageError, SettingsError) as err:
            action, detail = "fail", err.message
        counts[action] += 1
        click.echo("\t".join([action, str(job.content), "+".join(map(str, job.styles)), str(job.output), detail]))
    click.echo(f"stylize: dry run: {counts['make']} to make, {counts['skip']} to skip, {counts['fail']} unreadable",
               err=True)  # fmt: skip


def _note_unused_gpu() -> None:
    """Say why a run on a machine with a GPU falls back to the CPU (the same words as --version)."""
    from ..network.device_choice import auto_device

    choice = auto_device()
    if choice.gpu_unused:
        say(f"stylize: note: running on the CPU: {choice.reason}")
