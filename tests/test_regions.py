"""--style-mask, --style-source-mask, --content-mask: guided Gram matrices, weighted content, and
every bad mask a user can give (tiny networks)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from conftest import TINY_LAYERS, Run, photo_folder
from PIL import Image

from stylize.cli import main
from stylize.config import LayerWeight
from stylize.io.metadata import read_metadata
from stylize.losses.core import (
    content_loss,
    gram,
    guided_gram,
    guided_style_loss,
    style_loss,
    weighted_content_loss,
)
from stylize.losses.guidance import Guidance
from stylize.run.regions import mask_tensor, read_mask

LAYERS = (LayerWeight("a"), LayerWeight("b", 0.5))


def half_masks(folder: Path, width: int = 48, height: int = 36) -> tuple[Path, Path]:
    left = np.zeros((height, width), np.uint8)
    left[:, : width // 2] = 255
    paths = folder / "left.png", folder / "right.png"
    Image.fromarray(left).save(paths[0])
    Image.fromarray(255 - left).save(paths[1])
    return paths



def test_guided_gram_of_a_full_mask_is_the_gram_and_of_a_part_is_that_parts_gram() -> None:
    features = torch.randn(2, 5, 6, 8)
    assert torch.allclose(guided_gram(features, torch.ones(1, 1, 6, 8))[:, 0], gram(features), atol=1e-6)
    mask = torch.zeros(1, 2, 6, 8)
    mask[:, 0, :, :3], mask[:, 1, :, 3:] = 1, 1
    grams = guided_gram(features, mask)
    assert torch.allclose(grams[:, 0], gram(features[..., :3].contiguous()), atol=1e-6)
    assert torch.allclose(grams[:, 1], gram(features[..., 3:].contiguous()), atol=1e-6)


def test_guided_gram_is_the_weighted_sum_for_soft_partial_and_per_image_masks() -> None:
    features = torch.randn(2, 5, 6, 8)
    masks = torch.rand(2, 3, 6, 8)  # per image: soft everywhere, ...
    masks[:, 1, :, :5] = 0  # ... soft over a part, ...
    masks[1, 2] = 0
    masks[1, 2, 0, 0] = 1  # ... and one position
    flat = features.reshape(2, 1, 5, 48)
    weights = masks.reshape(2, 3, 1, 48)
    dense = torch.matmul(flat * weights, flat.transpose(-1, -2)) / (5 * weights.sum(-1, keepdim=True))
    assert torch.allclose(guided_gram(features, masks), dense, atol=1e-6)
    assert torch.allclose(guided_gram(features, masks[:1]), guided_gram(features, masks[:1].expand(2, -1, -1, -1)))


def test_guided_losses_reduce_to_the_plain_ones_without_regions() -> None:
    features = {"a": torch.randn(2, 4, 8, 8), "b": torch.randn(2, 6, 4, 4)}
    targets = {"a": torch.randn(1, 4, 8, 8).expand(2, -1, -1, -1), "b": torch.randn(2, 6, 4, 4)}
    grams = {k: gram(torch.randn(1, *v.shape[1:])) for k, v in features.items()}
    whole = {k: torch.ones(1, 1, *v.shape[-2:]) for k, v in features.items()}
    guided = guided_style_loss(features, {k: g[:, None] for k, g in grams.items()}, LAYERS, whole, torch.ones(1, 1))
    assert torch.allclose(guided, style_loss(features, grams, LAYERS), rtol=1e-5)
    plain = content_loss(features, targets, LAYERS)
    assert torch.allclose(weighted_content_loss(features, targets, LAYERS, whole), plain)
    doubled = {k: 2 * w for k, w in whole.items()}
    assert torch.allclose(weighted_content_loss(features, targets, LAYERS, doubled), 2 * plain)


def test_region_errors_add_up_by_area() -> None:
    features = {"a": torch.randn(1, 3, 4, 6)}
    mask = torch.zeros(1, 2, 4, 6)
    mask[:, 0, :, :2], mask[:, 1, :, 2:] = 1, 1  # a third and two thirds
    guide = Guidance(style_masks=mask)
    targets = {"a": torch.stack([gram(torch.randn(1, 3, 4, 6)), gram(torch.randn(1, 3, 4, 6))], 1)}
    total = guided_style_loss(features, targets, (LayerWeight("a"),), {"a": guide.at("style", features["a"])},
                              guide.shares)  # fmt: skip
    grams = guided_gram(features["a"], mask)
    parts = [float((grams[0, r] - targets["a"][0, r]).pow(2).mean() / targets["a"][0, r].pow(2).mean()) for r in (0, 1)]
    assert torch.allclose(guide.shares, torch.tensor([[1 / 3, 2 / 3]]))
    assert float(total) == pytest.approx(parts[0] / 3 + 2 * parts[1] / 3, rel=1e-4)


def test_masks_are_brought_to_each_layer_by_area() -> None:
    guide = Guidance(style_masks=torch.tensor([[[[1.0, 0.0, 1.0, 1.0]] * 2]]))  # (1, 1, 2, 4)
    assert guide.at("style", torch.zeros(1, 8, 1, 2)).flatten().tolist() == [0.5, 1.0]


@pytest.mark.parametrize("mode", ["1", "L", "RGB", "RGBA", "LA", "P"])
def test_a_mask_is_its_alpha_when_transparent_else_its_lightness(mode: str, tmp_path: Path) -> None:
    values = np.zeros((4, 6), np.uint8)
    values[:, :3] = 255
    path = tmp_path / f"mask-{mode}.png"
    if mode in ("RGBA", "LA"):  # white paint everywhere; the alpha says where
        paint = np.dstack([np.full((4, 6), 255, np.uint8)] * (3 if mode == "RGBA" else 1) + [values])
        Image.fromarray(paint, mode).save(path)
    else:
        Image.fromarray(values).convert(mode).save(path)
    mask = mask_tensor(read_mask(path, "--style-mask", 0), 4, 6)
    assert mask[..., :3].min() > 0.99 and mask[..., 3:].max() < 0.01, mode
    if mode not in ("RGBA", "LA"):  # the Python API takes an image in any mode as it is: its lightness
        with Image.open(path) as given:
            assert torch.equal(mask_tensor(given, 4, 6), mask), mode


def test_two_styles_in_two_regions(run: Run, tmp_path: Path) -> None:
    left, right = half_masks(tmp_path)
    masked = run("--style-mask", str(left), "--style-mask", str(right), styles=("style", "style2"), out="m.png")
    blended = run(styles=("style", "style2"), out="b.png")
    assert masked.exit_code == blended.exit_code == 0, masked.output
    assert "name the style with -s" not in masked.output  # several styles on purpose: no note
    assert np.asarray(Image.open(tmp_path / "m.png")).tolist() != np.asarray(Image.open(tmp_path / "b.png")).tolist()
    config = read_metadata(tmp_path / "m.png")["config"]
    assert config["style_masks"] == ["left.png", "right.png"]  # names, as --metadata names shows every path


def test_content_and_source_masks_run_and_are_recorded(run: Run, tmp_path: Path) -> None:
    left, right = half_masks(tmp_path)
    result = run("--content-mask", str(left), "--style-source-mask", str(right), "--preserve-colors", "match")
    assert result.exit_code == 0, result.output
    config = read_metadata(tmp_path / "out.png")["config"]
    assert config["content_mask"] == "left.png" and config["style_source_masks"] == ["right.png"]


def test_a_mask_of_another_shape_is_stretched_with_a_warning(run: Run, tmp_path: Path) -> None:
    square = tmp_path / "square.png"
    Image.fromarray(np.full((30, 30), 255, np.uint8)).save(square)
    result = run("--style-mask", str(square))
    assert result.exit_code == 0 and "square.png: 30x30 stretched" in result.output
    near, _ = half_masks(tmp_path, 48, 36)  # the photo's own shape: no warning
    assert "stretched" not in run("--style-mask", str(near)).output


def test_masks_in_a_folder_run(weights_file: Callable[[str, str], Path], images: dict[str, Path],
                               tmp_path: Path) -> None:  # fmt: skip
    photos = photo_folder(tmp_path / "photos", 3, seed=4)
    left, right = half_masks(tmp_path, 64, 48)
    args = [str(photos), "-s", str(images["style"]), "-s", str(images["style2"]), "-o", str(tmp_path / "out") + "/",
            "--each-style", "--style-mask", str(left), "--style-mask", str(right), "--content-mask", str(left),
            "--weights", str(weights_file("vgg19", "relu2_1")), *TINY_LAYERS, "--size", "40", "--iterations", "2",
            "--device", "cpu"]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "out").glob("*.png"))) == 6


def test_a_mask_per_photo_by_name_and_a_missing_one_fails_that_photo_alone(
    weights_file: Callable[[str, str], Path], images: dict[str, Path], tmp_path: Path
) -> None:
    photos = photo_folder(tmp_path / "photos", 3, seed=5)
    (tmp_path / "masks").mkdir()
    left, right = half_masks(tmp_path, 64, 48)
    (tmp_path / "masks" / "p0_sky.png").write_bytes(left.read_bytes())
    (tmp_path / "masks" / "p2_sky.png").write_bytes(right.read_bytes())  # p1 has none
    out = tmp_path / "out"
    template = str(tmp_path / "masks" / "{content}_sky.png")
    args = [str(photos), str(images["style"]), "-o", f"{out}/", "--style-mask", template,
            "--weights", str(weights_file("vgg19", "relu2_1")), *TINY_LAYERS, "--size", "40", "--iterations", "3",
            "--device", "cpu"]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert sorted(p.name for p in out.glob("*.png")) == ["p0_style.png", "p2_style.png"]
    assert f"--style-mask {tmp_path / 'masks' / 'p1_sky.png'}: no such file" in result.output
    assert "Traceback" not in result.output
    made = {p: np.asarray(Image.open(out / f"{p}_style.png").convert("L"), np.float32) for p in ("p0", "p2")}
    photo = {p: np.asarray(Image.open(photos / f"{p}.png").convert("L").resize((40, 30)), np.float32)
             for p in ("p0", "p2")}  # fmt: skip
    change = {p: np.abs(made[p] - photo[p]) for p in made}  # the style moves its own half more
    assert change["p0"][:, :20].mean() > change["p0"][:, 20:].mean()
    assert change["p2"][:, 20:].mean() > change["p2"][:, :20].mean()
    assert read_metadata(out / "p0_style.png")["config"]["style_masks"] == ["{content}_sky.png"]
    (out / "p0_style.png").unlink()
    planned = CliRunner().invoke(main, [*args, "--dry-run"])
    assert planned.exit_code == 0, planned.output
    actions = {line.split("\t")[1]: line.split("\t")[0] for line in planned.stdout.splitlines()}
    assert actions == {str(photos / "p0.png"): "make", str(photos / "p1.png"): "fail", str(photos / "p2.png"): "skip"}
    assert "p1_sky.png: no such file" in planned.stdout


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--style-mask", "{left}", "--style-mask", "{right}"], "--style-mask given 2 times for 1 style images"),
        (["--style-source-mask", "{left}", "--style-source-mask", "{right}"], "--style-source-mask given 2 times"),
        (["--style-mask", "{missing}"], "--style-mask {missing}: no such file"),
        (["--content-mask", "{broken}"], "--content-mask {broken}: not an image"),
        (["--style-mask", "{black}"], "--style-mask {black}: the mask is black everywhere"),
        (["--style-mask", "{left}", "--style-blend", "1"], "--style-blend mixes styles"),
        (["--style-mask", "masks/{{photo}}.png"], "--style-mask masks/{{photo}}.png: unknown field {{photo}}"),
        (["--style-source-mask", "m/{{content}}.png"], "--style-source-mask m/{{content}}.png: unknown field"),
    ],
)
def test_bad_masks_are_usage_errors_naming_the_flag_and_file(run: Run, tmp_path: Path, flags: list[str],
                                                             message: str) -> None:  # fmt: skip
    left, right = half_masks(tmp_path)
    black, broken = tmp_path / "black.png", tmp_path / "broken.png"
    Image.fromarray(np.zeros((36, 48), np.uint8)).save(black)
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    names = {"left": left, "right": right, "missing": tmp_path / "nosuch.png", "black": black, "broken": broken}
    result = run(*[f.format(**names) for f in flags])
    assert result.exit_code == 2, result.output
    assert message.format(**names) in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out.png").exists()
