"""--preview without a browser: the address, the token on every request, the controls and what the page is sent."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from PIL import Image

from stylize.errors import SettingsError
from stylize.optimize.steering import Steering
from stylize.preview.address import exposure_warning, parse_address
from stylize.preview.controls import Controls
from stylize.preview.state import LiveState

pytest.importorskip("starlette", reason="the preview extra is not installed")
from starlette.testclient import TestClient

from stylize.preview.server import build_app

TOKEN = "secret-token"


@pytest.mark.parametrize(("text", "expected"), [("8000", ("127.0.0.1", 8000)), ("0", ("127.0.0.1", 0)),
                                                ("0.0.0.0:8080", ("0.0.0.0", 8080)), ("[::1]:9000", ("::1", 9000)),
                                                ("localhost:1", ("localhost", 1))])  # fmt: skip
def test_an_address_is_a_port_with_an_optional_host(text: str, expected: tuple[str, int]) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["", "x", "70000", "-1", "host:", "host:port"])
def test_a_bad_address_is_a_usage_error(text: str) -> None:
    with pytest.raises(SettingsError, match="not a port"):
        parse_address(text)


def test_listening_beyond_this_machine_is_warned_about() -> None:
    assert exposure_warning("127.0.0.1") is None and exposure_warning("localhost") is None
    assert exposure_warning("::1") is None
    warning = exposure_warning("0.0.0.0")
    assert warning is not None and "anyone on the network" in warning and "ssh -L" in warning


@pytest.fixture
def live(tmp_path: Path) -> tuple[TestClient, LiveState, Steering]:
    state, steering = LiveState(2, 10, {"content": 1.0, "style": 5.0, "tv": 0.0}), Steering()
    client = TestClient(build_app(state, Controls(steering, state), TOKEN))
    for name in ("photo.png", "style.png"):
        Image.new("RGB", (64, 48), (200, 30, 30)).save(tmp_path / name)
    state.begin(0, tmp_path / "photo.png", (tmp_path / "style.png",), tmp_path / "out.png")
    return client, state, steering


def step(state: LiveState, iteration: int, style: float = 0.5) -> None:
    image = torch.full((1, 3, 12, 16), iteration / 100)
    state.step(iteration, (1.0, 0.5, style, 0.0), image, {"iteration": iteration}, {"style": 5.0}, last=True)


@pytest.mark.parametrize("path", ["/", "/events", "/image/current", "/image/content", "/nope"])
@pytest.mark.parametrize("token", [None, "", "wrong", TOKEN + "x"])
def test_every_request_without_the_token_gets_403(live: tuple[TestClient, LiveState, Steering], path: str,
                                                 token: str | None) -> None:  # fmt: skip
    client = live[0]
    answer = client.get(path, params={"token": token} if token is not None else None)
    assert answer.status_code == 403 and "token" in answer.text


def test_controls_without_the_token_change_nothing(live: tuple[TestClient, LiveState, Steering]) -> None:
    client, _, steering = live
    assert client.post("/control", json={"action": "weight", "name": "style", "value": 9}).status_code == 403
    assert client.post("/control?token=no", json={"action": "pause"}).status_code == 403
    assert steering.weights() == {} and not steering.paused


def test_the_page_works_offline_and_asks_nothing_without_the_token(
    live: tuple[TestClient, LiveState, Steering],
) -> None:
    client = live[0]
    answer = client.get("/", params={"token": TOKEN})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    page = answer.text
    assert "new EventSource(withToken(" in page and "getContext(\"2d\")" in page  # the script and style are inlined
    assert not re.search(r"""(src|href)=["'](?!data:)""", page), "every file of the page is in the page itself"
    assert "http://" not in page and "https://" not in page


def test_the_header_token_works_too(live: tuple[TestClient, LiveState, Steering]) -> None:
    client = live[0]
    assert client.get("/image/content", headers={"X-Stylize-Token": TOKEN}).status_code == 200


def test_images_are_the_pictures_own_and_nothing_else(live: tuple[TestClient, LiveState, Steering]) -> None:
    client, state, _ = live
    assert client.get("/image/current", params={"token": TOKEN}).status_code == 204  # no iteration yet
    step(state, 3)
    answer = client.get("/image/current", params={"token": TOKEN})
    assert answer.status_code == 200 and answer.content.startswith(b"\x89PNG")
    assert client.get("/image/content", params={"token": TOKEN}).content.startswith(b"\x89PNG")
    for other in ("..%2F..%2Fetc%2Fpasswd", "out.png", "photo.png"):
        assert client.get(f"/image/{other}", params={"token": TOKEN}).status_code == 404


def control(client: TestClient, body: object) -> tuple[int, dict[str, object]]:
    answer = client.post("/control", params={"token": TOKEN}, content=json.dumps(body))
    return answer.status_code, answer.json()


