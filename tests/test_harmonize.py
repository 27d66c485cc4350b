"""Painterly harmonization (--harmonize): the matching, the mapping, the masks and the guarantee outside."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from click.testing import Result as CliResult
from conftest import pattern_image, read_rgb
from PIL import Image

from stylize import Config, Harmonize, harmonize
from stylize.cli import main
from stylize.errors import SettingsError
from stylize.losses.histogram import histogram_matched
from stylize.losses.matching import carried_mapping, chunk_rows, coherent_mapping, nearest_patches
from stylize.network.loader import load_network
from stylize.run.harmonize.masks import blend_weights, region_mask
from stylize.run.harmonize.strength import active_share, estimated_strength, strength_of

SIZE = (48, 36)


def distinct_features(channels: int, height: int, width: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(1, channels, height, width, generator=torch.Generator().manual_seed(seed))


def test_a_painting_matched_to_itself_maps_every_patch_to_itself() -> None:
    features = distinct_features(8, 9, 11)
    assert torch.equal(nearest_patches(features, features), torch.arange(99))
    where = torch.tensor([5, 17, 40, 98])
    assert torch.equal(nearest_patches(features, features, where), where)


def test_matching_in_chunks_gives_the_same_answer_and_bounds_the_scores() -> None:
    query, bank = distinct_features(4, 12, 10, 1), distinct_features(4, 15, 13, 2)
    whole = nearest_patches(query, bank)
    assert chunk_rows(15 * 13, 4 * 15 * 13 * 7) == 7  # 7 rows of scores fit that many bytes
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], profile_memory=True) as prof:
        chunked = nearest_patches(query, bank, chunk_bytes=4 * 15 * 13 * 7)
    assert torch.equal(whole, chunked)
    scores = [e for e in prof.events() if e.name in ("aten::mm", "aten::matmul") and e.cpu_memory_usage > 0]
    assert scores and max(e.cpu_memory_usage for e in scores) <= 4 * 15 * 13 * 7 + 64  # one chunk's scores at most


def test_the_coherent_mapping_keeps_a_coherent_field_and_mends_an_outlier() -> None:
    bank = distinct_features(16, 10, 10, 3)
    shifted = (torch.arange(8)[:, None] + 1) * 10 + (torch.arange(8)[None, :] + 2)  # (y, x) -> (y + 1, x + 2)
    mapping = shifted.reshape(-1)
    assert torch.equal(coherent_mapping(mapping, (8, 8), bank), mapping)
    broken = mapping.clone()
    broken[3 * 8 + 4] = 0  # one position points far away; its 8 neighbours all suggest the shifted match
    mended = coherent_mapping(broken, (8, 8), bank)
    assert mended[3 * 8 + 4] == mapping[3 * 8 + 4]
    assert torch.equal(mended, mapping)


def test_a_mapping_is_carried_to_a_finer_layer_cell_by_cell() -> None:
    identity = torch.arange(16)  # a 4x4 grid mapped onto itself in a 4x4 painting
    finer = carried_mapping(identity, (4, 4), (4, 4), (8, 8), (8, 8))
    assert torch.equal(finer, torch.arange(64))
    shift = ((torch.arange(4)[:, None]) * 6 + torch.arange(4)[None, :] + 1).reshape(-1)  # x + 1 in a 4x6 painting
    carried = carried_mapping(shift, (4, 4), (4, 6), (8, 8), (8, 12)).reshape(8, 8)
    assert carried[5, 3] == 5 * 12 + 3 + 2  # one reference cell = two positions here


def test_histogram_matching_gives_the_targets_values_in_the_inputs_order() -> None:
    values = torch.tensor([[3.0, 1.0, 2.0, 0.0]])
    target = torch.tensor([[10.0, 40.0, 20.0, 30.0]])
    assert torch.equal(histogram_matched(values, target), torch.tensor([[40.0, 20.0, 30.0, 10.0]]))


def test_the_region_is_the_mask_grown_by_the_margin_and_blends_to_zero_at_its_edge() -> None:
    mask = Image.new("L", (100, 60), 0)
    mask.paste(255, (40, 20, 60, 40))
    region = region_mask(Harmonize(mask, margin=5), 60, 100)  # 5 px
    assert region[30, 35] and region[30, 64] and not region[30, 34] and not region[30, 65]
    blend = blend_weights(region, 5)[0, 0]
    assert blend[30, 50] == 1 and float(blend[~torch.from_numpy(region)].abs().max()) == 0
    assert 0 < blend[30, 35] < 1


@pytest.fixture
def scene(tmp_path: Path) -> dict[str, Path]:
    """A painting, the painting with a square of a photo pasted in, and the square's mask (JPEG)."""
    painting, photo = pattern_image(*SIZE, 2), pattern_image(*SIZE, 7)
    composite = painting.copy()
    composite.paste(photo.crop((16, 10, 32, 26)), (16, 10))
    mask = Image.new("L", SIZE, 0)
    mask.paste(255, (16, 10, 32, 26))
    paths = {"painting": tmp_path / "painting.png", "composite": tmp_path / "composite.png",
             "mask": tmp_path / "mask.jpg"}  # fmt: skip
    painting.save(paths["painting"])
    composite.save(paths["composite"])
    mask.save(paths["mask"], quality=80)
    return paths


