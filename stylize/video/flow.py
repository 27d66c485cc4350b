"""Optical flow between two frames, where it can be trusted, and warping a picture along it.

The flow is OpenCV's DIS (Kroeger et al., "Fast Optical Flow using Dense Inverse Search", 2016):
dense, sub-pixel, a few milliseconds for a 256 px frame on one core, and in the field-standard
library (`opencv-python-headless`, the extra `neural-stylize[video]`). Which pixels to trust follows
Ruder, Dosovitskiy and Brox (2016): the flow is computed both ways; where the backward flow and the
forward flow at the point it leads to do not cancel, the pixel was hidden in the previous frame
(an occlusion), and where the flow changes sharply it sits on a motion boundary; both get
confidence 0, as do pixels whose flow leads out of the previous frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import SettingsError
from ..version import install_hint

# Ruder et al.'s thresholds (their eq. 3 and 4), flow in pixels.
OCCLUSION_RELATIVE, OCCLUSION_ABSOLUTE = 0.01, 0.5
BOUNDARY_RELATIVE, BOUNDARY_ABSOLUTE = 0.01, 0.002

Array = np.ndarray[Any, Any]


def _cv2() -> Any:
    try:
        import cv2
    except ImportError:
        raise SettingsError("--video needs OpenCV for optical flow", hint=install_hint("video")) from None
    return cv2


def check_flow_library() -> None:
    """SettingsError (with the install command) where OpenCV is missing, before any work."""
    _cv2()


@dataclass(frozen=True)
class FramePair:
    """The flow between a previous and a current frame (H, W, 2 in pixels, x then y), both ways."""

    forward: Array  # previous -> current: previous pixel p is at p + forward[p] in the current frame
    backward: Array  # current -> previous: current pixel x was at x + backward[x] in the previous frame

    def confidence(self) -> Array:
        """(H, W) float32: 1 where the previous frame's picture warped here can be trusted, else 0."""
        height, width = self.backward.shape[:2]
        grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
        to_x, to_y = grid_x + self.backward[..., 0], grid_y + self.backward[..., 1]
        inside = (to_x >= 0) & (to_x <= width - 1) & (to_y >= 0) & (to_y <= height - 1)
        there = warp(self.forward, self.backward)  # the forward flow at the point each pixel came from
        round_trip = ((there + self.backward) ** 2).sum(axis=2)
        lengths = (there**2).sum(axis=2) + (self.backward**2).sum(axis=2)
        occluded = round_trip > OCCLUSION_RELATIVE * lengths + OCCLUSION_ABSOLUTE
        return np.asarray(inside & ~occluded & ~self._boundaries(), dtype=np.float32)

    def _boundaries(self) -> Array:
        grad_u = np.gradient(self.backward[..., 0])
        grad_v = np.gradient(self.backward[..., 1])
        change = sum(g**2 for g in (*grad_u, *grad_v))
        return np.asarray(change > BOUNDARY_RELATIVE * (self.backward**2).sum(axis=2) + BOUNDARY_ABSOLUTE)


def frame_flow(previous: Array, current: Array) -> FramePair:
    """DIS flow both ways between two RGB frames (H, W, 3) uint8 of one size."""
    cv2 = _cv2()
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    first, second = (cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY) for f in (previous, current))
    forward = dis.calc(first, second, None)
    backward = dis.calc(second, first, None)
    return FramePair(forward.astype(np.float32), backward.astype(np.float32))


def warp(picture: Array, flow: Array) -> Array:
    """`picture` (H, W, C) float32 seen from the other frame of `flow` (H, W, 2): out[x] = picture[x + flow[x]]
    (bilinear; outside the picture, its nearest edge)."""
    cv2 = _cv2()
    height, width = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    map_x, map_y = grid_x + flow[..., 0], grid_y + flow[..., 1]
    out = cv2.remap(np.ascontiguousarray(picture, dtype=np.float32), map_x, map_y, cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    return np.asarray(out).reshape(picture.shape)
