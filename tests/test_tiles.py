"""Big pictures: the tile grid, the tiled evaluation against the untiled one, the memory plan, the flags
(tiny random networks; the real-weights figures are benchmarks/tiles.py's)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from conftest import Run, pattern_image, read_rgb
from PIL import Image

from stylize.cli.settings import memory_size
from stylize.config import Config
from stylize.errors import ResourceError, SettingsError
from stylize.io.metadata import read_metadata
from stylize.io.tensors import to_tensor
from stylize.losses.guidance import Guidance
from stylize.losses.statistics import StyleStatistic
from stylize.losses.style_losses import style_statistic
from stylize.network import memory
from stylize.network.layers import layer_stride, parse_layer_list
from stylize.network.loader import Network, load_network
from stylize.optimize.evaluation import evaluate_together, read
from stylize.optimize.objective import LossWeights, Objective
from stylize.optimize.optimizers.protocol import Evaluation
from stylize.optimize.targets import Targets, content_features, style_targets
from stylize.optimize.tiles.tile_grid import Tiling, tile_grid
from stylize.optimize.tiles.tiling import TiledEvaluation
from stylize.run.pictures import transfer
from stylize.run.provenance import HOW_NOT_WHAT


@pytest.mark.parametrize(
    ("height", "width", "tile", "align"),
    [(96, 96, 48, 2), (100, 130, 48, 16), (37, 200, 64, 16), (64, 64, 64, 16), (33, 50, 16, 16)],
)
def test_tiles_cover_the_picture_exactly_once_on_aligned_boundaries(height: int, width: int, tile: int,
                                                                    align: int) -> None:  # fmt: skip
    tiles = tile_grid(height, width, tile, 64, align)
    covered = torch.zeros(height, width, dtype=torch.int64)
    for t in tiles:
        top, bottom, left, right = t.core
        covered[top:bottom, left:right] += 1
        c_top, c_bottom, c_left, c_right = t.crop
        assert 0 <= c_top <= top < bottom <= c_bottom <= height and 0 <= c_left <= left < right <= c_right <= width
        assert c_top == max(0, top - 64) and c_right == min(width, right + 64)  # the margin, clipped at the edges
        for edge, end in ((top, 0), (bottom, height), (left, 0), (right, width)):
            assert edge == end or edge % align == 0  # feature cells of a tile are the picture's
        assert bottom - top >= min(align, height) and right - left >= min(align, width)
    assert bool((covered == 1).all())
    assert sum(t.area for t in tiles) == height * width


def _network(
    weights_file: Callable[[str, str], Path], deepest: str = "relu3_1", **changes: object
) -> tuple[Network, Config]:
    config = Config(weights=weights_file("vgg19", deepest), content_layers=parse_layer_list("relu2_1", "c"),
                    style_layers=parse_layer_list(f"relu1_1,relu2_1,{deepest}", "s"), device="cpu",
                    precision="fp32", **changes)  # type: ignore[arg-type]  # fmt: skip
    return load_network(config), config


def _objectives(net: Network, photo: torch.Tensor, style: torch.Tensor, weights: LossWeights,
                statistic: StyleStatistic | None = None) -> tuple[Objective, Objective]:  # fmt: skip
    """(untiled, tiled) objectives of one photo: the same global style targets, content only in the first."""
    styles = style_targets(net.extractor, net.choice, [style], statistic=statistic)
    whole = Targets(content_features(net.extractor, net.choice, photo), styles)
    return (Objective(net.extractor, net.choice, whole, weights, statistic=statistic),
            Objective(net.extractor, net.choice, Targets({}, styles), weights, statistic=statistic))  # fmt: skip


def _tiled(net: Network, objective: Objective, photo: torch.Tensor, tile: int, margin: int = 64) -> TiledEvaluation:
    """The tiled evaluation of photos (N, 3, H, W), one per row."""
    return TiledEvaluation(objective, list(photo[None] if photo.dim() == 3 else photo), _tiling(net, tile, margin))


def _tiling(net: Network, tile: int, margin: int = 64) -> Tiling:
    return Tiling(tile, margin, {name: layer_stride("vgg19", name) for name in net.extractor.layers})


def test_content_in_tiles_is_the_untiled_content_error_and_gradient(weights_file: Callable[[str, str], Path]) -> None:
    net, _ = _network(weights_file)
    photo, style = to_tensor(pattern_image(96, 80, 1)), to_tensor(pattern_image(64, 64, 2))
    image = (photo + 0.2 * torch.randn_like(photo)).clamp(0, 1)
    untiled, tiled = _objectives(net, photo, style, LossWeights(1.0, 0.0, 0.5, 10.0))
    (whole,) = read(evaluate_together(untiled, image, [0]))
    evaluation = _tiled(net, tiled, photo, 32)
    assert len(evaluation.tiles) == 9
    (parts,) = read(evaluation(tiled, image, [0]))
    assert isinstance(whole, Evaluation) and isinstance(parts, Evaluation)
    assert parts.terms[1] == pytest.approx(whole.terms[1], rel=1e-5)  # content, relative to the whole photo
    assert parts.terms[3] == pytest.approx(whole.terms[3], rel=1e-5)  # total variation, on the whole image
    assert parts.loss == pytest.approx(whole.loss, rel=1e-5)
    torch.testing.assert_close(parts.grad, whole.grad, rtol=1e-3, atol=1e-4 * whole.grad.abs().max().item())
    # without context the tiles' borders see zero padding, and the gradient is no longer the picture's
    (blind,) = read(_tiled(net, tiled, photo, 32, margin=0)(tiled, image, [0]))
    assert isinstance(blind, Evaluation)
    assert (blind.grad - whole.grad).abs().max() > 0.05 * whole.grad.abs().max()


@pytest.mark.parametrize("loss", ["gram", "diagonal", "wasserstein"])
@pytest.mark.parametrize("regions", [False, True])
def test_style_in_tiles_is_the_whole_pictures_statistic_against_the_global_target(
    weights_file: Callable[[str, str], Path], loss: str, regions: bool
) -> None:
    """Moment statistics add up over tiles: the same style error and gradient as untiled, regions too."""
    net, _ = _network(weights_file)
    statistic = style_statistic(loss, 0)
    photo = to_tensor(pattern_image(96, 64, 3))
    styles = [to_tensor(pattern_image(64, 64, 4)), to_tensor(pattern_image(48, 64, 5))]
    guide = None
    if regions:  # a soft left-to-right ramp between the two styles
        ramp = torch.linspace(0, 1, 96).expand(1, 1, 64, 96)
        guide = Guidance(style_masks=torch.cat([1 - ramp, ramp], 1))
    found = style_targets(net.extractor, net.choice, styles if regions else styles[:1], statistic=statistic,
                          regions=regions)  # fmt: skip
    weights = LossWeights(0.0, 1.0)
    untiled = Objective(net.extractor, net.choice, Targets(content_features(net.extractor, net.choice, photo), found,
                                                           guide), weights, statistic=statistic)  # fmt: skip
    tiled = Objective(net.extractor, net.choice, Targets({}, found, guide), weights, statistic=statistic)
    image = (photo + 0.2 * torch.randn_like(photo)).clamp(0, 1)
    (whole,) = read(evaluate_together(untiled, image, [0]))
    evaluation = _tiled(net, tiled, photo, 32)
    for index in range(len(evaluation.tiles)):  # every tile is handed the objective's own (global) targets
        for name, target in evaluation.targets(0, index).style.items():
            assert all(v.data_ptr() == found[name][part].data_ptr() for part, v in target.items())
    (parts,) = read(evaluation(tiled, image, [0]))
    assert isinstance(whole, Evaluation) and isinstance(parts, Evaluation)
    assert parts.terms[2] == pytest.approx(whole.terms[2], rel=1e-4)
    torch.testing.assert_close(parts.grad, whole.grad, rtol=1e-3, atol=1e-3 * whole.grad.abs().max().item())


@pytest.mark.parametrize(("loss", "tolerance"), [("gram", 1e-4), ("wasserstein", 1e-4), ("sliced", 0.02)])
@pytest.mark.parametrize("source", [False, True])
def test_style_targets_computed_in_tiles_are_the_whole_styles(
    weights_file: Callable[[str, str], Path], loss: str, tolerance: float, source: bool
) -> None:
    """A style as large as a tiled picture is seen a tile at a time: the mixture of its tiles is itself."""
    net, _ = _network(weights_file)
    statistic = style_statistic(loss, 0)
    style = to_tensor(pattern_image(112, 80, 11))
    sources = [torch.linspace(0, 1, 112).expand(1, 1, 80, 112).contiguous()] if source else []
    whole = style_targets(net.extractor, net.choice, [style], statistic=statistic, sources=sources)
    tiled = style_targets(net.extractor, net.choice, [style], statistic=statistic, sources=sources,
                          tiling=_tiling(net, 32))  # fmt: skip
    assert len(_tiling(net, 32).tiles(80, 112)) == 12
    for name, parts in whole.items():
        for part, value in parts.items():
            if part == "directions":
                assert torch.equal(value, tiled[name][part])
                continue
            scale = value.abs().max().clamp_min(1e-6)
            assert (tiled[name][part] - value).abs().max() <= tolerance * scale, (name, part)


def test_sliced_in_tiles_scores_each_tile_against_the_global_target(weights_file: Callable[[str, str], Path]) -> None:
    """Sorting does not add up over tiles: each tile's own distribution against the whole style's."""
    net, _ = _network(weights_file)
    statistic = style_statistic("sliced", 0)
    photo, style = to_tensor(pattern_image(96, 64, 3)), to_tensor(pattern_image(64, 64, 4))
    _, tiled = _objectives(net, photo, style, LossWeights(0.0, 1.0), statistic)
    evaluation = _tiled(net, tiled, photo, 48)
    image = (photo + 0.1 * torch.randn_like(photo)).clamp(0, 1)
    (parts,) = read(evaluation(tiled, image, [0]))
    assert isinstance(parts, Evaluation)
    expected, everywhere = 0.0, tiled.features(image)  # the untiled features, cut to each tile by hand
    for index, tile in enumerate(evaluation.tiles):
        for name, target in evaluation.targets(0, index).style.items():  # the objective's own, not the tile's
            assert all(v.data_ptr() == tiled.targets.style[name][part].data_ptr() for part, v in target.items())
        top, bottom, left, right = tile.core
        errors = {}
        for lw in net.choice.style:
            s, value = layer_stride("vgg19", lw.name), everywhere[lw.name]
            cut = value[
                ..., top // s : (bottom // s if bottom < 64 else None), left // s : (right // s if right < 96 else None)
            ]
            errors[lw.name] = statistic.error(cut, tiled.targets.style[lw.name], None, None)
        mean = sum(errors[lw.name] * lw.weight for lw in net.choice.style) / sum(lw.weight for lw in net.choice.style)
        expected += tile.area / (96 * 64) * float(mean)
    # the margin holds the receptive fields of these layers: the tiles see what the whole picture does
    assert parts.terms[2] == pytest.approx(expected, rel=1e-4)
    assert parts.terms[2] > 0


def test_a_tiled_run_ends_near_the_untiled_objective(weights_file: Callable[[str, str], Path]) -> None:
    """96 px in 48 px tiles, 15 iterations each: judged by the untiled objective, within 2%."""
    net, config = _network(weights_file, "relu2_1", size=96, iterations=15, scales=1)
    content, style = pattern_image(96, 72, 5), pattern_image(64, 64, 6)
    whole = transfer(content, [style], config, network=net)
    tiled = transfer(content, [style], replace(config, tile=48), network=net)
    photo = to_tensor(content)
    untiled, _ = _objectives(net, photo, to_tensor(style), LossWeights(config.content_weight, config.style_weight))
    start, made_whole, made_tiled = (float(untiled(x).total) for x in (photo, whole.image, tiled.image))
    assert made_tiled < start and made_whole < start
    assert made_tiled == pytest.approx(made_whole, rel=0.02)
    assert tiled.iterations == whole.iterations == 15


def test_the_memory_plan_runs_whole_shortens_the_history_then_tiles() -> None:
    big = memory.plan_memory(4096, 3072, 1, 8 * 2**30)
    assert big.tile is not None and big.tile % memory.ALIGN == 0 and big.history <= memory.TILED_HISTORY
    assert big.need <= 8 * 2**30
    assert memory.plan_memory(512, 384, 1, 8 * 2**30) == memory.MemoryPlan(
        50, None, memory.stage_need(512, 384, 1, 50, None)
    )
    whole = memory.stage_need(2048, 1536, 1, 50, None)
    shorter = memory.plan_memory(2048, 1536, 1, whole - 2**28)
    assert shorter.tile is None and memory.WHOLE_LEAST_HISTORY <= shorter.history < 50
    assert memory.plan_memory(2048, 1536, 1, 4 * 2**30).tile is not None
    forced = memory.plan_memory(2048, 1536, 1, 64 * 2**30, tile=512)
    assert forced.tile == 512 and forced.history == memory.FULL_HISTORY  # tiles asked for, memory to spare
    assert memory.plan_memory(256, 192, 1, 64 * 2**30, tile=512).tile is None  # smaller than the tile: whole
    with pytest.raises(ResourceError, match="even in tiles") as refused:
        memory.plan_memory(4096, 3072, 1, 2 * 2**30)
    assert "--max-memory" in (refused.value.hint or "")
    note = memory.plan_note(memory.plan_memory(4096, 3072, 1, 8 * 2**30), 4096, 3072, 1, 8 * 2**30)
    assert note is not None and "tiles of" in note


@pytest.mark.parametrize(("text", "value"), [("4G", 4 * 2**30), ("1500M", 1500 * 2**20), ("2GiB", 2 * 2**30),
                                             ("8gb", 8 * 2**30), ("3000000", 3000000), (None, 0)])  # fmt: skip
def test_max_memory_reads_sizes(text: str | None, value: int) -> None:
    assert memory_size(text) == value


@pytest.mark.parametrize("bad", ["lots", "4X", "-1G", "100K", ""])
def test_a_bad_max_memory_is_a_usage_error(bad: str, run: Run) -> None:
    result = run("--max-memory", bad)
    assert result.exit_code == 2 and "--max-memory" in result.output


def test_a_tile_below_the_networks_least_side_is_a_usage_error(run: Run) -> None:
    result = run("--tile", "1")  # the tiny network's relu2_1 needs 2 px
    assert result.exit_code == 2 and "--tile 1" in result.output and "2 px" in result.output
    with pytest.raises(SettingsError, match=r"--tile 8 .* 16 px"):
        from stylize.run.stages import check_tile

        check_tile(Config(tile=8))


def test_tiles_through_the_cli_with_regions_record_their_settings(run: Run, tmp_path: Path,
                                                                  images: dict[str, Path]) -> None:  # fmt: skip
    left = Image.new("L", (48, 36), 0)
    left.paste(255, (0, 0, 24, 36))
    left.save(tmp_path / "left.png")
    Image.eval(left, lambda v: 255 - v).save(tmp_path / "right.png")
    result = run("--tile", "24", "--style-mask", str(tmp_path / "left.png"), "--style-mask",
                 str(tmp_path / "right.png"), "--content-mask", str(tmp_path / "left.png"),
                 styles=("style", "style2"))  # fmt: skip
    assert result.exit_code == 0, result.output
    made = read_rgb(tmp_path / "out.png")
    assert made.size == (40, 30)
    assert read_metadata(tmp_path / "out.png")["config"]["tile"] == 24
    assert {"tile", "max_memory"} <= set(HOW_NOT_WHAT)  # an unfinished image made either way resumes


def test_pictures_of_a_batch_in_tiles_are_each_as_alone(weights_file: Callable[[str, str], Path]) -> None:
    net, _ = _network(weights_file, "relu2_1")
    photos = [to_tensor(pattern_image(64, 48, 7)), to_tensor(pattern_image(64, 48, 8))]
    style = to_tensor(pattern_image(48, 48, 9))
    weights = LossWeights(1.0, 5.0)
    styles = style_targets(net.extractor, net.choice, [style])
    both = Objective(net.extractor, net.choice, Targets({}, styles), weights)
    evaluation = _tiled(net, both, torch.cat(photos), 32)
    images = torch.cat([(p + 0.1 * torch.randn_like(p)).clamp(0, 1) for p in photos])
    together = read(evaluation(both, images, [0, 1]))
    for row in range(2):
        _, alone = _objectives(net, photos[row], style, weights)
        (single,) = read(_tiled(net, alone, photos[row], 32)(alone, images[row : row + 1], [0]))
        assert isinstance(single, Evaluation)
        assert together[row].loss == pytest.approx(single.loss, rel=1e-5)  # type: ignore[union-attr]


def test_a_small_budget_tiles_a_run_and_says_so(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "BASE", 0)  # the tiny pictures fit anything: pretend a network of no size
    monkeypatch.setattr(memory, "EVALUATED", 2**20)  # and 1 MiB a pixel, so that 1G holds about 32x32 px
    monkeypatch.setattr(memory, "MARGIN", 4)  # a margin that leaves a tile smaller than the picture
    monkeypatch.setattr("stylize.run.work.MARGIN", 4)
    result = run("--max-memory", "1G", "--size", "64", "--progress", "bars")
    assert result.exit_code == 0, result.output
    said = re.search(r"are optimised in tiles of (\d+) px", result.output)
    assert said is not None and int(said.group(1)) < 48
    tiles = len(tile_grid(48, 64, int(said.group(1)), 4, 2))
    assert f"64x48 in {tiles} tiles" in result.output and f"tile {tiles}/{tiles}" in result.output  # the bar
    assert read_rgb(tmp_path / "out.png").size == (64, 48)


@pytest.mark.slow
def test_with_the_real_network_tiles_give_the_untiled_objective_and_gradient() -> None:
    """VGG19 (bundled weights) up to relu5_1, whose receptive field reaches past the 64 px margin."""
    net = load_network(Config(device="cpu", precision="fp32"))
    photo, style = to_tensor(pattern_image(320, 240, 12)), to_tensor(pattern_image(256, 256, 13))
    untiled, tiled = _objectives(net, photo, style, LossWeights(1.0, 5.0, 0.0, 10.0))
    image = (photo + 0.2 * torch.randn(photo.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    (whole,) = read(evaluate_together(untiled, image, [0]))
    evaluation = _tiled(net, tiled, photo, 128)
    assert len(evaluation.tiles) == 6
    (parts,) = read(evaluation(tiled, image, [0]))
    assert isinstance(whole, Evaluation) and isinstance(parts, Evaluation)
    assert parts.loss == pytest.approx(whole.loss, rel=1e-4)
    cosine = torch.nn.functional.cosine_similarity(parts.grad, whole.grad, dim=0)
    assert cosine > 0.9999
    assert (parts.grad - whole.grad).norm() < 0.01 * whole.grad.norm()