Invoke = Callable[..., CliResult]


@pytest.fixture
def harmonizing(weights_file: Callable[[str, str], Path], scene: dict[str, Path], tmp_path: Path) -> Invoke:
    def invoke(*extra: str, content: Path | None = None, style: Path | None = None, out: str = "out.png") -> CliResult:
        args = [str(content or scene["composite"]), str(style or scene["painting"]), "-o", str(tmp_path / out)]
        args += ["--weights", str(weights_file("vgg19", "relu5_1")), "--size", "48", "--iterations", "3"]
        return CliRunner().invoke(main, [*args, "--device", "cpu", *extra])

    return invoke


def test_outside_the_region_the_result_is_the_painting(harmonizing: Invoke, scene: dict[str, Path],
                                                      tmp_path: Path) -> None:  # fmt: skip
    done = harmonizing("--harmonize", str(scene["mask"]))
    assert done.exit_code == 0, done.output
    result = np.asarray(read_rgb(tmp_path / "out.png"), dtype=np.int16)
    painting = np.asarray(read_rgb(scene["painting"]), dtype=np.int16)
    composite = np.asarray(read_rgb(scene["composite"]), dtype=np.int16)
    region = region_mask(Harmonize(Image.open(scene["mask"]).convert("L")), SIZE[1], SIZE[0])
    assert np.abs(result - painting)[~region].max() <= 1
    assert np.abs(result - composite)[region].max() > 8  # the pasted part was painted


def test_the_api_harmonizes_and_a_run_is_recorded_in_its_metadata(harmonizing: Invoke, scene: dict[str, Path],
                                                                 weights_file: Callable[[str, str], Path],
                                                                 tmp_path: Path) -> None:  # fmt: skip
    config = Config(size=48, iterations=2, device="cpu", weights=weights_file("vgg19", "relu5_1"))
    result = harmonize(read_rgb(scene["composite"]), read_rgb(scene["painting"]),
                       Harmonize(Image.open(scene["mask"]).convert("L")), config)  # fmt: skip
    assert result.image.shape == (1, 3, 36, 48) and result.iterations == 4  # two passes of 2
    done = harmonizing("--harmonize", str(scene["mask"]), "--harmonize-strength", "3")
    assert done.exit_code == 0, done.output
    shown = CliRunner().invoke(main, ["--inspect", str(tmp_path / "out.png")])
    assert "harmonize_strength" in shown.output and "mask.jpg" in shown.output


def bad_mask(kind: str, tmp_path: Path) -> Path:
    path = tmp_path / f"bad-{kind}.png"
    if kind == "empty":
        Image.new("L", SIZE, 0).save(path)
    elif kind == "everything":
        Image.new("L", SIZE, 255).save(path)
    elif kind == "wrong-shape":
        Image.new("L", (40, 40), 255).save(path)
    elif kind == "unreadable":
        path.write_bytes(b"not an image at all")
    return path  # "missing": never written


@pytest.mark.parametrize("kind", ["empty", "everything", "wrong-shape", "missing", "unreadable"])
def test_bad_masks_are_usage_errors_and_nothing_is_written(harmonizing: Invoke, tmp_path: Path, kind: str) -> None:
    done = harmonizing("--harmonize", str(bad_mask(kind, tmp_path)))
    assert done.exit_code == 2, done.output
    assert "bad-" in done.output and "Traceback" not in done.output
    assert not (tmp_path / "out.png").exists()


@pytest.mark.parametrize("extra", [["--style-loss", "sliced"], ["--preserve-colors", "luminance"],
                                   ["--style-layers", "relu1_1"], ["--video"], ["--harmonize-margin", "60"]])
def test_what_makes_no_sense_with_harmonize_is_refused(harmonizing: Invoke, scene: dict[str, Path], tmp_path: Path,
                                                      extra: list[str]) -> None:  # fmt: skip
    done = harmonizing("--harmonize", str(scene["mask"]), *extra)
    assert done.exit_code == 2, done.output
    assert not (tmp_path / "out.png").exists()


