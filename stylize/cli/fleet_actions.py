"""--ray: a folder or a video made by a Ray cluster's workers; this process plans, shows progress and writes.

Every usage problem is found before the cluster is joined (the extra, the address, the flags that make
no sense on a fleet); a cluster that cannot be reached is one line and exit 2.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..config import Config
from ..errors import SettingsError
from .fleet_progress import FleetProgress
from .live import keep_page, live_page
from .progress import progress_mode
from .settings import BatchFlags
from .signals import Stopped, say, stop_on_signals, stop_words

if TYPE_CHECKING:
    from PIL import Image

    from ..batch.report import Events, Report
    from ..batch.runner import RunOptions
    from ..fleet.pool import Pool

FLEET_DEVICES = ("auto", "cpu", "cuda")
NOT_STEERABLE = "steering is not available on a fleet (--ray): the page shows the run's progress; stop it with Ctrl-C"
FleetWork = Callable[["Pool", Config, "RunOptions", "Events", "Report"], None]


def check_fleet(flags: BatchFlags, config: Config, single: bool) -> None:
    """Usage problems of --ray and --stretches, before anything starts (the extra included)."""
    if flags.ray is None:
        if flags.stretches:
            raise SettingsError("--stretches cuts a video for the workers of a fleet: it needs --ray",
                                hint="on one machine, --shard K/N makes one stretch")  # fmt: skip
        return
    from ..fleet.cluster import check_address, import_ray

    check_address(flags.ray)
    if single:
        raise SettingsError("--ray spreads a folder or a video over a cluster; -o names one picture",
                            hint="give -o a folder (out/), or leave out --ray")  # fmt: skip
    if config.device not in FLEET_DEVICES:
        raise SettingsError(f"--device {config.device} names a device of this machine; on a fleet each worker "
                            "takes its own", hint="--device auto (GPUs where nodes have them), cpu or cuda")
    if flags.stretches < 0:
        raise SettingsError(f"--stretches must be >= 0, got {flags.stretches}")
    if flags.stretches and not flags.video:
        raise SettingsError("--stretches cuts a video: it needs --video")
    if flags.video and flags.shard is not None:
        raise SettingsError("--ray makes every stretch of the video", hint="use --stretches N instead of --shard")
    import_ray()


def execute_fleet(work: FleetWork, count: int, styles: dict[Path, Image.Image], config: Config, flags: BatchFlags,
                  quiet: bool, later: Config | None = None) -> Report:  # fmt: skip
    """Join the cluster, start the workers and do `work` (`count` results) with one progress bar, the live
    page (without steering) and signal handling; the report says what happened."""
    from ..batch.report import Report
    from ..batch.runner import RunOptions
    from ..fleet.cluster import connect, plan_slots
    from ..fleet.packing import png
    from ..fleet.pool import Pool

    assert flags.ray is not None
    ray = connect(flags.ray, _unreachable)
    pool: Pool | None = None
    try:
        slots = plan_slots(ray.nodes(), config.device, config.threads)
        weights = config.weights.read_bytes() if config.weights is not None else None
        pool = Pool(ray, slots, config, {path: png(image) for path, image in styles.items()}, weights, later)
        pool.start()
        progress = FleetProgress(count, "none" if quiet else progress_mode(flags.progress))
        progress.info(f"{len(slots)} workers on the Ray cluster ({flags.ray}): {_hosts(slots)}")
        options = RunOptions(overwrite=flags.overwrite, resume=not flags.overwrite, fail_fast=flags.fail_fast,
                             log=flags.log)  # fmt: skip
        report = Report()
        with stop_on_signals(), live_page(flags, count, config, refusal=NOT_STEERABLE) as live:
            try:
                work(pool, config, options, live.events(progress) if live else progress, report)
            except (KeyboardInterrupt, Stopped) as stop:
                report.stop_reason = report.stop_reason or stop_words(stop)
                progress.close()
                if not quiet:
                    say(f"stylize: {report.summary(count)}")
                raise
            progress.close()
            if not quiet:
                click.echo(f"stylize: {report.summary(count)}", err=True)
            _leave(ray, pool)  # the workers' memory is given back before the page is kept
            pool = None
            keep_page(live, flags)
        return report
    finally:
        _leave(ray, pool)


def _leave(ray: Any, pool: Pool | None) -> None:
    """End the workers (they remove their files) and leave the cluster (`local`: Ray ends with it)."""
    if pool is not None:
        pool.shutdown()
    if ray.is_initialized():
        ray.shutdown()


def _unreachable(message: str) -> None:
    """Ray hangs on an address that answers but is no cluster: said, and the process ends (nothing started)."""
    say(f"stylize: error: {message}")
    os._exit(2)


def _hosts(slots: list[Any]) -> str:
    counts: dict[str, int] = {}
    for slot in slots:
        kind = f"{slot.host} {'GPU' if slot.gpus else f'CPU x{slot.threads} threads'}"
        counts[kind] = counts.get(kind, 0) + 1
    return ", ".join(f"{n} on {kind}" for kind, n in counts.items())
