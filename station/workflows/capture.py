"""Capture per member: a checked photo and two fingers through the quality gate, else an exception.

Each finger is captured twice when tries allow: the second impression, if it passes the gate and
matches the first, is merged into the stored template (``biometrics.matching.mosaic``), which covers
more of the finger than one placement does; a hospital's capture years later then overlaps it more
often (at FMR 0.1 %, 0.6 % instead of 1.9 % of genuine verifications missed on FVC2002 DB1_B, 18.8
instead of 23.3 % on FVC2004 DB1_B; benchmarks/enrolment_mosaic.py). A
second impression that fails or does not match changes nothing: the first stays stored as it was.

Every accepted photo or finger is committed the moment it is accepted (encrypted under the station
data key), so a crash loses at most the capture in progress; a resumed finger capture skips the
fingers already stored.

A device that fails (scanner pulled, line noise, wrong handshake; camera gone) is not the person's
fault: it never counts as a try and never becomes a biometric exception. The step stops with
:class:`DeviceFailed`, whose message says what happened and that what was captured is kept.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from biometrics.camera import CameraError
from biometrics.errors import BiometricsError, CaptureError, PoorQualityError
from biometrics.fingers import CAPTURE_ORDER, FingerPosition
from biometrics.scanner import Scanner
from biometrics.scanner_errors import ScannerError, ScannerTimeout
from station.errors import NotFound, RuleViolation, WorkflowError
from station.storage import audit
from station.storage.crypto import capture_aad
from station.storage.models import (
    BiometricException,
    Capture,
    CaptureKind,
    ExceptionReason,
    Household,
    HouseholdStatus,
    Member,
)
from station.workflows.households import get_household, view
from station.workflows.jobs import Job, ProgressFn
from station.workflows.session import CampContext

FINGERS_NEEDED = 2
CAPTURABLE = (HouseholdStatus.ENROLLING, HouseholdStatus.CAPTURED)


class DeviceFailed(WorkflowError):
    """The scanner or camera failed mid-capture; everything accepted before it stays stored."""


def _device_failed(device: str, exc: Exception, kept: str) -> DeviceFailed:
    # The device's own message says what broke (it never carries image or template bytes).
    return DeviceFailed(f"the {device} failed ({type(exc).__name__}: {exc}); {kept}. Check its cable or "
                        f"replug it, then capture again: the station continues where it stopped")


def _member(s: Any, urn: str, seq: int) -> tuple[Household, Member]:
    h = get_household(s, urn)
    if h.status not in CAPTURABLE:
        raise RuleViolation(f"household {urn} is {h.status.value}: start its enrolment before capturing")
    m = next((m for m in h.members if m.seq == seq), None)
    if m is None:
        raise NotFound(f"household {urn} has no member {seq}")
    if not m.insured:
        raise RuleViolation(f"member {seq} of {urn} is not insured; choose the insured members first")
    return h, m


def _replace_finger(ctx: CampContext, urn: str, seq: int, row_id: int, payload: bytes, quality: int, tries: int,
                    added: int) -> None:
    """Put the merged template of two impressions in place of the first impression's record."""
    with ctx.db.transaction() as s:
        h, m = _member(s, urn, seq)
        row = s.get(Capture, row_id)
        if row is None or row.member_id != m.id or row.kind is not CaptureKind.FINGER:
            raise NotFound(f"finger capture {row_id} of member {seq} of {urn} is gone")
        row.ciphertext = ctx.op.cipher.encrypt(payload, capture_aad(m.id, CaptureKind.FINGER.value, row.finger))
        row.quality, row.tries = quality, tries
        audit.record(s, ctx.op.login, "capture.finger.merged", f"household:{h.urn}", member=seq, finger=row.finger,
                     quality=quality, tries=tries, added=added)


