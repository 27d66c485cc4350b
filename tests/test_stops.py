"""Real runs stopped the way clusters and full disks stop them: SIGTERM, SIGHUP, a second signal
during the save, a file-size limit, a full filesystem, a read-only folder, two runs on one folder,
and the CPUs a process may use."""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import TINY_LAYERS, photo_folder, read_stderr_until
from PIL import Image

from stylize.io.metadata import read_metadata

pytestmark = pytest.mark.slow  # real processes
ENVIRONMENT = {**os.environ, "PYTHONWARNINGS": "ignore"}


@pytest.fixture
def stylize_command(weights_file: Callable[[str, str], Path]) -> Callable[..., list[str]]:
    def command(*args: str) -> list[str]:
        weights = str(weights_file("vgg19", "relu2_1"))
        return [sys.executable, "-m", "stylize", *args, "--weights", weights, *TINY_LAYERS, "--device", "cpu"]

    return command


def folder_run(stylize_command: Callable[..., list[str]], photos: Path, style: Path, out: Path, iterations: int,
               progress: str) -> list[str]:  # fmt: skip
    """One photo per batch at 64 px: the command the folder tests run, stop and run again."""
    return stylize_command(str(photos), "-s", str(style), "-o", str(out), "--size", "64", "--iterations",
                           str(iterations), "--batch-size", "1", "--progress", progress)  # fmt: skip


def start(command: list[str], **options: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENVIRONMENT, **options)  # type: ignore[call-overload, no-any-return]


def finish(process: subprocess.Popen[bytes]) -> str:
    """The rest of stderr once the process has ended (its pipes closed)."""
    _, rest = process.communicate(timeout=120)
    return rest.decode(errors="replace")


def visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_keeps_the_unfinished_picture_and_the_same_command_resumes_it(
    stylize_command: Callable[..., list[str]], images: dict[str, Path], tmp_path: Path, signum: int, code: int
) -> None:
    out = tmp_path / "out.png"
    run = stylize_command(str(images["content"]), str(images["style"]), "-o", str(out), "--size", "48",
                          "--progress", "bars")  # fmt: skip
    process = start([*run, "--iterations", "100000"])
    read_stderr_until(process, rb"loss=")  # the bar shows losses once an iteration is done
    process.send_signal(signum)
    said = finish(process)
    name = signal.Signals(signum).name
    assert process.returncode == code, said
    assert f"stopped by {name}; unfinished image saved to {tmp_path / 'out.unfinished.png'}" in said
    kept = read_metadata(tmp_path / "out.unfinished.png")
    assert kept["unfinished"] is True and kept["iterations_done"] > 0 and not out.exists()
    total = kept["iterations_done"] + 3
    resumed = subprocess.run([*run, "--iterations", str(total)], capture_output=True, env=ENVIRONMENT, timeout=300)
    assert resumed.returncode == 0, resumed.stderr.decode()
    assert b"resuming from" in resumed.stderr
    assert read_metadata(out)["iterations_done"] == total
    assert not (tmp_path / "out.unfinished.png").exists()


def test_sigterm_on_a_folder_run_prints_the_summary_and_a_rerun_completes(
    stylize_command: Callable[..., list[str]], images: dict[str, Path], tmp_path: Path
) -> None:
    photos, out = photo_folder(tmp_path / "photos", 4, seed=70), tmp_path / "out"
    run = folder_run(stylize_command, photos, images["style"], out, 100, "bars")
    process = start(run)
    read_stderr_until(process, rb"(?s)files 1/4.*loss=")  # one picture written, the next one past its first iteration
    process.send_signal(signal.SIGTERM)
    said = finish(process)
    assert process.returncode == 143, said
    summary = re.search(r"(\d) done, 0 skipped, 0 failed, (\d) not started \(stopped by SIGTERM\)", said)
    assert summary and int(summary[1]) >= 1 and int(summary[1]) + int(summary[2]) == 4, said
    assert hidden(out) == [], "no part file may remain"
    unfinished = [name for name in visible(out) if ".unfinished." in name]
    assert len(unfinished) == 1, visible(out)
    done_before = read_metadata(out / unfinished[0])["iterations_done"]
    assert done_before > 0
    for name in visible(out):
        with Image.open(out / name) as image:
            image.load()
    rerun = subprocess.run(run, capture_output=True, env=ENVIRONMENT, timeout=300)
    assert rerun.returncode == 0, rerun.stderr.decode()
    assert b"resuming from" in rerun.stderr
    assert visible(out) == [f"p{i}_style.png" for i in range(4)]
    resumed = read_metadata(out / unfinished[0].replace(".unfinished", ""))["iterations_done"]
    assert resumed > done_before, "the resumed picture counts the killed run's iterations and its own"


def test_a_second_sigterm_during_the_save_does_not_cut_it_short(
    stylize_command: Callable[..., list[str]], images: dict[str, Path], tmp_path: Path
) -> None:
    """A large picture (slower to encode); the second signal comes while the first one's save runs."""
    for attempt, pause in enumerate((0.0, 0.02)):
        out = tmp_path / f"out{attempt}.png"
        process = start(stylize_command(str(images["content"]), str(images["style"]), "-o", str(out), "--size", "800",
                                        "--scales", "1", "--iterations", "100000", "--progress", "bars"))  # fmt: skip
        read_stderr_until(process, rb"loss=")
        process.send_signal(signal.SIGTERM)
        time.sleep(pause)
        process.send_signal(signal.SIGTERM)
        said = finish(process)
        assert process.returncode == 143, said
        with Image.open(tmp_path / f"out{attempt}.unfinished.png") as kept:
            kept.load()  # complete and decodable
            assert kept.size == (800, 600)
        assert hidden(tmp_path) == []


