"""The Python API as the README shows it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import read_rgb

import stylize
from stylize.network.layers import parse_layer_list


@pytest.mark.slow  # a fresh interpreter
def test_import_has_no_side_effects() -> None:
    code = "import sys, stylize; assert 'torch' not in sys.modules, 'import stylize pulled in torch'"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow  # a fresh interpreter
def test_the_command_loads_without_torch_so_help_is_instant() -> None:
    code = "import sys, stylize.cli.command; assert 'torch' not in sys.modules, 'the CLI module pulled in torch'"
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


def rgba_photo(path: Path) -> Path:
    """A 48x36 photo whose alpha fades from opaque (left) to transparent (right)."""
    from conftest import pattern_image
    from PIL import Image

    photo = pattern_image(48, 36, 7).convert("RGBA")
    photo.putalpha(Image.linear_gradient("L").rotate(90).resize((48, 36)))
    photo.save(path)
    return path


def test_the_api_and_the_cli_write_the_same_file_for_an_rgba_photo(
    weights_file: Callable[[str, str], Path], images: dict[str, Path], tmp_path: Path
) -> None:
    from click.testing import CliRunner
    from conftest import TINY_LAYERS
    from PIL import Image

    from stylize.cli import main

    photo, weights = rgba_photo(tmp_path / "photo.png"), weights_file("vgg19", "relu2_1")
    config = stylize.Config(weights=weights, content_layers=parse_layer_list("relu2_1", "c"),
                            style_layers=parse_layer_list("relu1_1,relu2_1", "s"), size=48, iterations=3,
                            device="cpu")  # fmt: skip
    stylize.stylize_file(photo, [images["style"]], tmp_path / "api.png", config)
    flags = ["--weights", str(weights), *TINY_LAYERS, "--size", "48", "--iterations", "3", "--device", "cpu", "-q"]
    ran = CliRunner().invoke(main, [str(photo), str(images["style"]), "-o", str(tmp_path / "cli.png"), *flags])
    assert ran.exit_code == 0, ran.output
    assert (tmp_path / "api.png").read_bytes() == (tmp_path / "cli.png").read_bytes()
    with Image.open(tmp_path / "api.png") as made, Image.open(photo) as given:
        assert made.mode == "RGBA"
        assert np.array_equal(np.asarray(made.getchannel("A")), np.asarray(given.getchannel("A")))


def test_the_api_refuses_a_photo_over_max_pixels(images: dict[str, Path], tmp_path: Path) -> None:
    config = stylize.Config(max_pixels=1000)  # the photo has 48x36 = 1728
    with pytest.raises(stylize.StylizeError, match="more than the limit"):
        stylize.stylize_file(images["content"], [images["style"]], tmp_path / "out.png", config)
    assert not (tmp_path / "out.png").exists()


def test_masks_through_the_api_as_files_and_as_images_give_the_same_picture(
    weights_file: Callable[[str, str], Path], images: dict[str, Path], tmp_path: Path
) -> None:
    from PIL import Image

    left = np.zeros((36, 48), np.uint8)
    left[:, :24] = 255
    masks = (Image.fromarray(left), Image.fromarray(255 - left))
    paths = (tmp_path / "left.png", tmp_path / "right.png")
    for mask, path in zip(masks, paths, strict=True):
        mask.save(path)
    config = stylize.Config(weights=weights_file("vgg19", "relu2_1"), content_layers=parse_layer_list("relu2_1", "c"),
                            style_layers=parse_layer_list("relu1_1,relu2_1", "s"), size=48, iterations=3,
                            device="cpu")  # fmt: skip
    styles = [images["style"], images["style2"]]
    stylize.stylize_file(images["content"], styles, tmp_path / "files.png", replace(config, style_masks=paths))
    made = stylize.transfer(read_rgb(images["content"]), [read_rgb(p) for p in styles], config,
                            regions=stylize.Regions(style=masks))  # fmt: skip
    plain = stylize.transfer(read_rgb(images["content"]), [read_rgb(p) for p in styles], config)
    from_file = torch.from_numpy(np.asarray(read_rgb(tmp_path / "files.png"), np.float32) / 255).permute(2, 0, 1)
    assert (from_file - made.image[0]).abs().max() <= 1 / 255 + 1e-6, "the file is the masked picture, rounded"
    assert (from_file - plain.image[0]).abs().max() > 2 / 255, "and not the blended one"
