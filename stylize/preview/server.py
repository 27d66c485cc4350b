"""The live page's web server: starlette routes behind a token, served by uvicorn in its own thread.

Why starlette + uvicorn: a small, typed, well-kept ASGI pair with server-sent events as a plain
streaming response and a test client; uvicorn runs in a daemon thread of its own, so the run
never waits on a browser. Every request needs the run's token (`?token=` or the X-Stylize-Token
header), else 403; files served are a fixed list of the package's own, never a path from a request.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from ..errors import SettingsError
from .controls import Controls
from .state import LiveState

PAGE = Path(__file__).parent / "page"
PUSH_EVERY = 0.5  # seconds between looks at the state for an events stream: at most 2 pushes a second (see below)
KEEP_ALIVE = 15.0  # seconds: a comment line on a quiet stream, so that proxies and tunnels keep it
# Why 2 a second, not 4: a browser on the run's own cores repaints with every push, and its threads
# interrupt the run's (benchmarks/preview.py, 256 px on 2 cores: +13.6% per iteration at 4 pushes a
# second, +2.8% at 2).
NO_STORE = {"Cache-Control": "no-store"}
STARTUP = 5.0  # seconds to wait for the server to be serving (connections queue meanwhile anyway)


def build_app(state: LiveState, controls: Controls, token: str) -> Starlette:
    """The page's routes: its files, the event stream, the images and the controls."""

    async def page(request: Request) -> Response:
        return Response(page_html(), media_type="text/html", headers=NO_STORE)

    async def events(request: Request) -> Response:
        return StreamingResponse(_stream(state), media_type="text/event-stream", headers=NO_STORE)

    def image(request: Request) -> Response:  # sync: starlette runs it in a worker thread (PNG encoding)
        which = request.path_params["which"]
        if which not in ("current", "content", "style"):
            return Response(status_code=404)
        data = state.encoded_image() if which == "current" else state.input_image(which)
        if data is None:
            return Response(status_code=204, headers=NO_STORE)
        return Response(data, media_type="image/png", headers=NO_STORE)

    async def control(request: Request) -> Response:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        status, answer = await asyncio.to_thread(controls.act, body)
        return Response(json.dumps(answer), status_code=status, media_type="application/json")

    routes = [Route("/", page), Route("/events", events), Route("/image/{which:str}", image),
              Route("/control", control, methods=["POST"])]  # fmt: skip
    app = Starlette(routes=routes)
    app.add_middleware(_TokenCheck, token=token)
    return app


def page_html() -> str:
    """The page as one document: its style sheet and script inlined, so that it needs no request without
    the token (a browser does not add it to the addresses of a page's files)."""
    html = (PAGE / "index.html").read_text(encoding="utf-8")
    for name in ("page.css", "page.js"):
        html = html.replace(f"/* {name} */", (PAGE / name).read_text(encoding="utf-8"))
    return html


class _TokenCheck:
    """ASGI middleware: 403 for any request without the run's token (compared in constant time)."""

    def __init__(self, app: Callable[..., Awaitable[None]], token: str) -> None:
        self.app, self.token = app, token

    async def __call__(self, scope: dict[str, object], receive: object, send: object) -> None:
        if scope["type"] == "http":
            request = Request(scope)
            given = request.query_params.get("token") or request.headers.get("x-stylize-token") or ""
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                refusal = PlainTextResponse("403: this page needs the token in the address stylize printed\n", 403)
                await refusal(scope, receive, send)  # type: ignore[arg-type]
                return
        await self.app(scope, receive, send)


async def _stream(state: LiveState) -> AsyncIterator[str]:
    """Server-sent events: the page's data whenever it changed (at most every PUSH_EVERY s). Starlette
    ends the stream when the browser goes away."""
    seen, version, quiet = None, -1, 0.0
    while True:
        if state.version != version:
            data, seen = state.view(seen)
            version, quiet = data["version"], 0.0
            yield f"data: {json.dumps(data)}\n\n"
        elif quiet >= KEEP_ALIVE:
            quiet = 0.0
            yield ": still here\n\n"
        await asyncio.sleep(PUSH_EVERY)
        quiet += PUSH_EVERY


class PageServer:
    """uvicorn serving `app` on (host, port) from a daemon thread; port 0 takes a free one."""

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.socket.bind((host, port))
            self.socket.listen(64)  # from now on a browser's connection waits for the server, never refused
        except OSError as err:
            self.socket.close()
            raise SettingsError(f"--preview {host}:{port}: cannot listen there ({err.strerror or err})",
                                hint="choose another port, or --preview 0 for any free one") from None  # fmt: skip
        self.host, self.port = host, self.socket.getsockname()[1]
        logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)  # the page's own troubles never print
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=1,
                                log_level="critical")  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]},
                                       name="stylize-preview", daemon=True)  # fmt: skip

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + STARTUP
        while not self.server.started and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
        self.socket.close()
