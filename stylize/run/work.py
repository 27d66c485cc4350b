"""What a stage of a run optimises: its targets, its objective, and how it is evaluated (whole or in tiles)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import torch

from ..config import Config
from ..losses.style_losses import style_statistic
from ..losses.temporal import Anchor, stack_anchors
from ..network.layers import layer_stride
from ..network.loader import Network
from ..network.memory import MARGIN
from ..optimize.objective import LossWeights, Objective
from ..optimize.targets import Targets, content_features, stack_targets
from ..optimize.tiles.tile_grid import Tiling
from ..optimize.tiles.tiling import TiledEvaluation, TileStep
from .colours import Colours
from .regions import Regions, guidance
from .stages import memory_plan
from .styles import StyleBank

if TYPE_CHECKING:
    from .pictures import Picture


def stage_work(
    net: Network, config: Config, dtype: torch.dtype, bank: StyleBank, budget: int, long_side: int, at: TileStep,
    on_tile: Callable[[TileStep], None] | None, inputs: list[tuple[Picture, Colours, torch.Tensor]],
) -> tuple[Objective, TiledEvaluation | None, int]:  # fmt: skip
    """What a stage optimises: its objective; how it fits in memory (network/memory.py): whole (None) or
    in tiles (their evaluation, telling `on_tile` of each tile as TileSteps like `at`); the L-BFGS history."""
    plan = memory_plan(config, at.size, len(inputs), budget)
    tiling = None
    if plan.tile is not None:  # each tile seen with MARGIN px of context
        tiling = Tiling(plan.tile, MARGIN, {name: layer_stride(config.model, name) for name in net.extractor.layers})
    style_px = round((config.style_size or config.size) * long_side / config.size)
    parts = [stage_targets(net, config, dtype, picture, colours, photo, bank, style_px, tiling)
             for picture, colours, photo in inputs]  # fmt: skip
    anchors = [stage_anchor(picture, colours, photo) for picture, colours, photo in inputs]
    objective = stage_objective(net, config, dtype, parts, stack_anchors(anchors))
    if tiling is None:
        return objective, None, plan.history
    tell = None if on_tile is None else lambda done, tiles: on_tile(replace(at, tile=done, tiles=tiles))
    working = [colours.working(photo) for _, colours, photo in inputs]
    return objective, TiledEvaluation(objective, working, tiling, tell), plan.history


def stage_targets(
    net: Network, config: Config, dtype: torch.dtype, picture: Picture, colours: Colours, photo: torch.Tensor,
    bank: StyleBank, style_px: int, tiling: Tiling | None = None,
) -> Targets:  # fmt: skip
    """One picture's targets at a stage: the photo's activations (as its colour plan has it; none in
    tiles, where each tile has its own), its styles' targets (whole, or per region; a tile at a time
    with `tiling`) and its guidance (the masks at this size)."""
    regions = picture.regions or Regions()
    look = colours.style_look if colours.mode != "none" else None
    style = bank.targets(picture.styles, style_px, look, regions.sources, bool(regions.style), tiling)
    height, width = photo.shape[-2:]
    whole = tiling is None
    content = content_features(net.extractor, net.choice, colours.working(photo), dtype) if whole else {}
    return Targets(content, style, guidance(picture.regions, height, width, photo.device))


def stage_anchor(picture: Picture, colours: Colours, photo: torch.Tensor) -> Anchor | None:
    """A video frame's anchor at this stage's size, on the photo's device, as its colour plan works."""
    if picture.anchor is None:
        return None
    height, width = photo.shape[-2:]
    anchor = picture.anchor.resized(height, width).to(photo.device)
    return Anchor(colours.working(anchor.image), anchor.confidence)


def stage_objective(net: Network, config: Config, dtype: torch.dtype, parts: list[Targets],
                    anchor: Anchor | None = None) -> Objective:  # fmt: skip
    """The objective of one stage: row i has picture i's targets (and its row of `anchor`, for video)."""
    weights = LossWeights(config.content_weight, config.style_weight, config.tv_weight, config.range_weight,
                          config.temporal_weight)  # fmt: skip
    statistic = style_statistic(config.style_loss, config.seed)
    return Objective(net.extractor, net.choice, stack_targets(parts), weights, dtype, statistic, anchor)