def _store(ctx: CampContext, urn: str, seq: int, kind: CaptureKind, finger: int, payload: bytes, fmt: str,
           quality: int, tries: int) -> int:
    with ctx.db.transaction() as s:
        h, m = _member(s, urn, seq)
        if kind is CaptureKind.PHOTO:
            # One photo per member: a retake replaces the earlier one.
            for old in [c for c in m.captures if c.kind is CaptureKind.PHOTO]:
                s.delete(old)
        row = Capture(member_id=m.id, camp_id=ctx.camp_id, kind=kind, finger=finger, quality=quality, tries=tries,
                      payload_format=fmt, ciphertext=ctx.op.cipher.encrypt(payload, capture_aad(m.id, kind.value, finger)),
                      operator_id=ctx.op.operator_id)
        s.add(row)
        s.flush()
        audit.record(s, ctx.op.login, f"capture.{kind.value}", f"household:{h.urn}", member=seq, finger=finger,
                     quality=quality, tries=tries)
        return row.id


@dataclass(frozen=True)
class PhotoOutcome:
    accepted: bool
    reasons: tuple[str, ...]
    jpeg_bytes: int


def capture_photo(ctx: CampContext, urn: str, seq: int, camera: Any,
                  check: Callable[[Any], Any] | None = None) -> PhotoOutcome:
    """Take a still, run the photo check, store the card-sized JPEG when it passes."""
    check = check or importlib.import_module("biometrics.photo").check_photo
    with ctx.db.transaction() as s:
        _member(s, urn, seq)  # refuse before touching the camera
    try:
        frame = camera.take_photo()
    except CameraError as exc:
        raise _device_failed("camera", exc, f"no photo was stored for member {seq} of {urn}") from exc
    result = check(frame)
    reasons = tuple(getattr(r, "name", str(r)).lower() for r in result.reasons)
    if not result.ok:
        return PhotoOutcome(False, reasons, 0)
    _store(ctx, urn, seq, CaptureKind.PHOTO, 0, result.jpeg, "jpeg", 100, 1)
    return PhotoOutcome(True, reasons, len(result.jpeg))


def record_exception(ctx: CampContext, urn: str, seq: int, kind: CaptureKind, reason: ExceptionReason,
                     note: str = "", fingers_tried: Sequence[int] = ()) -> int:
    """A member who cannot give a usable photo or fingers: recorded, with the reason, instead."""
    with ctx.db.transaction() as s:
        h, m = _member(s, urn, seq)
        row = BiometricException(member_id=m.id, camp_id=ctx.camp_id, kind=kind, reason=reason, note=note[:500],
                                 fingers_tried=",".join(str(int(f)) for f in fingers_tried),
                                 operator_id=ctx.op.operator_id)
        s.add(row)
        s.flush()
        audit.record(s, ctx.op.login, "capture.exception", f"household:{h.urn}", member=seq, kind=kind.value,
                     reason=reason.value)
        return row.id


@dataclass(frozen=True)
class FingerAttempt:
    finger: FingerPosition
    attempt: int
    accepted: bool
    quality: int
    reason: str


@dataclass(frozen=True)
class FingerOutcome:
    fingers: tuple[FingerPosition, ...]  # stored for this member (including earlier runs)
    attempts: tuple[FingerAttempt, ...]
    exception: ExceptionReason | None


# prompt(finger, attempt): tell the person which finger to place (the UI shows it; the demo places it).
PromptFn = Callable[[FingerPosition, int], None]


