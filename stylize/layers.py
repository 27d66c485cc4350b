"""VGG layer names and layer choices: pure data, no torch.

Names follow the paper's convention (`conv3_1`, `relu4_2`, `pool2`, and `bn1_1` for the
batch-norm variant), derived in one pass over the architecture so that index and name can
never disagree.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from .errors import SettingsError

# Output channels per conv, "M" for a 2x2 max-pool (torchvision's `cfgs` "D" and "E").
ARCHITECTURES: dict[str, list[int | str]] = {
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
              512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}  # fmt: skip

MODELS = ("vgg19", "vgg16", "vgg16-bn")


@dataclass(frozen=True)
class LayerWeight:
    """One hooked layer and its relative weight inside its loss term."""

    name: str
    weight: float = 1.0


@dataclass(frozen=True)
class LayerChoice:
    """Which layers feed the content and the style losses."""

    content: tuple[LayerWeight, ...]
    style: tuple[LayerWeight, ...]


def architecture(model: str) -> tuple[list[int | str], bool]:
    """(conv/pool plan, uses batch norm) for a model name."""
    check_model(model)
    return ARCHITECTURES[model.removesuffix("-bn")], model.endswith("-bn")


def check_model(model: str) -> None:
    if model not in MODELS:
        raise SettingsError(
            f"unknown model {model!r}{_did_you_mean(model, MODELS)}", hint=f"choose one of: {', '.join(MODELS)}"
        )


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
    """The last ReLU of each block, i.e. the one right before each max-pool (the lesson's hooks)."""
    names = layer_names(model)
    return [names[i - 1] for i, n in enumerate(names) if n.startswith("pool")]


def preset(name: str, model: str) -> LayerChoice:
    """The named layer choice for a model: `paper` (Gatys et al.) or `lesson` (block ends)."""
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
                f"unknown layer {layer.name!r} for model {model}{_did_you_mean(layer.name, known)}",
                hint=listing,
            )


def _did_you_mean(word: str, options: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else ""
