"""The `stylize` process: the command, then an exit that skips the interpreter's teardown.

A process that imported torch spends about half a second after its work in Python's teardown
(on CPU-bf16: `import torch` and exit, 2.0 s; the same ending in os._exit, 1.45 s); a shell loop
or a job array of small pictures would pay it for every picture. Everything the command writes is
closed before it returns (atomic saves, the --log file, the bars, the live page), so the process
flushes its standard streams and leaves with the command's exit code at once. An exception the
command did not handle goes through the normal exit, traceback and all.
"""

from __future__ import annotations

import contextlib
import os
import sys

from .command import main


def run() -> None:
    """The console script and `python -m stylize`."""
    try:
        main()
    except SystemExit as done:
        leave(done.code)
    leave(0)


def leave(code: object) -> None:
    """Flush stdout and stderr and end the process with `code` (SystemExit's meaning: None is 0, a
    message is printed and exits 1)."""
    if isinstance(code, str):
        print(code, file=sys.stderr)
    status = 0 if code is None else code if isinstance(code, int) else 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe: nothing more can be said
            stream.flush()
    os._exit(status)