class FingerCapture(Job):
    """Two fingers for one member: up to ``tries`` per finger, then the next finger of ``order``;
    when the order runs out before two are stored, a biometric exception with the reason. With
    ``second_impression``, a finger accepted before its last try is placed once more and the two
    impressions merged (the next try's prompt asks for it)."""

    def __init__(self, ctx: CampContext, urn: str, seq: int, scanner: Scanner, prompt: PromptFn | None = None,
                 tries: int = 3, order: Sequence[FingerPosition] = CAPTURE_ORDER, timeout: float = 10.0,
                 progress: ProgressFn | None = None, second_impression: bool = True) -> None:
        super().__init__(progress)
        self.ctx, self.urn, self.seq, self.scanner = ctx, urn, seq, scanner
        self.prompt = prompt or (lambda finger, attempt: None)
        self.tries, self.order, self.timeout = tries, tuple(order), timeout
        self.second_impression = second_impression

    def _try(self, finger: FingerPosition, attempt: int, step: int, total: int, attempts: list[FingerAttempt],
             stored: list[FingerPosition]) -> Any:
        """One placement through the quality gate: the capture, or None (recorded in ``attempts``)."""
        self.checkpoint(step, total, f"Capturing {finger.label}, try {attempt} of {self.tries}")
        self.prompt(finger, attempt)
        try:
            return self.scanner.capture_template(self.timeout)
        except PoorQualityError as exc:
            reasons = ",".join(getattr(r, "name", str(r)).lower() for r in getattr(exc, "reasons", ()))
            attempts.append(FingerAttempt(finger, attempt, False, 0, reasons or "poor quality"))
        except (ScannerTimeout, CaptureError) as exc:
            attempts.append(FingerAttempt(finger, attempt, False, 0, type(exc).__name__))
        except ScannerError as exc:
            kept = ", ".join(f.label for f in stored) or "no finger yet"
            raise _device_failed("fingerprint scanner", exc,
                                 f"fingers kept for member {self.seq} of {self.urn}: {kept}") from exc
        return None

    def _merge_second(self, finger: FingerPosition, first_try: int, step: int, total: int,
                      attempts: list[FingerAttempt], stored: list[FingerPosition], first: Any, quality: int,
                      row: int) -> None:
        """A second impression of ``finger``, merged into the stored first one when the two match."""
        mosaic = importlib.import_module("biometrics.matching.mosaic")
        iso = importlib.import_module("biometrics.iso19794")
        attempt = first_try + 1
        cap = self._try(finger, attempt, step, total, attempts, stored)
        if cap is None:
            return
        try:
            merged = mosaic.merge_impressions(first, cap.template)
            payload = iso.encode(merged.template)
        except mosaic.ImpressionsDisagree:
            attempts.append(FingerAttempt(finger, attempt, False, int(cap.quality),
                                          f"did not match try {first_try}; try {first_try} kept"))
            return
        except (BiometricsError, ValueError, ArithmeticError) as exc:  # LinAlgError is a ValueError
            # The second impression is a bonus: whatever stops the merge, the first stays as stored and
            # the capture goes on to the next finger (the reason is kept for the operator).
            attempts.append(FingerAttempt(finger, attempt, False, int(cap.quality),
                                          f"could not merge ({type(exc).__name__}); try {first_try} kept"))
            return
        best = max(int(quality), int(cap.quality))
        _replace_finger(self.ctx, self.urn, self.seq, row, payload, best, attempt, merged.added)
        attempts.append(FingerAttempt(finger, attempt, True, int(cap.quality),
                                      f"merged with try {first_try}: {merged.added} minutiae added"))

    def _stored(self) -> list[FingerPosition]:
        with self.ctx.db.transaction() as s:
            _, m = _member(s, self.urn, self.seq)
            rows = s.scalars(select(Capture.finger).where(Capture.member_id == m.id, Capture.kind == CaptureKind.FINGER))
            return [FingerPosition(f) for f in rows]

    def run(self) -> FingerOutcome:
        iso = importlib.import_module("biometrics.iso19794")
        stored = self._stored()
        attempts: list[FingerAttempt] = []
        tried: list[FingerPosition] = list(stored)
        total = len(self.order) * self.tries
        step = 0
        for finger in self.order:
            if len(stored) >= FINGERS_NEEDED:
                break
            if finger in stored:
                continue
            tried.append(finger)
            for attempt in range(1, self.tries + 1):
                step += 1
                cap = self._try(finger, attempt, step, total, attempts, stored)
                if cap is None:
                    continue
                template = _with_finger(cap.template, finger, iso.META_FINGER)
                row = _store(self.ctx, self.urn, self.seq, CaptureKind.FINGER, int(finger), iso.encode(template),
                             "iso19794-2", int(cap.quality), attempt)
                attempts.append(FingerAttempt(finger, attempt, True, int(cap.quality), ""))
                stored.append(finger)
                if self.second_impression and attempt < self.tries:
                    step += 1
                    self._merge_second(finger, attempt, step, total, attempts, stored, template, cap.quality, row)
                break
        exception = None
        if len(stored) < FINGERS_NEEDED:
            exception = ExceptionReason.POOR_QUALITY
            record_exception(self.ctx, self.urn, self.seq, CaptureKind.FINGER, exception,
                             note=f"{len(stored)} of {FINGERS_NEEDED} fingers passed the quality gate after "
                                  f"{len(attempts)} tries", fingers_tried=tried)
        self.checkpoint(total, total, "Fingers done")
        return FingerOutcome(tuple(stored), tuple(attempts), exception)


