"""What the page's buttons and sliders do: requests checked like the CLI's flags, then handed to the run.

Each request is a JSON object with an `action`; the answer is (HTTP status, JSON object) with a
`message` the page shows. A bad request is refused with a message, never a crash of the run.
"""

from __future__ import annotations

from typing import Any

from PIL import Image

from ..errors import ImageError, SettingsError
from ..io.saving import save_image
from ..io.tensors import to_tensor
from ..optimize.steering import Steering
from .state import LiveState

ACTIONS = ("weight", "pause", "resume", "snapshot", "stop", "skip")
Answer = tuple[int, dict[str, Any]]


class Controls:
    def __init__(self, steering: Steering, state: LiveState, refusal: str | None = None) -> None:
        self.steering, self.state, self.refusal = steering, state, refusal  # refusal: why no control is taken

    def act(self, body: object) -> Answer:
        """Carry out one request from the page."""
        if self.refusal is not None:
            return 409, {"message": self.refusal}
        if not isinstance(body, dict) or body.get("action") not in ACTIONS:
            return 400, {"message": f"a control is a JSON object with an action: one of {', '.join(ACTIONS)}"}
        action = body["action"]
        try:
            if action == "weight":
                return self._weight(body)
            if action == "snapshot":
                return self._snapshot()
            return self._flow(action)
        except SettingsError as err:
            return 400, {"message": str(err)}
        except ImageError as err:
            return 500, {"message": str(err)}

    def _weight(self, body: dict[str, Any]) -> Answer:
        name = body.get("name")
        value = self.steering.set_weight(str(name), body.get("value"))
        self.state.say(f"{name} weight -> {value:g} (from the next iteration)")
        return 200, {"message": f"{name} weight set to {value:g}", "value": value}

    def _flow(self, action: str) -> Answer:
        if action == "skip" and self.state.jobs == 1:
            return 400, {"message": "nothing to skip to: this run makes one picture (stop and keep it instead)"}
        if action == "pause":
            self.steering.pause()
        elif action == "resume":
            self.steering.resume()
        else:
            self.steering.stop(skip=action == "skip")
        self.state.set_paused(self.steering.paused)
        said = {"pause": "paused", "resume": "resumed", "stop": "stopping: this picture is kept as it is",
                "skip": "skipping this picture (not written)"}[action]  # fmt: skip
        self.state.say(said)
        return 200, {"message": said, "paused": self.steering.paused}

    def _snapshot(self) -> Answer:
        image, output, done = self.state.latest()
        if image is None or output is None:
            return 409, {"message": "no picture yet: wait for the first iteration"}
        path = output.with_name(f"{output.stem}.snapshot-{done:04d}{output.suffix}")
        save_image(to_tensor(Image.fromarray(image, mode="RGB")), path)
        self.state.say(f"snapshot saved to {path}")
        return 200, {"message": f"snapshot saved to {path}", "path": str(path)}
