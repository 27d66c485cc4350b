"""The temporal term of a video frame: its error, its place in the objective, and a frame's start."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from PIL import Image

from stylize.config import Config
from stylize.errors import SettingsError
from stylize.io.reading import load_image
from stylize.losses.temporal import Anchor, stack_anchors, temporal_error
from stylize.network.layers import parse_layer_list
from stylize.network.loader import Network, load_network
from stylize.optimize.engine import Result
from stylize.run.pictures import Picture, _from_anchor, transfer_batch


def anchor_like(image: torch.Tensor, confidence: float | torch.Tensor = 1.0) -> Anchor:
    weights = confidence if isinstance(confidence, torch.Tensor) else torch.full_like(image[:, :1], confidence)
    return Anchor(image, weights)


def test_temporal_error_is_the_trusted_mean_square_difference() -> None:
    torch.manual_seed(0)
    image, target = torch.rand(2, 3, 8, 10), torch.rand(2, 3, 8, 10)
    confidence = (torch.rand(2, 1, 8, 10) > 0.5).float()
    expected = ((image - target) ** 2 * confidence).mean(dim=(1, 2, 3))
    torch.testing.assert_close(temporal_error(image, Anchor(target, confidence)), expected)
    assert temporal_error(target, Anchor(target, confidence)).abs().max() == 0
    assert temporal_error(image, anchor_like(target, 0.0)).abs().max() == 0


def test_anchor_rows_resize_and_stack() -> None:
    first, second = anchor_like(torch.zeros(1, 3, 4, 6)), anchor_like(torch.ones(1, 3, 4, 6), 0.5)
    both = stack_anchors([first, None, second])
    assert both is not None and both.image.shape == (3, 3, 4, 6)
    assert both.confidence[1].max() == 0  # a picture without an anchor is pulled nowhere
    picked = both.rows([2])
    assert picked.image.min() == 1 and picked.confidence.max() == 0.5
    assert both.resized(8, 12).image.shape == (3, 3, 8, 12)
    assert stack_anchors([None, None]) is None


def test_a_frame_starts_from_the_anchor_where_trusted_and_from_its_own_start_elsewhere() -> None:
    start, warped = torch.zeros(1, 3, 4, 6), torch.ones(1, 3, 4, 6)
    confidence = torch.zeros(1, 1, 4, 6)
    confidence[..., :3] = 1
    begun = _from_anchor(start, Anchor(warped, confidence))
    assert begun[..., :3].min() == 1 and begun[..., 3:].max() == 0
    assert _from_anchor(start, None) is start


def test_temporal_weight_is_checked_like_the_other_weights() -> None:
    with pytest.raises(SettingsError, match="temporal-weight"):
        Config(temporal_weight=-1)


@pytest.fixture
def tiny(weights_file: Callable[[str, str], Path], images: dict[str, Path]) -> tuple[Network, Image.Image, Image.Image]:
    config = Config(weights=weights_file("vgg19", "relu2_1"), content_layers=parse_layer_list("relu2_1", "c"),
                    style_layers=parse_layer_list("relu1_1,relu2_1", "s"), device="cpu")  # fmt: skip
    net = load_network(config)
    return net, load_image(images["content"]), load_image(images["style"])


def made(tiny: tuple[Network, Image.Image, Image.Image], weight: float, anchor: Anchor | None) -> Result:
    net, content, style = tiny
    config = Config(size=40, iterations=15, scales=1, device="cpu", temporal_weight=weight,
                    content_layers=parse_layer_list("relu2_1", "c"),
                    style_layers=parse_layer_list("relu1_1,relu2_1", "s"))  # fmt: skip
    (outcome,) = transfer_batch([Picture(content, (style,), anchor=anchor)], config, net)
    assert isinstance(outcome, Result)
    return outcome


def test_a_heavy_temporal_weight_keeps_the_picture_at_the_anchor_where_trusted(
    tiny: tuple[Network, Image.Image, Image.Image],
) -> None:
    free = made(tiny, 0.0, None).image  # what the frame becomes on its own
    target = torch.rand(free.shape, generator=torch.Generator().manual_seed(3))  # far from it
    confidence = torch.zeros_like(free[:, :1])
    confidence[..., : free.shape[-1] // 2] = 1  # the left half is trusted
    held = made(tiny, 1e4, Anchor(target, confidence)).image
    half = free.shape[-1] // 2
    assert (held[..., :half] - target[..., :half]).abs().mean() < 0.02
    assert (held[..., half:] - target[..., half:]).abs().mean() > 0.1  # free to be a picture there
    loose = made(tiny, 0.0, Anchor(target, confidence)).image  # only the start is the anchor's
    held_off, loose_off = ((x[..., :half] - target[..., :half]).abs().mean() for x in (held, loose))
    assert loose_off > 2 * held_off


def test_without_an_anchor_the_temporal_weight_changes_nothing(tiny: tuple[Network, Image.Image, Image.Image]) -> None:
    assert torch.equal(made(tiny, 0.0, None).image, made(tiny, 500.0, None).image)


def test_anchor_at_another_size_is_resized_to_the_stage(tiny: tuple[Network, Image.Image, Image.Image]) -> None:
    free = made(tiny, 0.0, None).image
    big = torch.nn.functional.interpolate(free, scale_factor=2, mode="bilinear")
    held = made(tiny, 1e4, anchor_like(big)).image
    assert held.shape == free.shape
    assert (held - free).abs().mean() < 0.03

