"""--preserve-colors: the colour spaces, the colour match and the luminance-only transfer (tiny networks)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from conftest import TINY_LAYERS, Run, pattern_image, read_rgb
from PIL import Image

from stylize.cli import main
from stylize.io.colour import grey_of_lightness, lab_to_srgb, lightness, srgb_to_lab
from stylize.io.metadata import read_metadata
from stylize.io.tensors import to_tensor
from stylize.run.colours import MATCHES, Colours, colour_moments, match_colours


def test_cielab_matches_known_values_and_round_trips() -> None:
    colours = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]).T.reshape(1, 3, 3, 1)
    lab = srgb_to_lab(colours)[0, :, :, 0].T
    expected = torch.tensor([[100.0, 0.0, 0.0], [53.24, 80.09, 67.20], [32.30, 79.19, -107.86]])  # white, red, blue
    assert torch.allclose(lab, expected, atol=0.05)
    image = torch.rand(2, 3, 9, 7)
    assert torch.allclose(lab_to_srgb(srgb_to_lab(image)), image, atol=1e-4)
    assert torch.allclose(lightness(image), srgb_to_lab(image)[:, :1], atol=1e-3)


def test_grey_of_lightness_is_grey_with_that_lightness() -> None:
    levels = torch.linspace(0, 100, 11).view(1, 1, 1, 11)
    grey = grey_of_lightness(levels)
    lab = srgb_to_lab(grey)
    assert torch.allclose(lab[:, :1], levels, atol=1e-3) and lab[:, 1:].abs().max() < 1e-3


@pytest.mark.parametrize("method", sorted(MATCHES))
def test_match_gives_the_style_the_photos_colour_mean_and_covariance(method: str) -> None:
    photo, style = to_tensor(pattern_image(60, 40, 1)), to_tensor(pattern_image(50, 50, 7))
    moved = match_colours(style, photo, method)
    (photo_mean, photo_cov), (moved_mean, moved_cov) = colour_moments(photo), colour_moments(moved)
    _, style_cov = colour_moments(style)
    assert (moved_cov - photo_cov).norm() / photo_cov.norm() < 0.01, method
    assert (moved_mean - photo_mean).abs().max() < 0.01 * photo_mean.abs().max()
    assert (style_cov - photo_cov).norm() / photo_cov.norm() > 0.05, "the test images must differ to begin with"


def test_the_default_match_moves_the_painting_least() -> None:
    photo, style = to_tensor(pattern_image(60, 40, 2)), to_tensor(pattern_image(50, 50, 9))
    moved = {m: float((match_colours(style, photo, m) - style).pow(2).mean()) for m in MATCHES}
    assert min(moved, key=moved.__getitem__) == "monge"  # the optimal-transport map, by construction


def test_luminance_finish_keeps_the_photos_colours_and_the_results_lightness() -> None:
    photo = to_tensor(pattern_image(48, 36, 1)) * 0.6 + 0.2  # away from the gamut's edges
    painted = grey_of_lightness(lightness(to_tensor(pattern_image(48, 36, 5))) * 0.5 + 25)
    finished = Colours("luminance", photo).finish(painted, photo)
    lab, photo_lab = srgb_to_lab(finished), srgb_to_lab(photo)
    assert (lab[:, 1:] - photo_lab[:, 1:]).abs().mean() < 1.0
    assert (lab[:, :1] - lightness(painted)).abs().mean() < 1.0


def test_luminance_mode_works_on_greys_and_styles_take_the_photos_lightness() -> None:
    photo, style = to_tensor(pattern_image(48, 36, 1)), to_tensor(pattern_image(40, 40, 2)) * 0.3
    colours = Colours("luminance", photo)
    working = colours.working(photo)
    assert (working.max(1).values - working.min(1).values).max() < 1e-5, "a grey image"
    looked = colours.style_look(style)
    assert abs(float(lightness(looked).mean() - lightness(photo).mean())) < 1.0
    assert abs(float(lightness(looked).std() - lightness(photo).std())) < 1.0


def test_luminance_run_keeps_the_photos_colours(run: Run, images: dict[str, Path], tmp_path: Path) -> None:
    modes = ("none", "luminance")
    results = {mode: run("--preserve-colors", mode, "--save-every", "2", out=f"{mode}.png") for mode in modes}
    assert all(r.exit_code == 0 for r in results.values()), results["luminance"].output
    photo = read_rgb(images["content"]).resize((40, 30))

    def colour_error(name: str) -> float:
        made = to_tensor(read_rgb(tmp_path / name))
        return float((srgb_to_lab(made)[:, 1:] - srgb_to_lab(to_tensor(photo))[:, 1:]).abs().mean())

    assert colour_error("luminance.png") < 2.0 < colour_error("none.png")
    assert colour_error("luminance.0002.png") < 2.0, "snapshots show the picture in the photo's colours too"
    assert read_metadata(tmp_path / "luminance.png")["config"]["preserve_colors"] == "luminance"


def test_match_and_several_styles_and_batches(run: Run, tmp_path: Path) -> None:
    one = run("--preserve-colors", "match", out="one.png")
    two = run("--preserve-colors", "match", styles=("style", "style2"), out="two.png")
    plain = run(out="plain.png")
    assert one.exit_code == two.exit_code == plain.exit_code == 0, one.output
    assert read_rgb(tmp_path / "one.png").tobytes() != read_rgb(tmp_path / "plain.png").tobytes()


def test_unknown_mode_is_a_usage_error(run: Run) -> None:
    result = run("--preserve-colors", "sepia")
    assert result.exit_code == 2 and "--preserve-colors" in result.output


def read_image(path: Path) -> Image.Image:
    with Image.open(path) as image:
        image.load()
        return image


def _ab_error(made: Image.Image, photo: Image.Image) -> float:
    """Mean |delta a*, b*| of a result against a photo as stylize sees it (transparency on white)."""
    on_white = Image.alpha_composite(Image.new("RGBA", photo.size, "white"), photo.convert("RGBA")).convert("RGB")
    expected = to_tensor(on_white.resize(made.size, Image.Resampling.BOX))
    return float((srgb_to_lab(to_tensor(made.convert("RGB")))[:, 1:] - srgb_to_lab(expected)[:, 1:]).abs().mean())


@pytest.mark.parametrize("extension", [".png", ".jpg", ".webp", ".tif"])
def test_luminance_in_a_batch_coarse_to_fine_keeps_each_photos_colours_and_alpha(
    weights_file: Callable[[str, str], Path], images: dict[str, Path], tmp_path: Path, extension: str
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    pattern_image(64, 48, 11).save(photos / "a.png")
    with_alpha = pattern_image(64, 48, 12).convert("RGBA")
    with_alpha.putalpha(Image.linear_gradient("L").resize((64, 48)))
    with_alpha.save(photos / "b.png")
    out = tmp_path / "out"
    args = [str(photos), "-s", str(images["style"]), "-o", f"{out}/", "--name", "{content}" + extension,
            "--preserve-colors", "luminance", "--batch-size", "2", "--size", "64", "--scales", "2",
            "--iterations", "3", "--weights", str(weights_file("vgg19", "relu2_1")), *TINY_LAYERS, "--device", "cpu"]
    result = CliRunner().invoke(main, args)  # fmt: skip
    assert result.exit_code == 0, result.output
    tolerance = 3.0 if extension in (".jpg", ".webp") else 2.0  # lossy formats shift colours a little
    for name in ("a", "b"):
        made, photo, neighbour = (read_image(p) for p in (out / f"{name}{extension}", photos / f"{name}.png",
                                                           photos / f"{'ba'[name == 'b']}.png"))  # fmt: skip
        assert made.size == (64, 48)
        own, other = _ab_error(made, photo), _ab_error(made, neighbour)
        assert own < tolerance < other, (name, own, other)  # its own photo's colours, not its neighbour's
        if name == "b" and extension in (".png", ".webp", ".tif"):
            assert made.mode == "RGBA" and made.getchannel("A").tobytes() == photo.getchannel("A").tobytes()
