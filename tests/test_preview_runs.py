"""--preview in real runs: its flags, and a run steered over HTTP (a weight, stop and keep, skip, a closed page)."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import TINY_LAYERS, Run, photo_folder, read_stderr_until
from PIL import Image

from stylize.io.metadata import read_metadata

pytest.importorskip("uvicorn", reason="the preview extra is not installed")
ENVIRONMENT = {**os.environ, "PYTHONWARNINGS": "ignore"}
URL = rb"live preview at (http://\S+)"


def test_a_run_with_a_preview_prints_its_address_and_makes_the_picture(run: Run, tmp_path: Path) -> None:
    result = run("--preview", "0", "--progress", "none")
    assert result.exit_code == 0, result.stderr
    found = re.search(r"live preview at http://127\.0\.0\.1:(\d+)/\?token=([\w-]{20,})", result.stderr)
    assert found and int(found.group(1)) > 0
    assert (tmp_path / "out.png").exists()
    assert "steered" not in read_metadata(tmp_path / "out.png"), "nothing was steered"


@pytest.mark.parametrize(("flags", "message"), [(["--preview", "nope"], "not a port"),
                                                (["--preview", "99999"], "not a port"),
                                                (["--preview-keep"], "needs --preview")])  # fmt: skip
def test_bad_preview_flags_are_usage_errors(run: Run, tmp_path: Path, flags: list[str], message: str) -> None:
    result = run(*flags)
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out.png").exists()


def test_a_port_in_use_is_a_usage_error_before_any_work(run: Run, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run("--preview", str(taken.getsockname()[1]))
    assert result.exit_code == 2 and "cannot listen there" in result.stderr and "--preview 0" in result.stderr
    assert not (tmp_path / "out.png").exists()


def test_listening_on_every_interface_warns(run: Run) -> None:
    result = run("--preview", "0.0.0.0:0", "--progress", "none")
    assert result.exit_code == 0 and "anyone on the network" in result.stderr


# Real processes: the run is steered over HTTP while it works.


class Page:
    """A running `stylize --preview 0` and what a browser would send it."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        found = re.search(URL, read_stderr_until(process, URL, 120))
        assert found
        self.url = found.group(1).decode()
        self.base, self.token = self.url.split("/?token=")

    def control(self, **body: object) -> dict[str, object]:
        request = urllib.request.Request(f"{self.base}/control?token={self.token}", json.dumps(body).encode(),
                                         {"Content-Type": "application/json"})  # fmt: skip
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())  # type: ignore[no-any-return]

    def first_event(self) -> dict[str, object]:
        """Open the event stream, read one event, and hang up (as a closed tab does)."""
        address = urllib.parse.urlsplit(self.base)
        connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)
        try:
            connection.request("GET", f"/events?token={self.token}")
            stream = connection.getresponse()
            for line in stream:
                if line.startswith(b"data:"):
                    return json.loads(line[5:])  # type: ignore[no-any-return]
        finally:
            connection.close()
        raise AssertionError("no event")

    def finish(self) -> str:
        _, rest = self.process.communicate(timeout=120)
        return rest.decode(errors="replace")


