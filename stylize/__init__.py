"""The Python API, loaded lazily: Config, transfer, transfer_batch, stylize_file, harmonize, load_network.

stylize is neural style transfer (Gatys et al. 2015) from the command line and from Python.

    import stylize
    result = stylize.stylize_file(Path("photo.jpg"), [Path("painting.jpg")], Path("out.png"),
                                  stylize.Config(size=512))

This module is the documented entry point; the names below are loaded on first use, so that
importing this package builds no model, touches no GPU and reads no file.

"The fast.ai lesson", in comments and docs throughout, is lesson 13 of fast.ai's *Practical Deep
Learning for Coders, part 2* (2019), which teaches this method: a frozen VGG with forward hooks,
Gram-matrix style loss, L-BFGS over the pixels, median-filtered noise, progressive resizing.

Packages follow the data, each importing only from those below it (tests/test_house.py checks):
cli > preview > batch > video > run > optimize > losses > network | io > config > errors, version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .version import __version__

__all__ = [
    "Config",
    "Harmonize",
    "Picture",
    "Regions",
    "Result",
    "Step",
    "StylizeError",
    "__version__",
    "harmonize",
    "load_network",
    "stylize_file",
    "transfer",
    "transfer_batch",
]

if TYPE_CHECKING:
    from .config import Config
    from .errors import StylizeError
    from .network.loader import load_network
    from .optimize.engine import Result, Step
    from .run.files import stylize_file
    from .run.harmonize.api import harmonize
    from .run.harmonize.masks import Harmonize
    from .run.pictures import Picture, transfer, transfer_batch
    from .run.regions import Regions

_HOMES = {
    "Config": "config",
    "StylizeError": "errors",
    "Result": "optimize.engine",
    "Step": "optimize.engine",
    "Picture": "run.pictures",
    "Regions": "run.regions",
    "transfer": "run.pictures",
    "transfer_batch": "run.pictures",
    "stylize_file": "run.files",
    "harmonize": "run.harmonize.api",
    "Harmonize": "run.harmonize.masks",
    "load_network": "network.loader",
}


def __getattr__(name: str) -> Any:  # lazy: `import stylize` must stay cheap and side-effect free
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(f"module 'stylize' has no attribute {name!r}")
