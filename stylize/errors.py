"""The error vocabulary: every failure a user can meet is one of these, with a hint.

Library code raises them; only the CLI turns them into messages and exit codes.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence


class StylizeError(Exception):
    """Base class. `exit_code` is what the CLI exits with; the message is one line."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class SettingsError(StylizeError):
    """An impossible or mistyped setting, found before any computation (exit code 2)."""

    exit_code = 2


class WeightsError(StylizeError):
    """Network weights are missing, corrupt, of the wrong shape, or cannot be fetched."""


class ImageError(StylizeError):
    """An input image cannot be read, or an output cannot be written."""


class WriteError(ImageError):
    """An output cannot be written: `errno` says why (a full disk, a read-only or forbidden place, a
    file-size limit). Those causes stop a batch at once: the next result could not be written either."""

    def __init__(self, message: str, errno: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.errno = errno


class OptimizationError(StylizeError):
    """The optimisation failed (for example a loss that stays non-finite).

    `image` holds the last good image (a tensor) so that the caller can still save it.
    """

    image: object = None


class ResourceError(StylizeError):
    """The run needs more memory (or another resource) than the machine has; found before starting."""


def did_you_mean(word: str, options: Sequence[str]) -> str:
    """'; did you mean 'x'?' for the closest of `options`, or '' when none is close: for error messages."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else ""