@pytest.fixture
def page(weights_file: Callable[[str, str], Path], images: dict[str, Path]) -> Iterator[Callable[..., Page]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> Page:
        command = [sys.executable, "-m", "stylize", "--size", "48", *args,
                   str(images["style"]) if "-s" not in args else "", "--weights", str(weights_file("vgg19", "relu2_1")),
                   *TINY_LAYERS, "--device", "cpu", "--progress", "lines", "--preview", "0"]  # fmt: skip
        process = subprocess.Popen([c for c in command if c], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   env=ENVIRONMENT)  # fmt: skip
        started.append(process)
        return Page(process)

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.mark.slow
def test_a_weight_changed_over_http_is_used_and_recorded(page: Callable[..., Page], images: dict[str, Path],
                                                         tmp_path: Path) -> None:  # fmt: skip
    out = tmp_path / "out.png"
    live = page(str(images["content"]), "-o", str(out), "--iterations", "400", "--scales", "1")
    assert live.control(action="pause")["paused"] is True
    with pytest.raises(urllib.error.HTTPError) as refused:
        live.control(action="weight", name="style", value=-3)
    assert refused.value.code == 400 and "--style-weight must be" in refused.value.read().decode()
    refused.value.close()
    assert live.control(action="weight", name="style", value=42)["value"] == 42.0
    live.control(action="resume")
    rest = live.finish()
    assert live.process.returncode == 0, rest
    steered = read_metadata(out)["steered"]
    assert [(c["weight"], c["value"]) for c in steered] == [("style", 42.0)] and 0 <= steered[0]["iteration"] < 400
    inspected = subprocess.run([sys.executable, "-m", "stylize", "--inspect", str(out)], capture_output=True,
                               text=True, env=ENVIRONMENT, check=True)  # fmt: skip
    assert '"steered"' in inspected.stdout and '"value": 42.0' in inspected.stdout


@pytest.mark.slow
def test_stop_and_keep_writes_the_picture_as_it_is(page: Callable[..., Page], images: dict[str, Path],
                                                   tmp_path: Path) -> None:  # fmt: skip
    out = tmp_path / "out.png"
    live = page(str(images["content"]), "-o", str(out), "--iterations", "5000", "--scales", "2", "--size", "64")
    live.control(action="pause")
    live.control(action="stop")
    rest = live.finish()
    assert live.process.returncode == 0, rest
    assert "stopped from the preview page" in rest
    made = read_metadata(out)
    assert 0 <= made["iterations_done"] < 5000  # stopped while paused: perhaps before its first iteration
    with Image.open(out) as image, Image.open(images["content"]) as photo:
        assert max(image.size) == 64 and image.size[0] / image.size[1] == pytest.approx(photo.size[0] / photo.size[1],
                                                                                           rel=0.05)  # fmt: skip


@pytest.mark.slow
def test_skip_leaves_a_picture_unwritten_and_goes_on_with_the_next(page: Callable[..., Page], images: dict[str, Path],
                                                                   tmp_path: Path) -> None:  # fmt: skip
    photos, out = photo_folder(tmp_path / "photos", 2, seed=3), tmp_path / "out"
    live = page(str(photos), "-s", str(images["style"]), "-o", str(out), "--iterations", "4000", "--scales", "1")
    live.control(action="pause")
    live.control(action="skip")
    first = live.first_event()
    assert first["jobs"] == 2
    rest = live.finish()
    assert live.process.returncode == 0, rest
    assert "skipped" in rest and "skipped from the preview page" in rest
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["p1_style.png"]
    assert read_metadata(out / "p1_style.png")["iterations_done"] == 4000 or "converged" in rest


@pytest.mark.slow
def test_a_page_that_connects_and_goes_away_changes_nothing_in_the_run(
    page: Callable[..., Page], run: Run, images: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "watched.png"
    live = page(str(images["content"]), "-o", str(out), "--iterations", "60", "--scales", "1", "--size", "40")
    for _ in range(3):  # a tab opened and closed, three times
        event = live.first_event()
        assert event["jobs"] == 1
    rest = live.finish()
    assert live.process.returncode == 0, rest
    alone = run("--iterations", "60", "--scales", "1", out="alone.png")  # the same run, no page
    assert alone.exit_code == 0
    watched, unwatched = read_metadata(out), read_metadata(tmp_path / "alone.png")
    assert watched["iterations_done"] == unwatched["iterations_done"]
    assert watched["final_loss"] == unwatched["final_loss"]
    with Image.open(out) as one, Image.open(tmp_path / "alone.png") as other:
        assert one.tobytes() == other.tobytes(), "the same picture, to the pixel"
