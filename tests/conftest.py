"""Shared fixtures: small generated images and small random-weight networks (no downloads)."""

from __future__ import annotations

import os
import re
import select
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from click.testing import Result as CliResult
from PIL import Image

from stylize.cli import main
from stylize.config import Config
from stylize.errors import OptimizationError
from stylize.network.extractor import FeatureExtractor, vgg_skeleton
from stylize.network.layers import LayerChoice, layer_names
from stylize.optimize.engine import OnStep, OptimizerSettings, Result, optimize_batch
from stylize.optimize.objective import Objective
from stylize.optimize.targets import Targets, content_features, style_targets

SHARED_IMAGES = Path(__file__).resolve().parents[2] / "shared" / "images"
TINY_LAYERS = ["--content-layers", "relu2_1", "--style-layers", "relu1_1,relu2_1"]


def random_state(model: str, depth: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """A torchvision-format state dict (`features.N.*`) for the first `depth` modules, He-initialised."""
    generator = torch.Generator().manual_seed(seed)
    state: dict[str, torch.Tensor] = {}
    for key, meta in vgg_skeleton(model, depth).state_dict().items():
        if key.endswith("weight") and meta.dim() == 4:
            fan_in = meta.shape[1] * 9
            value = torch.randn(meta.shape, generator=generator) * (2.0 / fan_in) ** 0.5
        elif key.endswith("running_var") or (key.endswith("weight") and meta.dim() == 1):
            value = torch.ones(meta.shape)
        elif key.endswith("num_batches_tracked"):
            value = torch.zeros((), dtype=torch.long)
        else:
            value = torch.zeros(meta.shape)
        state[f"features.{key}"] = value
    return state


@pytest.fixture(scope="session")
def weights_file(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Path]:
    """weights_file(model, deepest_layer) -> a random torchvision-format file covering that layer."""
    made: dict[tuple[str, str], Path] = {}

    def make(model: str = "vgg19", deepest: str = "relu2_1") -> Path:
        if (model, deepest) not in made:
            path = tmp_path_factory.mktemp("weights") / f"{model}-{deepest}.pth"
            torch.save(random_state(model, layer_names(model).index(deepest) + 1), path)
            made[(model, deepest)] = path
        return made[(model, deepest)]

    return make


def pattern_image(width: int, height: int, seed: int) -> Image.Image:
    """A smooth coloured image with some structure (gradients plus blobs)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    channels = [np.sin(x / rng.uniform(3, 9) + rng.uniform(0, 6)) * np.cos(y / rng.uniform(3, 9)) for _ in range(3)]
    array = (np.stack(channels, -1) * 0.5 + 0.5) * 255
    return Image.fromarray(array.astype(np.uint8), "RGB")


@pytest.fixture
def images(tmp_path: Path) -> dict[str, Path]:
    """content.png (48x36), style.png and style2.png (40x40) in tmp_path."""
    paths = {"content": tmp_path / "content.png", "style": tmp_path / "style.png", "style2": tmp_path / "style2.png"}
    pattern_image(48, 36, 1).save(paths["content"])
    pattern_image(40, 40, 2).save(paths["style"])
    pattern_image(40, 40, 3).save(paths["style2"])
    return paths


@pytest.fixture
def shared_images() -> Path:
    if not SHARED_IMAGES.is_dir():
        pytest.skip("../shared/images is not present")
    return SHARED_IMAGES


Run = Callable[..., CliResult]


@pytest.fixture
def run(weights_file: Callable[[str, str], Path], images: dict[str, Path], tmp_path: Path) -> Run:
    """run(*extra) -> `stylize content style -o out.png` with a tiny random network, 40 px, 3 iterations."""

    def invoke(*extra: str, model: str = "vgg19", styles: tuple[str, ...] = ("style",),
               out: str = "out.png") -> CliResult:  # fmt: skip
        args = [str(images["content"]), *(str(images[s]) for s in styles), "-o", str(tmp_path / out)]
        args += ["--model", model, "--weights", str(weights_file(model, "relu2_1")), *TINY_LAYERS]
        args += ["--size", "40", "--iterations", "3", "--device", "cpu", *extra]
        return CliRunner().invoke(main, args)

    return invoke


def read_rgb(path: Path) -> Image.Image:
    """Open, decode and close an image file (no ResourceWarning under strict pytest)."""
    with Image.open(path) as image:
        return image.convert("RGB")


# Helpers the tests share, moved here from the package, which does not use them itself.


def settings(config: Config) -> OptimizerSettings:
    """The engine's settings from a Config (the run package builds them per stage)."""
    return OptimizerSettings(config.optimizer, config.iterations, config.learning_rate)


def optimize(objective: Objective, init: torch.Tensor, config: Config, on_step: OnStep | None = None) -> Result:
    """Minimise `objective` over the pixels of one image that starts as `init` (1, 3, H, W)."""
    (outcome,) = optimize_batch(objective, init, settings(config), on_step)
    if isinstance(outcome, OptimizationError):
        raise outcome
    return outcome


def compute_targets(
    extractor: FeatureExtractor,
    choice: LayerChoice,
    content: torch.Tensor,
    styles: list[torch.Tensor],
    dtype: torch.dtype = torch.float32,
) -> Targets:
    """Targets for one image: its content activations and the blended style Gram matrices."""
    return Targets(content_features(extractor, choice, content, dtype), style_targets(extractor, choice, styles,
                                                                                    None, dtype))  # fmt: skip


def resize_long_side(image: Image.Image, size: int) -> Image.Image:
    """Scale so that the longer side is `size` px, keeping the aspect ratio."""
    from stylize.run.stages import long_side_size

    new = long_side_size(image.size, size)
    return image if new == image.size else image.resize(new, Image.Resampling.LANCZOS)


def read_stderr_until(process: subprocess.Popen[bytes], pattern: bytes, seconds: float = 120) -> bytes:
    """A running process's stderr until `pattern` (a regex) shows; raw chunks, since progress bars
    end their lines with \\r, not \\n."""
    assert process.stderr is not None
    seen, deadline = b"", time.monotonic() + seconds
    while not re.search(pattern, seen) and time.monotonic() < deadline:
        ready, _, _ = select.select([process.stderr], [], [], 0.5)
        if ready:
            chunk = os.read(process.stderr.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
    assert re.search(pattern, seen), f"never saw {pattern!r}: {seen[-500:]!r}"
    return seen


def photo_folder(folder: Path, count: int, seed: int) -> Path:
    """`folder` with `count` pattern photos p0.png, p1.png, ... (64x48)."""
    folder.mkdir()
    for i in range(count):
        pattern_image(64, 48, seed=seed + i).save(folder / f"p{i}.png")
    return folder
