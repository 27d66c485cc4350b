"""A live page for one run: its token, what it shows, its controls and its server, started and stopped together."""

from __future__ import annotations

import secrets
import socket
from typing import TYPE_CHECKING

from ..optimize.steering import Steering
from ..version import install_hint
from .address import is_loopback
from .controls import Controls
from .events import LiveEvents
from .state import LiveState

if TYPE_CHECKING:
    from ..batch.report import Events
    from .server import PageServer


class LivePreview:
    """`start` serves the page (SettingsError if the extra is missing or the port is taken); `events`
    wraps the run's events so the page hears them; `steering` goes to the run; `stop` ends the page."""

    def __init__(self, host: str, port: int, jobs: int, per_picture: int, weights: dict[str, float],
                 refusal: str | None = None) -> None:  # fmt: skip
        self.host, self.port, self.refusal = host, port, refusal
        self.token = secrets.token_urlsafe(18)
        self.steering = Steering()
        self.state = LiveState(jobs, per_picture, weights)
        self.server: PageServer | None = None

    def start(self) -> str:
        """Serve the page; returns its address (with the token)."""
        from .server import PageServer, build_app

        app = build_app(self.state, Controls(self.steering, self.state, self.refusal), self.token)
        self.server = PageServer(app, self.host, self.port)
        self.server.start()
        return self.url

    @property
    def url(self) -> str:
        port = self.server.port if self.server else self.port
        host = self.host if is_loopback(self.host) or self.host not in ("0.0.0.0", "::") else socket.gethostname()
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/?token={self.token}"

    def events(self, inner: Events) -> Events:
        return LiveEvents(inner, self.state)

    def finish(self) -> None:
        """The run is over: the page says so (it stays while the server does)."""
        self.steering.resume()
        self.state.close()

    def stop(self) -> None:
        self.finish()
        if self.server is not None:
            self.server.stop()
            self.server = None


def missing_extra() -> str | None:
    """What to install for --preview, or None if its libraries are there."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        return install_hint("preview")
    return None
