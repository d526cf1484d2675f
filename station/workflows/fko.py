"""The Field Key Officer's session: the FKO card in the authority reader, unlocked by the officer's finger.

Without an unlocked FKO card nothing can be issued. The card's certificate is checked against the
scheme root (a card from another scheme, a copy or a revoked card is refused before it is used), and
the officer's fingerprint is matched *on the card*: the station only sends a fresh template.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from biometrics.errors import CaptureError
from biometrics.fingers import FingerPosition
from biometrics.scanner import Scanner
from biometrics.scanner_errors import ScannerTimeout
from cardlib.authority import AuthorityInfo, FkoCard
from cardlib.errors import CardError, VerificationFailed
from cardlib.transport import Transport
from keymgmt.certs import Certificate
from station.errors import AuthenticationError
from station.storage import audit
from station.workflows.session import CampContext


@dataclass
class FkoSession:
    """An FKO card that has been checked and unlocked; ``card`` is the client the issuance step uses."""

    card: FkoCard
    certificate: Certificate
    info: AuthorityInfo

    @property
    def serial(self) -> bytes:
        return self.info.serial

    @property
    def holder(self) -> str:
        return self.info.holder

    def counter(self) -> int:
        """Issuances left on the card, read from the card now."""
        return self.card.info().counter


def open_fko(ctx: CampContext, transport: Transport, root: Certificate) -> tuple[FkoCard, Certificate, AuthorityInfo]:
    """Select the FKO card and check its certificate; the card stays locked."""
    card = FkoCard(transport)
    try:
        info = card.select()
        cert = card.verified_certificate(root)
    except CardError as exc:
        with ctx.db.transaction() as s:
            audit.record(s, ctx.op.login, "fko.refused", "fko:?", reason=type(exc).__name__)
        raise AuthenticationError(f"the card in the authority reader is not a valid FKO card: {exc}") from exc
    return card, cert, info


def unlock_fko(ctx: CampContext, transport: Transport, root: Certificate, scanner: Scanner,
               finger: FingerPosition = FingerPosition.RIGHT_INDEX,
               prompt: Callable[[FingerPosition, int], None] | None = None, tries: int = 3,
               timeout: float = 10.0) -> FkoSession:
    """Unlock with the officer's fingerprint (up to ``tries`` captures, never more than the card allows)."""
    compact = importlib.import_module("biometrics.cardtemplate")
    card, cert, info = open_fko(ctx, transport, root)
    last: Exception | None = None
    for attempt in range(1, tries + 1):
        if prompt:
            prompt(finger, attempt)
        try:
            capture = scanner.capture_template(timeout)
        except (CaptureError, ScannerTimeout) as exc:
            last = exc
            continue
        try:
            card.unlock(compact.encode(capture.template))
        except VerificationFailed as exc:
            with ctx.db.transaction() as s:
                audit.record(s, ctx.op.login, "fko.unlock_failed", f"fko:{info.serial.hex()}",
                             tries_left=exc.tries_left)
            last = exc
            if exc.tries_left == 0:
                break
            continue
        info = card.info()
        with ctx.db.transaction() as s:
            audit.record(s, ctx.op.login, "fko.unlock", f"fko:{info.serial.hex()}", holder=info.holder,
                         counter=info.counter)
        return FkoSession(card, cert, info)
    raise AuthenticationError(
        f"the FKO card was not unlocked ({last}); the officer must place their own enrolled finger — "
        "after 5 wrong fingers the card blocks until the district unblocks it"
    )


def session_from(card: FkoCard, root: Certificate) -> FkoSession:
    """Wrap a card that is already unlocked (e.g. after the station restarted with the card in place)."""
    info = card.select()
    return FkoSession(card, card.verified_certificate(root), info)


def ledger_for(session: FkoSession) -> tuple[Any, ...]:
    return session.card.read_ledger()
