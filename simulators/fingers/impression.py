"""Impressions: one touch of a master finger on an optical scanner's glass.

Each impression is a pure function of (master, index, condition). The pipeline:
1. where the finger lands: displacement, rotation and an elastic distortion in which the contact
   region sticks to the glass while the skin around it is dragged (Cappelli, Maio and Maltoni's
   plastic distortion model, simplified to a smooth blend);
2. what touches: an elliptical contact area with a ragged rim, growing with pressure;
3. how the ridges print: a soft threshold of the master ridge pattern whose bias, and an erosion or
   dilation, follow the pressure; pores and ridge breaks; skin condition (dry, wet, smudged, worn);
4. the sensor: bright uneven background, slight optical blur and noise.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import cv2
import numpy as np

from simulators.fingers.master import MasterPrint
from simulators.fingers.noise import smooth_field

IMPRESSION_SHAPE = (400, 400)  # rows, cols at 500 dpi (20 x 20 mm), like an FVC optical image


@dataclass(frozen=True)
class PlacementSpread:
    """How much one placement of the finger differs from the next (standard deviations, pixels at
    500 dpi and degrees); the clips keep the rare draw from leaving the glass altogether."""

    rotation: float
    shift: float
    drag: float  # plastic distortion: skin dragged outside the contact core
    twist: float
    stretch: float  # fine, uneven stretching of the skin


class Placement(enum.Enum):
    # At the station an operator guides the finger onto the glass: it lands near the same spot.
    GUIDED = PlacementSpread(rotation=12.0, shift=24.0, drag=8.0, twist=4.0, stretch=2.5)
    # FVC2002's volunteers were asked to vary position and rotation and to press unevenly; with
    # this spread the engine's genuine scores on synthetic prints sit where they do on FVC2002
    # DB1_B (median about 0.24) and its EER falls in FVC's range (benchmarks/synthetic_data.py).
    FREE = PlacementSpread(rotation=18.0, shift=45.0, drag=16.0, twist=6.0, stretch=4.5)


class Condition(enum.Enum):
    NORMAL = "normal"
    DRY = "dry"
    WET = "wet"
    SMUDGED = "smudged"
    WORN = "worn"  # elderly or manual workers: flattened, broken ridges, creases, low contrast
    PARTIAL = "partial"  # only part of the finger on the glass
    NO_FINGER = "no finger"


_CONDITION_CODE = {c: i for i, c in enumerate(Condition)}


def _rng(master: MasterPrint, index: int, condition: Condition) -> np.random.Generator:
    return np.random.default_rng(
        [0x1A9E, master.seed & 0xFFFFFFFFFFFFFFFF, index, _CONDITION_CODE[condition]]
    )


def _placement(
    master: MasterPrint, rng: np.random.Generator, spread: PlacementSpread
) -> tuple[np.ndarray, np.ndarray]:
    """Master coordinates (map_x, map_y) sampled by every impression pixel."""
    h, w = IMPRESSION_SHAPE
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = np.deg2rad(float(np.clip(rng.normal(0.0, spread.rotation), -35, 35)))
    shift = np.clip(rng.normal(0.0, spread.shift, 2), -90, 90)
    # Plastic distortion: inside the contact core nothing moves; outside, skin is dragged by a
    # translation plus a small twist, ramping up smoothly with the distance from the core.
    ccx, ccy = w / 2 + rng.normal(0, 20), h / 2 + rng.normal(0, 25)
    r = np.hypot(xs - ccx, ys - ccy)
    r0 = rng.uniform(50, 90)
    ramp = np.clip((r - r0) / rng.uniform(110, 170), 0.0, 1.0)
    ramp = ramp * ramp * (3 - 2 * ramp)
    drag = np.clip(rng.normal(0.0, spread.drag, 2), -25, 25)
    twist = np.deg2rad(rng.normal(0.0, spread.twist))
    dx = ramp * (drag[0] - twist * (ys - ccy))
    dy = ramp * (drag[1] + twist * (xs - ccx))
    # Fine, uneven stretching of the skin.
    dx += spread.stretch * smooth_field(rng, IMPRESSION_SHAPE, 90.0)
    dy += spread.stretch * smooth_field(rng, IMPRESSION_SHAPE, 90.0)
    u = xs + dx - w / 2
    v = ys + dy - h / 2
    c, s = np.cos(angle), np.sin(angle)
    mx = c * u - s * v + master.centre[0] + shift[0]
    my = s * u + c * v + master.centre[1] + 20 + shift[1]
    return mx.astype(np.float32), my.astype(np.float32)


def _contact(
    master: MasterPrint, mx: np.ndarray, my: np.ndarray, pressure: float, rng: np.random.Generator
) -> np.ndarray:
    """How firmly each pixel touches the glass, 0..1, with a ragged rim."""
    grow = 1.0 + 0.12 * pressure
    a = rng.uniform(115, 140) * grow
    b = rng.uniform(170, 200) * grow
    ex = master.centre[0] + rng.normal(0, 6)
    ey = master.centre[1] + 30 + rng.normal(0, 8)
    r = np.sqrt(((mx - ex) / a) ** 2 + ((my - ey) / b) ** 2)
    rim = 0.06 * smooth_field(rng, IMPRESSION_SHAPE, 30.0) + 0.03 * smooth_field(rng, IMPRESSION_SHAPE, 8.0)
    contact = np.clip((1.0 - r + rim) * 7.0, 0.0, 1.0)
    silhouette = cv2.remap(master.silhouette, mx, my, cv2.INTER_LINEAR, borderValue=0.0)
    return (contact * silhouette).astype(np.float32)


def _cut_partial(contact: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Keep 20..40 % of the contact area, on one side of a random line (finger half off the glass)."""
    h, w = contact.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    direction = rng.uniform(0, 2 * np.pi)
    d = xs * np.cos(direction) + ys * np.sin(direction)
    touching = d[contact > 0.5]
    if touching.size == 0:
        return contact
    offset = np.quantile(touching, 1.0 - rng.uniform(0.2, 0.4))
    return contact * np.clip((d - offset) / 6.0, 0.0, 1.0).astype(np.float32)


