"""--video: plan the frames of a video (every usage problem before any work), make them as a chain, encode them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..batch.inputs import find_images
from ..batch.plan import DEFAULT_NAME, Job, check_distinct, check_name_template, output_name, parse_shard
from ..config import Config
from ..errors import SettingsError
from ..video.chunks import video_chunk
from ..video.settings import FOLDER_FPS, later_config
from .actions import execute, make_folders, names_a_folder
from .live import check_preview
from .settings import BatchFlags, parse_iterations
from .signals import say

if TYPE_CHECKING:
    from ..batch.report import Events, Report
    from ..batch.runner import RunOptions
    from ..batch.video_run import VideoWork
    from ..fleet.pool import Pool
    from ..network.loader import Network
    from ..optimize.steering import Steering
    from ..run.regions import Masks

VIDEO_NAME = "{index:06d}.png"  # the frames' names in the -o folder, unless --name


def plan_video(content: list[str], styles: list[str], output: Path, config: Config,
               flags: BatchFlags) -> tuple[VideoWork, Masks]:  # fmt: skip
    """The frames, their outputs, this run's chunk and the later frames' settings; SettingsError for misuse."""
    from ..batch.video_run import VideoWork
    from ..run.pictures import check_style_count
    from ..run.regions import load_masks
    from ..run.stages import check_tile
    from ..video.encode import check_video_output
    from ..video.flow import check_flow_library
    from ..video.source import ImageFrames, VideoFile, is_video_file, name_order

    _check_video_flags(content, output, flags)
    check_flow_library()
    if is_video_file(content[0]):
        frames: ImageFrames | VideoFile = VideoFile(Path(content[0]))
    else:
        found = find_images(content, flags.recursive, skip_folder=output)
        frames = ImageFrames(name_order(found), config.max_pixels)
    style_paths = tuple(find_images(styles))
    check_style_count(len(style_paths), config)
    check_tile(config)
    check_preview(flags)
    if flags.video_out is not None:
        check_video_output(flags.video_out)
    name = VIDEO_NAME if flags.name == DEFAULT_NAME else flags.name
    check_name_template(name)
    jobs = tuple(Job(i + 1, frames.name(i), style_paths,
                     output / output_name(name, i + 1, frames.name(i), style_paths, config))
                 for i in range(frames.count))  # fmt: skip
    check_distinct(jobs)
    later = later_config(config, parse_iterations(flags.video_iterations))
    return VideoWork(frames, jobs, video_chunk(frames.count, parse_shard(flags.shard)), later), load_masks(
        config, style_paths)


def _check_video_flags(content: list[str], output: Path, flags: BatchFlags) -> None:
    if len(content) != 1:
        raise SettingsError(f"--video takes one CONTENT (a video file, a folder of frames or a quoted glob), "
                            f"got {len(content)}", hint="quote a glob so that stylize expands it: \"frames/*.png\"")
    if not names_a_folder(output):
        raise SettingsError(f"-o {output}: with --video, -o is the folder of frames",
                            hint="e.g. -o frames/ --video-out clip.mp4")  # fmt: skip
    if flags.each_style:
        raise SettingsError("--each-style makes one picture per style; a --video run makes one video")
    if flags.video_out is not None and flags.shard is not None:
        raise SettingsError("--video-out needs every frame; a --shard run makes only its stretch",
                            hint="when all shards are done, run once more without --shard with --video-out")
    if flags.fps is not None and not flags.fps > 0:
        raise SettingsError(f"--fps must be > 0, got {flags.fps}")


def run_video_command(content: list[str], styles: list[str], output: Path, config: Config, flags: BatchFlags,
                      quiet: bool) -> int:  # fmt: skip
    """Plan, then (unless --dry-run) make the video's frames in order and encode them; the exit code."""
    video, masks = plan_video(content, styles, output, config, flags)
    if flags.dry_run:
        _print_plan(video)
        return 0
    if flags.ray is not None:
        report = _run_on_fleet(video, masks, config, flags, quiet)
        if report.exit_code == 0 and flags.video_out is not None:
            _encode(video, flags.video_out, flags.fps, quiet)
        return report.exit_code
    make_folders(list(video.jobs[:1]))
    from ..batch.video_run import run_video

    def work(network: Network, config: Config, options: RunOptions, events: Events, report: Report,
             steering: Steering | None) -> None:  # fmt: skip
        run_video(video, config, network, options, events, report, masks, steering)

    report = execute(work, video.chunk.count, False, config, flags, quiet)
    if report.exit_code == 0 and flags.video_out is not None:
        _encode(video, flags.video_out, flags.fps, quiet)
    return report.exit_code


def _run_on_fleet(video: VideoWork, masks: Masks, config: Config, flags: BatchFlags, quiet: bool) -> Report:
    """--ray: the video's stretches made side by side by the cluster's workers, every frame written here."""
    from ..batch.batches import load_styles
    from ..fleet.video import run_fleet_video
    from .fleet_actions import execute_fleet

    styles = load_styles(video.jobs[:1], config.max_pixels)

    def work(pool: Pool, config: Config, options: RunOptions, events: Events, report: Report) -> None:
        make_folders(list(video.jobs[:1]))  # once the cluster is joined
        run_fleet_video(video, flags.stretches, config, pool, options, events, report, masks)

    return execute_fleet(work, video.chunk.count, styles, config, flags, quiet, later=video.later)


def _print_plan(video: VideoWork) -> None:
    from ..video.chunks import chain_start

    chunk, jobs = video.chunk, video.jobs
    start = chain_start(chunk, lambda i: jobs[i].output.is_file())
    width, height = video.frames.size
    click.echo(f"{video.frames.count} frames of {width}x{height}; this run: frames {chunk.first + 1} to "
               f"{chunk.last + 1}, {start - chunk.first} already there, continuing at {start + 1}")  # fmt: skip
    for index in range(chunk.first, chunk.last + 1):
        action = "skip" if index < start else "make"
        click.echo("\t".join([action, str(jobs[index].content), str(jobs[index].output)]))


def _encode(video: VideoWork, output: Path, fps: float | None, quiet: bool) -> None:
    from ..video.encode import encode_video

    missing = [job for job in video.jobs if not job.output.is_file()]
    if missing:
        raise SettingsError(f"--video-out {output}: {len(missing)} frames are not made yet (first: "
                            f"{missing[0].output})", hint="run the missing shards, then this command again")
    rate = fps or video.frames.fps or FOLDER_FPS
    encode_video([job.output for job in video.jobs], output, rate)
    if not quiet:
        say(f"stylize: {len(video.jobs)} frames encoded into {output} at {rate:g} frames a second")