@pytest.mark.parametrize("value", [-1, "-0.5", "nan", "inf", "lots", None])
def test_a_bad_weight_is_refused_with_a_message_and_changes_nothing(
    live: tuple[TestClient, LiveState, Steering], value: object
) -> None:
    client, _, steering = live
    status, answer = control(client, {"action": "weight", "name": "style", "value": value})
    assert status == 400 and "--style-weight must be" in str(answer["message"])
    assert steering.weights() == {}


@pytest.mark.parametrize("body", [None, [], "pause", {"action": "explode"}, {"no": "action"}])
def test_a_request_that_is_not_a_control_is_refused(live: tuple[TestClient, LiveState, Steering], body: object) -> None:
    status, answer = control(live[0], body)
    assert status == 400 and "action" in str(answer["message"])


def test_malformed_json_is_refused(live: tuple[TestClient, LiveState, Steering]) -> None:
    answer = live[0].post("/control", params={"token": TOKEN}, content=b"{not json")
    assert answer.status_code == 400


def test_controls_reach_the_run(live: tuple[TestClient, LiveState, Steering]) -> None:
    client, state, steering = live
    assert control(client, {"action": "weight", "name": "style", "value": "12.5"})[0] == 200
    assert steering.weights() == {"style": 12.5}
    assert control(client, {"action": "pause"}) == (200, {"message": "paused", "paused": True})
    assert steering.paused and state.paused
    assert control(client, {"action": "resume"})[1]["paused"] is False
    assert control(client, {"action": "skip"})[0] == 200 and steering.skipping
    assert "style weight -> 12.5 (from the next iteration)" in state.messages


def test_skip_is_refused_when_there_is_nothing_to_skip_to(tmp_path: Path) -> None:
    state, steering = LiveState(1, 10, {}), Steering()
    status, answer = Controls(steering, state).act({"action": "skip"})
    assert status == 400 and "stop and keep" in answer["message"] and not steering.skipping


def test_a_snapshot_saves_the_current_picture_beside_the_output(live: tuple[TestClient, LiveState, Steering],
                                                              tmp_path: Path) -> None:  # fmt: skip
    client, state, _ = live
    assert control(client, {"action": "snapshot"})[0] == 409
    step(state, 7)
    status, answer = control(client, {"action": "snapshot"})
    assert status == 200 and answer["path"] == str(tmp_path / "out.snapshot-0007.png")
    with Image.open(tmp_path / "out.snapshot-0007.png") as saved:
        assert saved.size == (16, 12) and saved.getpixel((0, 0)) == (18, 18, 18)


def test_the_page_is_sent_new_loss_points_only_and_all_of_them_for_a_new_picture(tmp_path: Path) -> None:
    state = LiveState(3, 10, {})
    state.begin(0, tmp_path / "a.png", (tmp_path / "s.png",), tmp_path / "a-out.png")
    for i in (1, 2, 3):
        step(state, i)
    first, seen = state.view(None)
    assert first["reset"] and [p[0] for p in first["history"]] == [1, 2, 3]
    step(state, 4)
    second, seen = state.view(seen)
    assert not second["reset"] and [p[0] for p in second["history"]] == [4]
    state.begin(1, tmp_path / "b.png", (tmp_path / "s.png",), tmp_path / "b-out.png")
    step(state, 1)
    third, _ = state.view(seen)
    assert third["reset"] and [p[0] for p in third["history"]] == [1] and third["picture"]["content"] == "b.png"


def test_the_picture_is_copied_at_most_a_few_times_a_second(tmp_path: Path) -> None:
    state = LiveState(1, 100, {})
    state.begin(0, tmp_path / "a.png", (tmp_path / "s.png",), tmp_path / "a-out.png")
    image = torch.zeros(1, 3, 8, 8)
    for i in range(1, 51):
        state.step(i, (1.0, 1.0, 1.0, 0.0), image, {}, None, last=False)
    assert state.image_version <= 3  # begin, the first step, perhaps one more: not 50
    assert len(state.view(None)[0]["history"]) == 50  # but every loss point is kept


def test_a_steered_weight_is_marked_where_the_run_took_it(tmp_path: Path) -> None:
    state = LiveState(1, 100, {"content": 1.0, "style": 5.0, "tv": 0.0})
    state.begin(0, tmp_path / "a.png", (tmp_path / "s.png",), tmp_path / "a-out.png")
    image = torch.zeros(1, 3, 8, 8)
    for i, style in ((1, 5.0), (2, 5.0), (3, 40.0), (4, 40.0)):
        state.step(i, (1.0, 1.0, 1.0, 0.0), image, {}, {"content": 1.0, "style": style, "tv": 0.0}, last=False)
    data = state.view(None)[0]
    assert data["picture"]["marks"] == [[2, "style 40"]] and data["weights"]["style"] == 40.0
