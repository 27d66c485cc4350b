"""The Python API as the README shows it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from conftest import read_rgb

import stylize
from stylize.network.layers import parse_layer_list


def test_import_has_no_side_effects() -> None:
    code = "import sys, stylize; assert 'torch' not in sys.modules, 'import stylize pulled in torch'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_public_names_resolve_and_unknown_ones_raise() -> None:
    assert stylize.__version__
    assert stylize.Config().size == 512
    assert callable(stylize.transfer) and callable(stylize.stylize_file) and callable(stylize.load_network)
    with pytest.raises(AttributeError):
        _ = stylize.no_such_name  # type: ignore[attr-defined]


def test_invalid_config_raises_a_stylize_error() -> None:
    with pytest.raises(stylize.StylizeError):
        stylize.Config(iterations=0)


def test_transfer_with_a_reused_network_and_callback(
    weights_file: Callable[[str, str], Path], images: dict[str, Path]
) -> None:
    config = stylize.Config(weights=weights_file("vgg19", "relu2_1"), content_layers=parse_layer_list("relu2_1", "c"),
                            style_layers=parse_layer_list("relu1_1,relu2_1", "s"), size=40, iterations=4,
                            device="cpu")  # fmt: skip
    network = stylize.load_network(config)
    seen: list[int] = []
    content, style = read_rgb(images["content"]), read_rgb(images["style"])
    first = stylize.transfer(content, [style], config, on_step=lambda s: seen.append(s.iteration), network=network)
    second = stylize.transfer(content, [style], config, network=network)
    assert seen == [1, 2, 3, 4]
    assert first.image.shape == (1, 3, 30, 40)
    assert torch.equal(first.image, second.image), "a reused network must give the same result"
