"""stylize: neural style transfer (Gatys et al. 2015) from the command line and from Python.

    import stylize
    result = stylize.stylize_file(Path("photo.jpg"), [Path("painting.jpg")], Path("out.png"),
                                  stylize.Config(size=512))

Importing this package builds no model, touches no GPU and reads no file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Config", "Result", "Step", "StylizeError", "__version__", "load_network", "stylize_file", "transfer"]

if TYPE_CHECKING:
    from .config import Config
    from .engine import Result, Step
    from .errors import StylizeError
    from .outputs import stylize_file
    from .pipeline import load_network, transfer

_HOMES = {
    "Config": "config",
    "StylizeError": "errors",
    "Result": "engine",
    "Step": "engine",
    "transfer": "pipeline",
    "stylize_file": "outputs",
    "load_network": "pipeline",
}


def __getattr__(name: str) -> Any:  # lazy: `import stylize` must stay cheap and side-effect free
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(f"module 'stylize' has no attribute {name!r}")
