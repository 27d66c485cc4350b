"""Optical flow (OpenCV DIS), where it can be trusted, warping, and a frame's anchor, on clips of known motion."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from video_clips import SHIFT, panning_clip, texture

from stylize.video.anchor import frame_anchor
from stylize.video.flow import FramePair, frame_flow, warp

pytest.importorskip("cv2")


def within(flow: np.ndarray, expected: tuple[int, int], tolerance: float = 0.5) -> float:
    """The share of pixels whose flow is within `tolerance` px of `expected`."""
    error = np.hypot(flow[..., 0] - expected[0], flow[..., 1] - expected[1])
    return float((error <= tolerance).mean())


def check_clip_flow(frames: list[Image.Image]) -> None:
    dx, dy = SHIFT
    for before, now in itertools.pairwise(frames):
        pair = frame_flow(np.asarray(before), np.asarray(now))
        assert within(pair.backward, (dx, dy)) >= 0.9  # each pixel came from SHIFT further on
        assert within(pair.forward, (-dx, -dy)) >= 0.9


def test_flow_of_a_panning_window_over_a_shared_photo_is_the_true_shift(shared_images: Path) -> None:
    with Image.open(shared_images / "tubingen.jpg") as photo:
        frames = panning_clip(photo.convert("RGB"), 24)
    assert frames[0].size == (256, 192) and len(frames) == 24
    check_clip_flow(frames)


def test_flow_of_a_panning_window_over_a_texture_is_the_true_shift() -> None:
    check_clip_flow(panning_clip(texture(400, 300), 6))


def test_a_still_clip_has_no_flow_and_is_trusted_everywhere() -> None:
    frame = np.asarray(texture(96, 64))
    pair = frame_flow(frame, frame)
    assert within(pair.backward, (0, 0), 0.1) > 0.99
    assert pair.confidence().mean() > 0.99


def test_what_enters_at_the_edge_is_not_trusted() -> None:
    frames = panning_clip(texture(400, 300), 2)
    confidence = frame_flow(np.asarray(frames[0]), np.asarray(frames[1])).confidence()
    dx, dy = SHIFT
    assert confidence[:, -dx:].max() == 0  # new columns at the right: nothing to carry over
    assert confidence[-dy:, :].max() == 0
    assert confidence[20:-20, 20:-20].mean() > 0.95


def test_what_a_moving_square_uncovers_is_an_occlusion() -> None:
    background = np.asarray(texture(128, 96, seed=1))
    square = np.asarray(texture(32, 32, seed=2))
    before, now = background.copy(), background.copy()
    before[30:62, 30:62] = square
    now[30:62, 40:72] = square  # the square moves 10 px right; 30..40 shows background again
    confidence = frame_flow(before, now).confidence()
    uncovered = confidence[34:58, 31:39]
    assert uncovered.mean() < 0.3, uncovered.mean()
    assert confidence[5:25, 5:120].mean() > 0.9  # still background far from the square


def test_warp_by_a_whole_pixel_shift_moves_the_picture_exactly() -> None:
    picture = np.asarray(texture(64, 48), dtype=np.float32)
    flow = np.zeros((48, 64, 2), np.float32)
    flow[..., 0], flow[..., 1] = 3, 1
    moved = warp(picture, flow)
    np.testing.assert_allclose(moved[:-1, :-3], picture[1:, 3:])


def test_round_trip_that_does_not_cancel_is_occluded() -> None:
    backward = np.zeros((16, 16, 2), np.float32)
    forward = np.zeros((16, 16, 2), np.float32)
    backward[..., 0], forward[..., 0] = 2.0, -2.0  # consistent
    assert FramePair(forward, backward).confidence()[:, :13].min() == 1
    forward[..., 0] = 2.0  # goes the same way back: no correspondence
    assert FramePair(forward, backward).confidence().max() == 0


def test_anchor_carries_the_last_picture_along_the_motion() -> None:
    frames = panning_clip(texture(400, 300), 2, size=(128, 96))
    painted = Image.fromarray(np.asarray(texture(128, 96, seed=5)))  # stands for the stylised previous frame
    anchor = frame_anchor(frames[0], frames[1], painted)
    assert anchor.image.shape == (1, 3, 96, 128) and anchor.confidence.shape == (1, 1, 96, 128)
    dx, dy = SHIFT
    expected = torch.from_numpy(np.asarray(painted, dtype=np.float32) / 255).permute(2, 0, 1)[:, dy:, dx:]
    got = anchor.image[0, :, : 96 - dy, : 128 - dx]
    trusted = anchor.confidence[0, :, : 96 - dy, : 128 - dx] > 0
    assert trusted.float().mean() > 0.9
    assert (got - expected).abs()[trusted.expand_as(got)].mean() < 0.02
