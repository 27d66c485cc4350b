"""What waits for a GPU, counted on the CPU: host reads per iteration and operations per evaluation.

Every `.item()`, `.tolist()`, `bool(t)`, `float(t)`, `int(t)`, `.cpu()` or `.numpy()` of a CUDA tensor
stops the host until the card has caught up; every operation is a kernel launch. Both are counted
here on the CPU, where they are the same calls (docs/benchmarks/gpu.md has the GPU's side).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from host_reads import count_operations, count_reads, noise_pictures, random_vgg19

from stylize.config import Config
from stylize.network.layers import parse_layer_list
from stylize.network.loader import load_network
from stylize.run.pictures import transfer_batch

# Operations per evaluation of a 64 px picture with the default layers at 4ae5395, the commit before the
# device-side optimiser (benchmarks/host_reads.py --checkout): a third fewer is the budget.
OPERATIONS_BEFORE = {"fp32": 1096, "bf16": 1239}


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return random_vgg19(tmp_path_factory.mktemp("vgg19"))


@pytest.mark.parametrize("history", [5, 50])
@pytest.mark.parametrize("pictures", [1, 4])
def test_a_batch_reads_the_host_at_most_four_times_an_iteration(weights: Path, history: int, pictures: int,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from stylize.optimize import engine

    lbfgs = engine.lbfgs
    monkeypatch.setattr(engine, "lbfgs", lambda start, _, evaluations: lbfgs(start, history, evaluations))
    config = Config(weights=weights, size=64, iterations=10, device="cpu", scales=1, threads=1,
                    content_layers=parse_layer_list("relu2_1", "c"),
                    style_layers=parse_layer_list("relu1_1,relu2_1", "s"))  # fmt: skip
    net = load_network(config)
    try:
        results, reads = count_reads(lambda: transfer_batch(noise_pictures(pictures), config, net))
    finally:
        net.extractor.close()
    assert all(result.iterations == 10 for result in results)  # type: ignore[union-attr]
    assert reads <= 4 * 10, f"{reads} host reads for 10 iterations of {pictures} pictures"
    assert reads >= 10, "the counting must see the round's read"


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_an_evaluation_takes_a_third_fewer_operations_than_before(weights: Path, precision: str) -> None:
    config = Config(weights=weights, size=64, iterations=3, device="cpu", scales=1, precision=precision)
    net = load_network(config)
    try:
        operations = count_operations(noise_pictures(1)[0], config, net, transfer_batch)
    finally:
        net.extractor.close()
    assert operations <= OPERATIONS_BEFORE[precision] * 2 / 3, f"{operations} operations per evaluation"
    assert operations > 200, "the network's own operations must be counted"
