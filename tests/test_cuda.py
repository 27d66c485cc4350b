"""The GPU path: runs only where CUDA exists."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from conftest import read_rgb

from stylize.config import Config
from stylize.network.devices import resolve_device
from stylize.network.layers import parse_layer_list
from stylize.network.loader import load_network
from stylize.optimize.engine import Step
from stylize.run.pictures import transfer

pytestmark = pytest.mark.cuda
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here")


@needs_cuda
def test_auto_picks_cuda_and_everything_lives_there(
    weights_file: Callable[[str, str], Path], images: dict[str, Path]
) -> None:
    assert resolve_device("auto").type == "cuda"
    config = Config(weights=weights_file("vgg19", "relu2_1"), content_layers=parse_layer_list("relu2_1", "c"),
                    style_layers=parse_layer_list("relu1_1,relu2_1", "s"), size=64, iterations=5)  # fmt: skip
    network = load_network(config)
    assert all(p.device.type == "cuda" for p in network.extractor.parameters())
    steps: list[Step] = []
    result = transfer(read_rgb(images["content"]), [read_rgb(images["style"])], config, steps.append, network)
    assert steps and all(s.image.device.type == "cuda" for s in steps)
    assert result.image.device.type == "cpu" and torch.isfinite(result.image).all()
    assert result.iterations == 5


def test_cuda_absent_is_a_usage_error() -> None:
    if torch.cuda.is_available():
        pytest.skip("CUDA is present here")
    from stylize.errors import SettingsError

    with pytest.raises(SettingsError, match="no CUDA"):
        resolve_device("cuda")


@needs_cuda
@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_half_precision_on_the_gpu_descends_and_stays_finite(
    weights_file: Callable[[str, str], Path], images: dict[str, Path], precision: str
) -> None:
    config = Config(weights=weights_file("vgg19", "relu2_1"), content_layers=parse_layer_list("relu2_1", "c"),
                    style_layers=parse_layer_list("relu1_1,relu2_1", "s"), size=128, scales=2, iterations=10,
                    precision=precision)  # fmt: skip
    steps: list[Step] = []
    result = transfer(read_rgb(images["content"]), [read_rgb(images["style"])], config, steps.append)
    final = [s for s in steps if s.stage == 2]
    assert final[-1].loss < final[0].loss and torch.isfinite(result.image).all()
    assert result.note is None, result.note


@needs_cuda
def test_a_gpu_batch_reads_the_host_at_most_four_times_an_iteration(weights_file: Callable[[str, str], Path]) -> None:
    """tests/test_host_reads.py's budget where the reads cost: each one waits for the card."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from host_reads import count_reads, noise_pictures

    from stylize.run.pictures import transfer_batch

    config = Config(weights=weights_file("vgg19", "relu2_1"), content_layers=parse_layer_list("relu2_1", "c"),
                    style_layers=parse_layer_list("relu1_1,relu2_1", "s"), size=64, iterations=10, scales=1,
                    device="cuda")  # fmt: skip
    network = load_network(config)
    results, reads = count_reads(lambda: transfer_batch(noise_pictures(4), config, network))
    assert all(r.iterations == 10 for r in results)  # type: ignore[union-attr]
    assert reads <= 40, f"{reads} host reads for 10 iterations of 4 pictures"