def limited_file_size(limit: int) -> Callable[[], None]:
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def folder_with_results(stylize_command: Callable[..., list[str]], images: dict[str, Path],
                        out: Path) -> tuple[list[str], dict[str, bytes]]:  # fmt: skip
    photos = photo_folder(out.parent / "photos", 3, seed=80)
    run = folder_run(stylize_command, photos, images["style"], out, 2, "lines")
    first = subprocess.run(run, capture_output=True, env=ENVIRONMENT, timeout=300)
    assert first.returncode == 0, first.stderr.decode()
    return run, {name: (out / name).read_bytes() for name in visible(out)}


def assert_stopped_at_the_first_write(said: str, returncode: int, cause: str, out: Path,
                                      before: dict[str, bytes]) -> None:  # fmt: skip
    assert returncode == 1, said
    errors = [line for line in said.splitlines() if line.startswith("stylize: error:")]
    assert len(errors) == 1 and cause in errors[0] and str(out) in errors[0], said
    assert f"0 done, 0 skipped, 1 failed, 2 not started (cannot write to {out})" in said
    assert hidden(out) == [], "the part file must be removed"
    after = {name: (out / name).read_bytes() for name in visible(out)}
    assert after == before, "earlier results must stay as they were"


def test_a_file_size_limit_stops_the_batch_at_the_first_failed_write(
    stylize_command: Callable[..., list[str]], images: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    run, before = folder_with_results(stylize_command, images, out)
    again = subprocess.run([*run, "--overwrite"], capture_output=True, env=ENVIRONMENT, timeout=300,
                           preexec_fn=limited_file_size(2000))  # fmt: skip
    assert_stopped_at_the_first_write(again.stderr.decode(), again.returncode, "File too large", out, before)


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_filesystem_stops_the_batch_at_the_first_failed_write(
    stylize_command: Callable[..., list[str]], images: dict[str, Path], small_filesystem: Path
) -> None:
    out = small_filesystem / "out"
    run, before = folder_with_results(stylize_command, images, out)
    with (small_filesystem / "filler").open("wb", buffering=0) as filler:  # fill what is left
        try:
            while filler.write(b"\0" * 4096):
                pass
        except OSError:
            pass
    again = subprocess.run([*run, "--overwrite"], capture_output=True, env=ENVIRONMENT, timeout=300)
    assert_stopped_at_the_first_write(again.stderr.decode(), again.returncode, "No space left on device", out, before)


def test_a_read_only_output_folder_is_found_before_any_work(
    stylize_command: Callable[..., list[str]], images: dict[str, Path], small_filesystem: Path
) -> None:
    (small_filesystem / "out").mkdir()
    remounted = subprocess.run(["mount", "-o", "remount,ro", str(small_filesystem)], capture_output=True)
    if remounted.returncode != 0:
        pytest.skip(f"cannot remount read-only: {remounted.stderr.decode().strip()}")
    for target in ("out/", "out/x.png", "new/"):
        ran = subprocess.run(stylize_command(str(images["content"]), str(images["style"]), "-o",
                                             str(small_filesystem / target)), capture_output=True, env=ENVIRONMENT,
                             timeout=120)  # fmt: skip
        said = ran.stderr.decode()
        assert ran.returncode == 1 and "Read-only file system" in said and "loss" not in said, said
        assert len(said.strip().splitlines()) == 1, said


def test_two_runs_on_one_folder_both_succeed_and_leave_only_whole_results(
    stylize_command: Callable[..., list[str]], images: dict[str, Path], tmp_path: Path
) -> None:
    photos, out = photo_folder(tmp_path / "photos", 4, seed=90), tmp_path / "out"
    run = folder_run(stylize_command, photos, images["style"], out, 8, "lines")
    first, second = start(run), start(run)
    said = [finish(first), finish(second)]
    assert (first.returncode, second.returncode) == (0, 0), said
    assert visible(out) == [f"p{i}_style.png" for i in range(4)] and hidden(out) == []
    for i in range(4):
        with Image.open(out / f"p{i}_style.png") as image:
            image.load()
        assert read_metadata(out / f"p{i}_style.png")["iterations_done"] == 8


PINNED = """
import sys, torch
from pathlib import Path
from stylize.config import Config
from stylize.network.devices import allowed_cpus
from stylize.network.layers import parse_layer_list
from stylize.network.loader import load_network

config = Config(weights=Path(sys.argv[1]), device="cpu", content_layers=parse_layer_list("relu2_1", "c"),
                style_layers=parse_layer_list("relu1_1,relu2_1", "s"))
load_network(config)  # what every run does first: it takes the threads the process may use
print(allowed_cpus(), torch.get_num_threads())
"""


def test_a_process_pinned_to_one_cpu_computes_on_one_thread(weights_file: Callable[[str, str], Path]) -> None:
    environment = {k: v for k, v in ENVIRONMENT.items() if k not in ("OMP_NUM_THREADS", "SLURM_CPUS_PER_TASK")}
    pinned = subprocess.run([sys.executable, "-c", PINNED, str(weights_file("vgg19", "relu2_1"))], capture_output=True,
                            env=environment, timeout=120, preexec_fn=lambda: os.sched_setaffinity(0, {0}))  # fmt: skip
    assert pinned.returncode == 0, pinned.stderr.decode()
    assert pinned.stdout.split() == [b"1", b"1"]
