"""The card photo check: a good portrait is accepted and fits the 4 KB slot; every refusal reason fires."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from biometrics.camera import Frame
from biometrics.photo import (
    CARD_PHOTO_MAX_BYTES,
    PhotoFormatError,
    PhotoIssue,
    check_photo,
    encode_portrait,
    find_faces,
)
from simulators.camera import CameraFault, scene

SUBJECTS = range(8)


def decode(jpeg: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None, "the portrait must be a decodable JPEG"
    return image


@pytest.mark.parametrize("seed", SUBJECTS)
def test_good_photo_is_accepted_and_fits_the_card(seed: int) -> None:
    check = check_photo(Frame(scene(seed, 0), time.monotonic()))
    assert check.ok, check.reasons
    assert check.reasons == ()
    assert 0 < len(check.jpeg) <= CARD_PHOTO_MAX_BYTES
    portrait = decode(check.jpeg)
    h, w = portrait.shape[:2]
    assert w * 4 == h * 3, "card portraits are 3:4"
    assert portrait.ndim == 3
    # The face survives the crop and the compression: the detector finds it again, centred.
    faces = find_faces(cv2.cvtColor(portrait, cv2.COLOR_BGR2GRAY))
    assert len(faces) == 1
    assert abs(faces[0].centre[0] - w / 2) < w * 0.1


def test_grey_portrait_is_smaller_and_single_channel() -> None:
    colour = check_photo(scene(1, 0))
    grey = check_photo(scene(1, 0), colour=False)
    assert grey.ok and decode(grey.jpeg).ndim == 2
    assert len(grey.jpeg) < len(colour.jpeg)


def test_a_tight_slot_lowers_quality_then_size() -> None:
    check = check_photo(scene(2, 0), max_bytes=1200)
    assert len(check.jpeg) <= 1200
    assert decode(check.jpeg).shape[0] <= 160
    with pytest.raises(ValueError):
        check_photo(scene(2, 0), max_bytes=100)


def test_noisy_crop_still_fits() -> None:
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (400, 300, 3), dtype=np.uint8)  # incompressible: the worst case
    assert len(encode_portrait(noise)) <= CARD_PHOTO_MAX_BYTES


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (CameraFault.NO_FACE, PhotoIssue.NO_FACE),
        (CameraFault.TWO_FACES, PhotoIssue.SEVERAL_FACES),
        (CameraFault.OFF_CENTRE, PhotoIssue.OFF_CENTRE),
        (CameraFault.BLURRED, PhotoIssue.OUT_OF_FOCUS),
        (CameraFault.DARK, PhotoIssue.TOO_DARK),
        (CameraFault.OVEREXPOSED, PhotoIssue.TOO_BRIGHT),
        (CameraFault.SIDE_LIT, PhotoIssue.UNEVEN_LIGHT),
    ],
)
def test_each_refusal_reason(fault: CameraFault, reason: PhotoIssue) -> None:
    for seed in (3, 4):
        check = check_photo(scene(seed, 0, fault))
        assert not check.ok
        assert reason in check.reasons, (seed, check.reasons)
        if reason in (PhotoIssue.NO_FACE, PhotoIssue.SEVERAL_FACES):
            assert check.jpeg == b"" and check.face is None
        elif check.face is not None:
            assert len(check.jpeg) <= CARD_PHOTO_MAX_BYTES  # shown to the operator, not stored


def test_a_good_photo_has_only_the_fault_it_was_given() -> None:
    assert check_photo(scene(5, 0, CameraFault.OFF_CENTRE)).reasons == (PhotoIssue.OFF_CENTRE,)
    assert check_photo(scene(5, 0, CameraFault.BLURRED)).reasons == (PhotoIssue.OUT_OF_FOCUS,)
    assert check_photo(scene(5, 0, CameraFault.SIDE_LIT)).reasons == (PhotoIssue.UNEVEN_LIGHT,)


def test_face_near_the_edge_is_padded_not_cut() -> None:
    check = check_photo(scene(6, 0, CameraFault.OFF_CENTRE))
    assert check.face is not None and check.face.x < 100
    portrait = decode(check.jpeg)
    assert portrait.shape[1] * 4 == portrait.shape[0] * 3


def test_grey_input_is_accepted() -> None:
    grey = cv2.cvtColor(scene(0, 0), cv2.COLOR_BGR2GRAY)
    assert check_photo(grey).ok


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((480, 640, 3), np.float32),
        np.zeros((480, 640, 4), np.uint8),
        np.zeros((32, 32, 3), np.uint8),
        "photo.jpg",
    ],
)
def test_bad_input_is_refused_clearly(bad: object) -> None:
    with pytest.raises(PhotoFormatError):
        check_photo(bad)  # type: ignore[arg-type]
