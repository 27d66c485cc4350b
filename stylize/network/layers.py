"""VGG layer names, the layer presets and choices, and the least image side they take: no torch.

Names follow the paper's convention (`conv3_1`, `relu4_2`, `pool2`, and `bn1_1` for the
batch-norm variant), derived in one pass over the architecture so that index and name can
never disagree.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ..config import Config, LayerWeight, check_model
from ..errors import SettingsError, did_you_mean

# Output channels per conv, "M" for a 2x2 max-pool (torchvision's `cfgs` "D" and "E").
ARCHITECTURES: dict[str, list[int | str]] = {
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
              512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}  # fmt: skip

@dataclass(frozen=True)
class LayerChoice:
    """Which layers feed the content and the style losses."""

    content: tuple[LayerWeight, ...]
    style: tuple[LayerWeight, ...]


def architecture(model: str) -> tuple[list[int | str], bool]:
    """(conv/pool plan, uses batch norm) for a model name."""
    check_model(model)
    return ARCHITECTURES[model.removesuffix("-bn")], model.endswith("-bn")


def layer_names(model: str) -> list[str]:
    """Module names in forward order, one per module of the feature network."""
    plan, batch_norm = architecture(model)
    names: list[str] = []
    block, conv = 1, 1
    for item in plan:
        if item == "M":
            names.append(f"pool{block}")
            block, conv = block + 1, 1
            continue
        names.append(f"conv{block}_{conv}")
        if batch_norm:
            names.append(f"bn{block}_{conv}")
        names.append(f"relu{block}_{conv}")
        conv += 1
    return names


def block_ends(model: str) -> list[str]:
    """The last ReLU of each block, i.e. the one right before each max-pool (the fast.ai lesson's hooks)."""
    names = layer_names(model)
    return [names[i - 1] for i, n in enumerate(names) if n.startswith("pool")]


def preset(name: str, model: str) -> LayerChoice:
    """The named layer choice for a model: `paper` (Gatys et al.) or `lesson` (the fast.ai lesson's block ends)."""
    if name == "paper":
        style = [f"relu{b}_1" for b in range(1, 6)]
        return LayerChoice(content=(LayerWeight("relu4_2"),), style=tuple(LayerWeight(n) for n in style))
    if name == "lesson":
        ends = block_ends(model)
        return LayerChoice(content=(LayerWeight(ends[3]),), style=tuple(LayerWeight(n) for n in ends))
    raise SettingsError(f"unknown layer preset {name!r}", hint="choose 'paper' or 'lesson'")


def parse_layer_list(text: str, option: str) -> tuple[LayerWeight, ...]:
    """`relu1_2:0.5,relu2_2` -> (LayerWeight('relu1_2', 0.5), LayerWeight('relu2_2', 1.0))."""
    items: list[LayerWeight] = []
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            continue
        name, _, weight_text = part.partition(":")
        weight = 1.0
        if weight_text:
            try:
                weight = float(weight_text)
            except ValueError:
                raise SettingsError(
                    f"{option}: weight {weight_text!r} of layer {name!r} is not a number",
                    hint="write NAME or NAME:WEIGHT, e.g. relu1_1:0.5",
                ) from None
            if not weight >= 0 or weight == float("inf"):
                raise SettingsError(f"{option}: weight of layer {name!r} must be a finite number >= 0")
        items.append(LayerWeight(name.strip(), weight))
    if not items:
        raise SettingsError(f"{option}: no layers given", hint="e.g. relu1_1,relu2_1")
    return tuple(items)


def validate(choice: LayerChoice, model: str) -> None:
    """Every named layer exists in the model; otherwise a usage error with a suggestion."""
    known = layer_names(model)
    for layer in (*choice.content, *choice.style):
        if layer.name not in known:
            listing = f"`stylize --list-layers --model {model}` lists all names"
            raise SettingsError(
                f"unknown layer {layer.name!r} for model {model}{did_you_mean(layer.name, known)}",
                hint=listing,
            )



def layer_choice(config: Config) -> LayerChoice:
    """The preset, with `content_layers` / `style_layers` overriding it, validated."""
    base = preset(config.layers, config.model)
    choice = LayerChoice(config.content_layers or base.content, config.style_layers or base.style)
    validate(choice, config.model)
    return choice


def layer_stride(model: str, name: str) -> int:
    """Pixels of the input per position of layer `name` along each side: 2 per max-pool before it."""
    names = layer_names(model)
    return int(2 ** sum(n.startswith("pool") for n in names[: names.index(name)]))


@functools.lru_cache(maxsize=8)  # asked for every photo of a batch run; the answer depends on the layers only
def min_side(config: Config) -> int:
    """The shortest side the network takes: one pixel left after the max-pools before its deepest layer."""
    choice = layer_choice(config)
    names = layer_names(config.model)
    deepest = max(names.index(lw.name) for lw in (*choice.content, *choice.style))
    return int(2 ** sum(name.startswith("pool") for name in names[:deepest]))
