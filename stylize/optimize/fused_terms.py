"""The objective's default terms in their fused form (`losses.fused`), prepared for some rows of targets.

They apply where the style statistic is the Gram matrix and neither regions nor content weights
guide the terms (the defaults); anything else takes the objective's general path.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..losses.fused import Prepared, content_error, gram_error, prepare_content, prepare_gram
from ..losses.moments import GramStatistic
from ..losses.statistics import StyleStatistic
from ..network.layers import LayerChoice
from .targets import Targets


@dataclass(frozen=True)
class FusedTerms:
    content: list[tuple[str, Prepared]]  # (layer, its prepared content target), in the choice's order
    style: list[tuple[str, Prepared]]  # (layer, its prepared Gram target)

    @staticmethod
    def of(choice: LayerChoice, targets: Targets, statistic: StyleStatistic) -> FusedTerms | None:
        """The terms for `targets`, or None where the fused form does not apply."""
        guide = targets.guidance
        if type(statistic) is not GramStatistic or (guide is not None and (guide.style_masks is not None or
                                                                          guide.content_weights is not None)):
            return None  # fmt: skip
        content_total = sum(lw.weight for lw in choice.content) or 1.0
        style_total = sum(lw.weight for lw in choice.style) or 1.0
        return FusedTerms([(lw.name, prepare_content(targets.content[lw.name], lw.weight / content_total))
                           for lw in choice.content],
                          [(lw.name, prepare_gram(targets.style[lw.name]["gram"], lw.weight / style_total))
                           for lw in choice.style])  # fmt: skip

    def errors(self, features: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """(content, style) errors (k,) of the images whose `features` these are."""
        content = [content_error(features[name], prepared) for name, prepared in self.content]
        style = [gram_error(features[name], prepared) for name, prepared in self.style]
        return _summed(content, features), _summed(style, features)


def _summed(errors: list[torch.Tensor], features: dict[str, torch.Tensor]) -> torch.Tensor:
    """Per-layer errors (k,) -> their sum (k,) (zeros without layers)."""
    if not errors:
        return torch.zeros(len(next(iter(features.values()))), device=next(iter(features.values())).device)
    return errors[0] if len(errors) == 1 else torch.stack(errors).sum(0)
