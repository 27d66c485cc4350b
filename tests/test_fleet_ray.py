"""--ray on real Ray clusters on this machine: the same files as a local run, lost workers and nodes, signals.

Each test runs the command in its own process, as a user would, with a local Ray (`--ray local`) or a
cluster of two nodes started here (`ray.cluster_utils.Cluster`), the small test network, one thread
per worker. Slow: a Ray starts in a few seconds, and CI runs them all.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import TINY_LAYERS, pattern_image, photo_folder

pytestmark = pytest.mark.slow
pytest.importorskip("ray")
ENVIRONMENT = {**os.environ, "PYTHONWARNINGS": "ignore"}
SLOW_PICTURES = ["--size", "64", "--iterations", "150", "--batch-size", "1"]  # 2-3 s each: time to kill


@pytest.fixture
def inputs(tmp_path: Path, weights_file: Callable[[str, str], Path]) -> list[str]:
    """8 photos, a style, the small network on the CPU, one thread, a seed."""
    photos = photo_folder(tmp_path / "photos", 8, seed=20)
    pattern_image(40, 40, 2).save(tmp_path / "style.png")
    return [str(photos), "-s", str(tmp_path / "style.png"), "--weights", str(weights_file("vgg19", "relu2_1")),
            *TINY_LAYERS, "--device", "cpu", "--threads", "1", "--seed", "4"]  # fmt: skip


def stylize(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "stylize", *args], capture_output=True, text=True, env=ENVIRONMENT,
                          timeout=300)  # fmt: skip


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "stylize", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=ENVIRONMENT)  # fmt: skip


def log_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def wait_for_results(log: Path, count: int, process: subprocess.Popen[str]) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        done = [line for line in log_lines(log) if line.get("status") == "done"]
        if len(done) >= count:
            return done
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} results: {log_lines(log)}; {process.communicate()}")


def same_files(a: Path, b: Path) -> None:
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir()) and names
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_two_local_workers_make_the_files_of_a_plain_run(inputs: list[str], tmp_path: Path) -> None:
    small = ["--size", "48", "--iterations", "8", "--batch-size", "2"]
    plain = stylize(*inputs, *small, "-o", str(tmp_path / "plain"))
    fleet = stylize(*inputs, *small, "-o", str(tmp_path / "fleet"), "--ray", "local", "--log", str(tmp_path / "l"))
    assert plain.returncode == 0 and fleet.returncode == 0, fleet.stderr
    same_files(tmp_path / "plain", tmp_path / "fleet")  # results, metadata and all
    assert "2 workers on the Ray cluster" in fleet.stderr
    workers = {json.dumps(line["worker"], sort_keys=True) for line in log_lines(tmp_path / "l")}
    assert len(workers) == 2  # both took batches


def check_all_made(out: Path, log: Path, process: subprocess.Popen[str]) -> None:
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    assert sorted(p.name for p in out.iterdir()) == [f"p{i}_style.png" for i in range(8)]  # nothing partial
    retries = [line for line in log_lines(log) if line.get("event") == "retry"]
    assert retries and retries[0]["try"] == 2, log_lines(log)
    assert "go to another worker" in stderr
    assert "(raylet)" not in stderr  # Ray's own report of the death is not the run's


def test_a_worker_killed_mid_run_has_its_batch_made_by_another(inputs: list[str], tmp_path: Path) -> None:
    out, log = tmp_path / "out", tmp_path / "log.jsonl"
    process = start(*inputs, *SLOW_PICTURES, "-o", str(out), "--ray", "local", "--log", str(log))
    first = wait_for_results(log, 1, process)[0]
    os.kill(first["worker"]["pid"], signal.SIGKILL)  # the worker process, as Ray reported it
    check_all_made(out, log, process)


@pytest.fixture
def two_nodes() -> Iterator[Any]:
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.added = cluster.add_node(num_cpus=1)
    try:
        yield cluster
    finally:
        cluster.shutdown()


def test_a_lost_node_has_its_batch_made_on_another(inputs: list[str], tmp_path: Path, two_nodes: Any) -> None:
    out, log = tmp_path / "out", tmp_path / "log.jsonl"
    process = start(*inputs, *SLOW_PICTURES, "-o", str(out), "--ray", two_nodes.address, "--log", str(log))
    wait_for_results(log, 1, process)
    two_nodes.remove_node(two_nodes.added)  # its worker dies mid-picture
    check_all_made(out, log, process)


def test_sigterm_keeps_what_is_done_and_a_rerun_makes_the_rest(inputs: list[str], tmp_path: Path) -> None:
    out, log = tmp_path / "out", tmp_path / "log.jsonl"
    process = start(*inputs, *SLOW_PICTURES, "-o", str(out), "--ray", "local", "--log", str(log))
    wait_for_results(log, 2, process)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr
    made = {p.name for p in out.iterdir() if ".unfinished." not in p.name and not p.name.startswith(".")}
    assert 2 <= len(made) < 8 and "stopped by SIGTERM" in stderr
    rerun = stylize(*inputs, *SLOW_PICTURES, "-o", str(out), "--ray", "local", "--log", str(log))
    assert rerun.returncode == 0, rerun.stderr
    assert sorted(p.name for p in out.iterdir()) == [f"p{i}_style.png" for i in range(8)]
    assert f"{len(made)} skipped" in rerun.stderr


def test_an_unreachable_cluster_is_one_line_and_exit_2_within_30_s(inputs: list[str], tmp_path: Path) -> None:
    for address in ("127.0.0.1:9", "ray://127.0.0.1:9"):
        started = time.monotonic()
        result = stylize(*inputs, "-o", str(tmp_path / "out"), "--ray", address)
        assert result.returncode == 2 and time.monotonic() - started < 30
        assert result.stderr.strip().count("\n") == 0 and "no Ray cluster answers" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_video_on_two_workers_equals_the_shard_runs_of_its_stretches(
    tmp_path: Path, weights_file: Callable[[str, str], Path]
) -> None:
    from video_clips import panning_clip, save_frames, texture

    frames = save_frames(panning_clip(texture(200, 160), 12, (64, 48)), tmp_path / "clip")
    pattern_image(40, 40, 2).save(tmp_path / "style.png")
    common = [str(frames), "-s", str(tmp_path / "style.png"), "--video", "--weights",
              str(weights_file("vgg19", "relu2_1")), *TINY_LAYERS, "--size", "48", "--iterations", "6",
              "--video-iterations", "3", "--device", "cpu", "--threads", "1", "--seed", "2"]  # fmt: skip
    for k in (1, 2, 3):
        assert stylize(*common, "-o", str(tmp_path / "shards"), "--shard", f"{k}/3").returncode == 0
    fleet = stylize(*common, "-o", str(tmp_path / "fleet"), "--ray", "local", "--stretches", "3")
    assert fleet.returncode == 0, fleet.stderr
    assert "2 workers" in fleet.stderr
    same_files(tmp_path / "shards", tmp_path / "fleet")
    assert len(list((tmp_path / "fleet").iterdir())) == 12
