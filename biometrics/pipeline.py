"""Fingerprint feature extraction, read as a table of contents.

    image ─► working image (500 dpi) ─► segmentation mask ─► orientation field ─► ridge frequency
          ─► enhanced image ─► skeleton ─► minutiae ─┐
          ─► directional image ─► directional skeleton ─► directional minutiae ─┴► all minutiae ─► template

The enhanced image's minutiae are reliable but incomplete; the directional image finds most of the
ones it misses, and those are added (``stages.minutiae.add_missing``).

Each stage lives in ``biometrics.stages.<name>`` and is named for what it produces. ``inspect``, if
given, is called as ``inspect(stage_name, output)`` after every stage, for debugging and golden tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from biometrics.errors import NoFingerError
from biometrics.minutiae import FingerprintTemplate, Minutia, MinutiaType
from biometrics.stages.directional import directional_image
from biometrics.stages.enhancement import enhanced_image
from biometrics.stages.frequency import ridge_frequency
from biometrics.stages.image import working_image
from biometrics.stages.minutiae import DetectedMinutiae, add_missing, detect_minutiae
from biometrics.stages.orientation import orientation_field
from biometrics.stages.segmentation import segmentation_mask
from biometrics.stages.skeleton import ridge_skeleton

Inspector = Callable[[str, Any], None]

STAGES = (
    "working_image",
    "segmentation_mask",
    "orientation_field",
    "ridge_frequency",
    "enhanced_image",
    "skeleton",
    "minutiae",
    "directional_image",
    "directional_skeleton",
    "directional_minutiae",
    "all_minutiae",
    "template",
)


def extract(image: np.ndarray, dpi: int = 500, inspect: Inspector | None = None) -> FingerprintTemplate:
    """Minutiae of one fingerprint image (uint8 greyscale) at ``dpi``, in that image's pixel coordinates.

    Raises ``ImageFormatError`` for unusable arrays and ``NoFingerError`` when no print is found.
    """
    show = inspect or _ignore
    work = working_image(image, dpi)
    show("working_image", work)
    segmentation = segmentation_mask(work.pixels)
    show("segmentation_mask", segmentation)
    if not segmentation.mask.any():
        raise NoFingerError("no fingerprint found in the image; place the finger flat on the sensor and retry")
    orientation = orientation_field(segmentation.band, segmentation.mask)
    show("orientation_field", orientation)
    frequency = ridge_frequency(segmentation.band, orientation, segmentation.mask)
    show("ridge_frequency", frequency)
    enhanced = enhanced_image(segmentation.band, segmentation.contrast, orientation, frequency, segmentation.mask)
    show("enhanced_image", enhanced)
    skeleton = ridge_skeleton(enhanced, segmentation.mask)
    show("skeleton", skeleton)
    minutiae = detect_minutiae(skeleton, segmentation, orientation, frequency.period)
    show("minutiae", minutiae)
    directional = directional_image(segmentation.band, segmentation.contrast, orientation, segmentation.mask)
    show("directional_image", directional)
    directional_skeleton = ridge_skeleton(directional, segmentation.mask)
    show("directional_skeleton", directional_skeleton)
    more = detect_minutiae(directional_skeleton, segmentation, orientation, frequency.period)
    show("directional_minutiae", more)
    everything = add_missing(minutiae, more, frequency.period)
    show("all_minutiae", everything)
    template = _template(everything, work.scale, work.input_shape, work.input_dpi)
    show("template", template)
    return template


def _ignore(stage: str, output: Any) -> None:
    return None


def _template(found: DetectedMinutiae, scale: float, shape: tuple[int, int], dpi: int) -> FingerprintTemplate:
    """Back to the caller's pixels and to ISO angles (counter-clockwise on screen, so y is negated)."""
    height, width = shape
    xs = np.clip(np.round(found.x * scale), 0, width - 1).astype(int)
    ys = np.clip(np.round(found.y * scale), 0, height - 1).astype(int)
    angles = np.mod(-found.angle.astype(np.float64), 2 * np.pi)
    minutiae = tuple(
        Minutia(int(x), int(y), float(a) if a < 2 * np.pi else 0.0, MinutiaType(int(k)), int(q))
        for x, y, a, k, q in zip(xs, ys, angles, found.kind, found.quality, strict=True)
    )
    return FingerprintTemplate(width=width, height=height, dpi=dpi, minutiae=minutiae)