def test_a_painting_of_another_shape_is_refused_and_of_another_size_resized(harmonizing: Invoke,
                                                                          scene: dict[str, Path],
                                                                          tmp_path: Path) -> None:  # fmt: skip
    other = tmp_path / "square.png"
    pattern_image(40, 40, 2).save(other)
    refused = harmonizing("--harmonize", str(scene["mask"]), style=other)
    assert refused.exit_code == 2 and "painting" in refused.output
    bigger = tmp_path / "bigger.png"
    read_rgb(scene["painting"]).resize((96, 72)).save(bigger)
    assert harmonizing("--harmonize", str(scene["mask"]), style=bigger).exit_code == 0


def test_several_paintings_are_refused(harmonizing: Invoke, scene: dict[str, Path], tmp_path: Path) -> None:
    other = tmp_path / "other.png"
    read_rgb(scene["painting"]).save(other)
    args = [str(scene["composite"]), "-s", str(scene["painting"]), "-s", str(other), "--each-style", "-o",
            str(tmp_path / "out"), "--harmonize", str(scene["mask"]), "--size", "48", "--iterations", "2"]  # fmt: skip
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 2 and "one painting" in done.output, done.output
    assert not (tmp_path / "out").exists()


def test_a_folder_of_composites_with_their_own_masks(weights_file: Callable[[str, str], Path],
                                                     scene: dict[str, Path], tmp_path: Path) -> None:  # fmt: skip
    folder, masks = tmp_path / "pasted", tmp_path / "masks"
    folder.mkdir()
    masks.mkdir()
    for name in ("a", "b"):
        read_rgb(scene["composite"]).save(folder / f"{name}.png")
        Image.open(scene["mask"]).save(masks / f"{name}_mask.png")
    args = [str(folder), "-s", str(scene["painting"]), "-o", str(tmp_path / "out"), "--harmonize",
            str(masks / "{content}_mask.png"), "--weights", str(weights_file("vgg19", "relu5_1")), "--size", "48",
            "--iterations", "2", "--device", "cpu"]  # fmt: skip
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_painting.png", "b_painting.png"]
    (masks / "b_mask.png").unlink()
    again = CliRunner().invoke(main, [*args, "--overwrite"])
    assert again.exit_code == 2 and "b_mask.png" in again.output


def test_the_strength_estimate_is_on_the_papers_scale_and_rises_with_the_active_share(
    weights_file: Callable[[str, str], Path],
) -> None:  # fmt: skip
    shares = [0.0, 0.40, 0.42, 0.44, 1.0]
    strengths = [strength_of(share) for share in shares]
    assert strengths[0] == 1 and strengths[-1] == 10 and strengths == sorted(strengths)
    assert 1 < strengths[1] < strengths[2] < strengths[3] < 10  # the paintings' range is not clipped
    net = load_network(Config(device="cpu", weights=weights_file("vgg19", "relu5_1")))
    flat = Image.new("RGB", (64, 48), (200, 180, 150))
    share = active_share(flat, net.extractor, net.device)
    assert 0 <= share <= 1 and estimated_strength(flat, net.extractor, net.device) == strength_of(share)


def test_harmonize_settings_are_checked() -> None:
    with pytest.raises(SettingsError, match="--harmonize-region needs"):
        Config(harmonize_region=Path("r.png"))
    with pytest.raises(SettingsError, match="--style-blend"):
        Config(harmonize=Path("m.png"), style_blend=(1.0,))


def stop_in_pass(number: int, iteration: int, monkeypatch: pytest.MonkeyPatch, asked: list[int]) -> None:
    """The next harmonization raises KeyboardInterrupt (as Ctrl-C would) at `iteration` of pass `number`
    (0: never); `asked` collects the iterations each pass is asked for."""
    from stylize.optimize import engine
    from stylize.run.harmonize import passes

    def interrupted(objective: object, init: object, settings: engine.OptimizerSettings, on_step: engine.OnStep,
                    evaluate: object, steering: object = None) -> object:  # fmt: skip
        asked.append(settings.iterations)
        now = len(asked)  # which pass this is (the passes report their number to on_step, not to the engine)

        def stop(step: engine.Step) -> None:
            on_step(step)
            if now == number and step.iteration == iteration:
                raise KeyboardInterrupt

        return engine.optimize_batch(objective, init, settings, stop, evaluate)  # type: ignore[arg-type]

    monkeypatch.setattr(passes, "optimize_batch", interrupted)


