"""A frame's anchor: the previous frame's picture warped into it along the flow, and where to trust it."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from ..io.tensors import resize_exact
from ..losses.temporal import Anchor
from .flow import frame_flow, warp


def frame_anchor(previous: Image.Image, current: Image.Image, picture: Image.Image) -> Anchor:
    """`picture` (the previous frame stylised) seen from `current`: the flow is found between the two
    input frames at the picture's size (what the optimiser sees), both ways; the anchor's confidence is
    0 where the current frame shows what the previous one hid, on motion boundaries and at new edges."""
    width, height = picture.size
    before, now = (np.asarray(resize_exact(frame.convert("RGB"), height, width)) for frame in (previous, current))
    pair = frame_flow(before, now)
    painted = np.asarray(picture.convert("RGB"), dtype=np.float32) / 255.0
    warped = np.clip(warp(painted, pair.backward), 0.0, 1.0)
    image = torch.from_numpy(np.ascontiguousarray(warped.transpose(2, 0, 1)))[None]
    confidence = torch.from_numpy(pair.confidence())[None, None]
    return Anchor(image.float(), confidence.float())