def _breaks(rng: np.random.Generator, scale: float, amount: float) -> np.ndarray:
    """1 where ink prints, falling to 0 in random small gaps covering about ``amount`` of the area."""
    field = smooth_field(rng, IMPRESSION_SHAPE, scale)
    cut = np.quantile(field, 1.0 - amount) if amount > 0 else 2.0
    return np.clip((cut - field) * 6.0 + 0.0, 0.0, 1.0).astype(np.float32)


def _creases(rng: np.random.Generator, count: int) -> np.ndarray:
    """White lines where folded skin does not touch: mostly across the finger."""
    h, w = IMPRESSION_SHAPE
    mask = np.ones((h, w), np.float32)
    for _ in range(count):
        angle = rng.normal(0.0, 0.5) + (np.pi / 2 if rng.random() < 0.25 else 0.0)
        length = rng.uniform(60, 220)
        cx, cy = rng.uniform(80, w - 80), rng.uniform(80, h - 80)
        dx, dy = np.cos(angle) * length / 2, np.sin(angle) * length / 2
        p1 = (int(cx - dx), int(cy - dy))
        p2 = (int(cx + dx), int(cy + dy))
        cv2.line(mask, p1, p2, 0.0, int(rng.integers(2, 5)), cv2.LINE_AA)
    return cv2.GaussianBlur(mask, (0, 0), 0.8)


def _background(rng: np.random.Generator) -> np.ndarray:
    level = rng.uniform(236, 252)
    return (level + 6.0 * smooth_field(rng, IMPRESSION_SHAPE, 250.0)).astype(np.float32)


def _finish(img: np.ndarray, rng: np.random.Generator, blur: float, noise: float) -> np.ndarray:
    img = cv2.GaussianBlur(img, (0, 0), blur)
    img = img + rng.normal(0.0, noise, img.shape).astype(np.float32)
    # Dust on the glass.
    h, w = img.shape
    for _ in range(int(rng.integers(0, 6))):
        cv2.circle(
            img,
            (int(rng.integers(0, w)), int(rng.integers(0, h))),
            int(rng.integers(1, 3)),
            float(rng.uniform(120, 200)),
            -1,
            cv2.LINE_AA,
        )
    return np.clip(img, 0, 255).astype(np.uint8)


