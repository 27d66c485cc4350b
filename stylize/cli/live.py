"""--preview: the live page around a run; checked before any work, started with the run, stopped after it."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..config import Config
from ..errors import SettingsError
from ..preview.address import exposure_warning, parse_address
from ..run.stages import config_stages
from .settings import BatchFlags
from .signals import Stopped, say

if TYPE_CHECKING:
    from ..preview.session import LivePreview


def check_preview(flags: BatchFlags) -> None:
    """Usage problems of --preview, before the network loads: a bad address, a missing extra."""
    if flags.preview is None:
        if flags.preview_keep:
            raise SettingsError("--preview-keep keeps the live page up: it needs --preview [HOST:]PORT")
        return
    parse_address(flags.preview)
    from ..preview.session import missing_extra

    install = missing_extra()
    if install:
        raise SettingsError("--preview needs the web libraries of the preview extra", hint=install)


@contextlib.contextmanager
def live_page(flags: BatchFlags, jobs: int, config: Config, refusal: str | None = None) -> Iterator[LivePreview | None]:
    """The run's live page (None without --preview), serving for the length of the block; `refusal`: why its
    controls are refused (a fleet's pictures are made elsewhere)."""
    if flags.preview is None:
        yield None
        return
    from ..preview.session import LivePreview

    host, port = parse_address(flags.preview)
    per_picture = sum(s.iterations for s in config_stages(config))
    weights = {"content": config.content_weight, "style": config.style_weight, "tv": config.tv_weight}
    live = LivePreview(host, port, jobs, per_picture, weights, refusal)
    url = live.start()
    warning = exposure_warning(host)
    if warning:
        say(f"stylize: warning: {warning}")
    say(f"stylize: live preview at {url}")  # even with --quiet: without it the page cannot be found
    try:
        yield live
    finally:
        live.stop()


def keep_page(live: LivePreview | None, flags: BatchFlags) -> None:
    """After a run that ended on its own: the page says so, and with --preview-keep stays until Ctrl-C
    (or a stop signal; the run's exit code stands)."""
    if live is None:
        return
    live.finish()
    if flags.preview_keep:
        say(f"stylize: the run is over; the live page stays at {live.url} until Ctrl-C")
        with contextlib.suppress(KeyboardInterrupt, Stopped):
            threading.Event().wait()