def _with_finger(template: Any, finger: FingerPosition, key: str) -> Any:
    """The record says which finger it is (the scanner does not know; the prompt did)."""
    import dataclasses

    return dataclasses.replace(template, metadata={**template.metadata, key: finger})


def discard_captures(ctx: CampContext, urn: str, seq: int, kind: CaptureKind, reason: str) -> int:
    """Throw away a member's stored photo or fingers (and exceptions of that kind) so they can be taken
    again — e.g. a capture that no longer decrypts. Only before a card is under way; the household goes
    back to ENROLLING until :func:`finish_capture`. Returns how many captures were removed."""
    with ctx.db.transaction() as s:
        h, m = _member(s, urn, seq)
        captures = [c for c in m.captures if c.kind is kind]
        exceptions = [e for e in m.exceptions if e.kind is kind]
        for row in (*captures, *exceptions):
            s.delete(row)
        if h.status is HouseholdStatus.CAPTURED:
            h.status = HouseholdStatus.ENROLLING
        audit.record(s, ctx.op.login, "capture.discarded", f"household:{h.urn}", member=seq, kind=kind.value,
                     captures=len(captures), exceptions=len(exceptions), reason=reason[:200])
        return len(captures)


def finish_capture(ctx: CampContext, urn: str) -> None:
    """Mark the household CAPTURED once every insured member is complete; say who is missing otherwise."""
    with ctx.db.transaction() as s:
        h = get_household(s, urn)
        if h.status not in CAPTURABLE:
            raise RuleViolation(f"household {urn} is {h.status.value}; nothing to finish")
        if h.needs_selection:
            raise RuleViolation(f"household {urn} lists more than five people: choose the insured members first")
        missing = [m for m in view(h).insured if not m.complete]
        if missing:
            raise WorkflowError(
                "still to capture: " + ", ".join(f"{m.name} ({'photo' if not m.has_photo else 'fingers'})" for m in missing)
            )
        if h.status is not HouseholdStatus.CAPTURED:
            h.status = HouseholdStatus.CAPTURED
            audit.record(s, ctx.op.login, "household.captured", f"household:{h.urn}")


@dataclass(frozen=True)
class MemberBiometrics:
    """Decrypted captures of one member, for the card and the bundle (kept in memory only)."""

    seq: int
    photo: bytes
    fingers: tuple[tuple[int, bytes], ...]  # (ISO position, ISO 19794-2 record)


def decrypt_member(ctx: CampContext, member: Member) -> MemberBiometrics:
    cipher = ctx.op.cipher
    photo, fingers = b"", []
    for c in member.captures:
        plain = cipher.decrypt(c.ciphertext, capture_aad(member.id, c.kind.value, c.finger))
        if c.kind is CaptureKind.PHOTO:
            photo = plain
        else:
            fingers.append((c.finger, plain))
    return MemberBiometrics(member.seq, photo, tuple(fingers[:FINGERS_NEEDED]))
