from __future__ import annotations

import pytest

from stylize.config import LayerWeight
from stylize.errors import SettingsError
from stylize.network.layers import LayerChoice, block_ends, layer_names, parse_layer_list, preset, validate


def test_vgg19_names_follow_the_paper() -> None:
    names = layer_names("vgg19")
    assert names[:5] == ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1"]
    assert len(names) == 37  # 16 convs, 16 relus, 5 pools
    assert names.index("relu4_2") == 22
    assert names[-1] == "pool5"


def test_vgg16_bn_has_batch_norm_names_in_torchvision_order() -> None:
    names = layer_names("vgg16-bn")
    assert names[:4] == ["conv1_1", "bn1_1", "relu1_1", "conv1_2"]
    assert len(names) == 13 * 3 + 5


def test_block_ends_are_the_relus_before_each_pool() -> None:
    assert block_ends("vgg19") == ["relu1_2", "relu2_2", "relu3_4", "relu4_4", "relu5_4"]
    assert block_ends("vgg16") == ["relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3"]


def test_presets() -> None:
    paper = preset("paper", "vgg19")
    assert [lw.name for lw in paper.style] == ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
    assert [lw.name for lw in paper.content] == ["relu4_2"]
    lesson = preset("lesson", "vgg16")
    assert [lw.name for lw in lesson.content] == ["relu4_3"]
    with pytest.raises(SettingsError):
        preset("fancy", "vgg19")


def test_parse_layer_list_with_weights() -> None:
    assert parse_layer_list("relu1_2:0.5, relu2_2", "--style-layers") == (
        LayerWeight("relu1_2", 0.5),
        LayerWeight("relu2_2", 1.0),
    )


@pytest.mark.parametrize("text", ["relu1_1:abc", "relu1_1:-1", "", " , ", "relu1_1:inf"])
def test_parse_layer_list_rejects_bad_input(text: str) -> None:
    with pytest.raises(SettingsError):
        parse_layer_list(text, "--style-layers")


def test_validate_suggests_the_closest_name() -> None:
    choice = LayerChoice((LayerWeight("relu4_2"),), (LayerWeight("rleu3_1"),))
    with pytest.raises(SettingsError, match="did you mean 'relu3_1'") as caught:
        validate(choice, "vgg19")
    assert caught.value.exit_code == 2


def test_validate_rejects_a_layer_the_model_lacks() -> None:
    with pytest.raises(SettingsError, match="relu3_4"):
        validate(LayerChoice((LayerWeight("relu3_4"),), ()), "vgg16")
