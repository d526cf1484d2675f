"""What the simulated camera sees: a person, nobody, two people, or a badly taken picture."""

from __future__ import annotations

import enum

import cv2
import numpy as np

from simulators.camera.faces import FRAME_SIZE, Look, _background, _light, draw_person, shade_and_noise


class CameraFault(enum.Enum):
    NONE = "none"
    NO_FACE = "no face"  # the member stepped away
    TWO_FACES = "two faces"  # a relative leaning into the picture
    OFF_CENTRE = "off centre"
    DARK = "dark"  # evening, no lamp
    OVEREXPOSED = "overexposed"  # sun through the door behind the camera
    SIDE_LIT = "side lit"  # a window on one side
    BLURRED = "blurred"  # out of focus or moving


def scene(seed: int, frame: int, fault: CameraFault = CameraFault.NONE) -> np.ndarray:
    """Frame ``frame`` of person ``seed`` in front of the camera, spoiled as ``fault`` says (BGR uint8)."""
    look = Look.of(seed)
    rng = np.random.default_rng([0xCA3, seed, frame])
    w, h = FRAME_SIZE
    img = _background(look, rng)
    sway = rng.normal(0.0, 1.5, 2)
    if fault is CameraFault.TWO_FACES:
        other = Look.of(seed ^ 0x5EC0D)
        for x, person in ((0.3, look), (0.7, other)):
            draw_person(img, person, w * x + sway[0], h * 0.46 + sway[1], scale=0.85)
            _light(img, person, w * x, h * 0.46, scale=0.85)
    elif fault is not CameraFault.NO_FACE:
        cx = w * (0.2 if fault is CameraFault.OFF_CENTRE else 0.5) + sway[0]
        cy = h * 0.44 + sway[1]
        draw_person(img, look, cx, cy)
        _light(img, look, cx, cy)
    img *= float(rng.uniform(0.97, 1.03))  # auto-exposure flicker
    if fault is CameraFault.DARK:
        img *= 0.16
    elif fault is CameraFault.OVEREXPOSED:
        img = img * 2.0 + 70
    elif fault is CameraFault.SIDE_LIT:
        # A window on the left: the far half of the face falls into shadow.
        xs = np.arange(w, dtype=np.float32)
        img *= (0.3 + 0.95 / (1.0 + np.exp((xs - w / 2) / 30.0)))[None, :, None]
    elif fault is CameraFault.BLURRED:
        img = cv2.GaussianBlur(img, (0, 0), 4.5)
    return shade_and_noise(np.clip(img, 0, 255), rng)