def render(
    master: MasterPrint, index: int, condition: Condition, placement: Placement = Placement.GUIDED
) -> np.ndarray:
    rng = _rng(master, index, condition)
    background = _background(rng)
    if condition is Condition.NO_FINGER:
        return _finish(background, rng, blur=0.7, noise=3.0)

    # NORMAL covers the everyday spread of pressure and skin (a little dry, a little moist); the
    # other conditions are the bad captures a quality gate exists to refuse, so they are strong
    # enough that ``biometrics.quality.assess`` names them (tests/simulators/test_fingers.py).
    pressure = float(np.clip(rng.normal(0.0, 0.3), -0.7, 0.7))
    darkness = rng.uniform(190, 228)
    pore_amount, gap_amount, blur, noise = 0.05, 0.06, 0.75, 5.0
    if condition is Condition.DRY:
        pressure = float(rng.uniform(-1.0, -0.8))
        gap_amount, darkness, noise = 0.3, rng.uniform(120, 165), 5.0
    elif condition is Condition.WET:
        pressure = float(rng.uniform(0.9, 1.0))
        pore_amount, gap_amount, darkness, blur = 0.0, 0.0, rng.uniform(205, 225), 1.1
    elif condition is Condition.WORN:
        pressure = float(rng.uniform(-0.85, -0.6))
        gap_amount, darkness, noise = 0.2, rng.uniform(80, 110), 6.0

    mx, my = _placement(master, rng, placement.value)
    contact = _contact(master, mx, my, pressure, rng)
    if condition is Condition.PARTIAL:
        contact = _cut_partial(contact, rng)
    ridges = cv2.remap(master.ridges, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)

    # Firm pressure flattens ridges onto the glass: wider ridges, narrower valleys; the bias also
    # varies across the finger since no one presses evenly.
    bias = 0.35 * pressure + 0.15 * smooth_field(rng, IMPRESSION_SHAPE, 120.0)
    # Skin is never printed the same way twice: ragged ridge edges that differ per impression, and
    # patches a few ridges wide that print drier or moister than the rest.
    bias = bias + 0.3 * smooth_field(rng, IMPRESSION_SHAPE, 3.5) + 0.25 * smooth_field(rng, IMPRESSION_SHAPE, 35.0)
    if condition is Condition.WET:
        # Water fills the valleys: ridges spread until only thin bright lines are left between them.
        bias = bias + 0.6
    ink = 1.0 / (1.0 + np.exp(-3.5 * (ridges + bias)))
    if pressure > 0.55:
        ink = cv2.dilate(ink, _SMALL_DISC)  # heavy: valleys narrow
    elif pressure < -0.55:
        ink = cv2.erode(ink, _SMALL_DISC)  # dry or light: ridges print thin
    # Pores and breaks are smaller than a ridge width: a real ridge breaks, it does not lose a blob
    # spanning three ridges at once (which would make every print look alike to a matcher).
    ink *= _breaks(rng, 2.5, pore_amount)
    ink *= _breaks(rng, 3.5, gap_amount)
    if condition is not Condition.WORN and rng.random() < 0.4:
        ink *= _creases(rng, int(rng.integers(1, 4)))  # everyday creases and small scars
    if condition is Condition.WORN:
        ink *= _creases(rng, int(rng.integers(5, 10)))
        ink *= 0.7 + 0.3 * (ridges > 0.3)  # flattened ridges: flat tops print paler
    # The rim of the contact area prints faint and broken rather than cut off sharply.
    edge = np.clip(contact * (1.5 + 0.8 * smooth_field(rng, IMPRESSION_SHAPE, 6.0)), 0, 1)
    ink *= edge
    if condition is Condition.WET:
        # Moisture pools where the pressure is highest: featureless dark patches.
        pools = np.clip(smooth_field(rng, IMPRESSION_SHAPE, 45.0) * 2.0 - 0.6, 0, 1) * contact
        ink = np.maximum(ink, np.clip(1.3 * cv2.GaussianBlur(ink, (0, 0), 3.0), 0, 1) * pools)
    if condition is Condition.SMUDGED:
        ink = _smudge(ink, contact, rng)

    img = background - ink.astype(np.float32) * darkness
    return _finish(img, rng, blur=blur, noise=noise)


_SMALL_DISC = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))


def _smudge(ink: np.ndarray, contact: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The finger twisted and slid while the image was taken, over a glass left greasy by earlier
    touches: a copy of the ridges turned well across them overlays the print about as strongly, so
    ridges cross everywhere (no single direction), and the slide smears the lot."""
    h, w = ink.shape
    turn = float(rng.uniform(65, 90) * rng.choice([-1, 1]))
    moved = cv2.getRotationMatrix2D((w / 2 + rng.normal(0, 20), h / 2 + rng.normal(0, 20)), turn, 1.0)
    moved[:, 2] += rng.normal(0, 6, 2)
    ghost = cv2.warpAffine(ink, moved, (w, h), borderValue=0.0) * np.clip(contact * 1.5, 0, 1)
    ink = np.clip(0.6 * ink + rng.uniform(0.5, 0.65) * ghost, 0, 1)
    ink = _motion_blur(ink, rng)
    # Where the skin slid furthest, grease and sweat print as a dark smear with no ridges in it.
    smear = np.clip(smooth_field(rng, IMPRESSION_SHAPE, 70.0) * 2.5 - 0.5, 0, 1) * np.clip(contact * 1.5, 0, 1)
    flat = np.clip(cv2.GaussianBlur(ink, (0, 0), 5.0) * 1.4, 0, 1)
    return ink * (1 - smear) + flat * smear


def _motion_blur(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The finger slid while the image was taken: ridges smear along one direction."""
    length = int(rng.integers(5, 10))
    k = np.zeros((length, length), np.float32)
    k[length // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
    k = cv2.warpAffine(k, rot, (length, length))
    k /= k.sum()
    smeared = cv2.filter2D(ink, -1, k)
    return np.clip(smeared * 1.25, 0, 1)