def test_a_stopped_harmonization_resumes_in_its_pass(harmonizing: Invoke, scene: dict[str, Path], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from stylize.io.metadata import read_metadata

    asked: list[int] = []
    stop_in_pass(2, 2, monkeypatch, asked)
    assert harmonizing("--harmonize", str(scene["mask"]), "--iterations", "4").exit_code == 130
    kept = read_metadata(tmp_path / "out.unfinished.png")
    assert (kept["stage"], kept["stage_iterations_done"], kept["iterations_done"]) == (2, 2, 6)
    asked.clear()
    stop_in_pass(0, 0, monkeypatch, asked)
    resumed = harmonizing("--harmonize", str(scene["mask"]), "--iterations", "4")
    assert resumed.exit_code == 0, resumed.output
    assert "resuming from" in resumed.stderr and asked == [2]
    assert read_metadata(tmp_path / "out.png")["iterations_done"] == 8


HARMONIZE_EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "harmonize"


@pytest.mark.slow
def test_a_paper_example_with_real_weights_is_painted_inside_and_untouched_outside(tmp_path: Path) -> None:
    if not HARMONIZE_EXAMPLES.is_dir():
        pytest.skip("../shared/harmonize is not present")
    from stylize.run.harmonize.aims import layer_positions

    example = {k: HARMONIZE_EXAMPLES / f"9_{k}" for k in ("naive.jpg", "target.jpg", "c_mask.jpg")}
    out = tmp_path / "out.png"
    done = CliRunner().invoke(main, [str(example["naive.jpg"]), str(example["target.jpg"]), "-o", str(out),
                                     "--harmonize", str(example["c_mask.jpg"]), "--size", "256", "--iterations",
                                     "40", "--device", "cpu"])  # fmt: skip
    assert done.exit_code == 0, done.output
    result = read_rgb(out)
    painting, naive = (read_rgb(example[k]).resize(result.size, Image.Resampling.LANCZOS)
                       for k in ("target.jpg", "naive.jpg"))  # fmt: skip
    masks = Harmonize(Image.open(example["c_mask.jpg"]).convert("L"))
    region = region_mask(masks, result.height, result.width)
    assert np.abs(np.asarray(result, np.int16) - np.asarray(painting, np.int16))[~region].max() <= 1
    net = load_network(Config(device="cpu"))
    pasted = torch.from_numpy(np.asarray(masks.pasted.resize(result.size)) >= 128).float()[None, None]
    outside = torch.from_numpy(~region).float()[None, None]

    def gram_distance(image: Image.Image) -> float:
        from stylize.io.tensors import to_tensor

        mine, theirs = net.extractor(to_tensor(image)), net.extractor(to_tensor(painting))
        errors = []
        for layer in ("relu1_1", "relu2_1", "relu3_1", "relu4_1"):
            a = mine[layer][0].flatten(1)[:, layer_positions(pasted, mine[layer])]
            b = theirs[layer][0].flatten(1)[:, layer_positions(outside, theirs[layer])]
            ga, gb = a @ a.T / a.numel(), b @ b.T / b.numel()
            errors.append(float((ga - gb).pow(2).sum() / gb.pow(2).sum()))
        return sum(errors) / len(errors)

    assert gram_distance(result) < 0.6 * gram_distance(naive)  # inside, the object took the painting's style


def test_the_finishing_filter_removes_colour_speckles_inside_and_keeps_the_painting_outside() -> None:
    from stylize.run.harmonize.finishing import denoised

    generator = torch.Generator().manual_seed(0)
    grey = torch.linspace(0.2, 0.8, 64).repeat(1, 3, 48, 1)  # (1, 3, 48, 64): a grey ramp, no colour
    speckled = (grey + 0.1 * torch.randn(1, 3, 48, 64, generator=generator)).clamp(0, 1)
    painting = torch.rand(1, 3, 48, 64, generator=generator)
    blend = torch.zeros(1, 1, 48, 64)
    blend[..., 8:40, 8:56] = 1
    done = denoised(speckled, painting, blend)
    assert torch.equal(done[..., blend[0, 0] == 0], painting[..., blend[0, 0] == 0])

    def colour(x: torch.Tensor) -> float:  # how far from grey, inside
        inside = x[..., 12:36, 12:52]
        return float((inside - inside.mean(1, keepdim=True)).abs().mean())

    assert colour(done) < 0.5 * colour(speckled)
    luma = torch.tensor([0.299, 0.587, 0.114])[None, :, None, None]
    assert torch.allclose((done * luma).sum(1)[..., 12:36, 12:52], (speckled * luma).sum(1)[..., 12:36, 12:52],
                          atol=0.02)  # the lightness, which carries the strokes, stays  # fmt: skip


def test_a_harmonization_runs_with_the_live_page(harmonizing: Invoke, scene: dict[str, Path], tmp_path: Path) -> None:
    pytest.importorskip("uvicorn", reason="the preview extra is not installed")
    done = harmonizing("--harmonize", str(scene["mask"]), "--preview", "0", "--progress", "none")
    assert done.exit_code == 0, done.output
    assert "live preview at http://127.0.0.1:" in done.stderr and (tmp_path / "out.png").is_file()
