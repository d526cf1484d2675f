"""What the desk needs to judge a family card offline: the scheme root, the district's signed revocation
list and the FKO certificates (to check the issuance signature on each card).

Files under the hospital's data directory:

* ``revocation.rl`` — the newest signed revocation list (``keymgmt.revocation``); a list older than the
  one installed is refused, so nobody can roll the desk back to before a revocation.
* ``fko-certificates.bin`` — the FKO directory the district publishes: ``u32 length ‖ chain`` records,
  each an FKO card's certificate chain (``keymgmt.certs.encode_chain``). Certificates verify themselves
  against the root, so the directory needs no signature of its own; a chain that does not verify is
  refused when it is loaded.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

from keymgmt import revocation
from keymgmt.certs import Certificate, Role, decode_chain, encode_chain, verify_chain
from keymgmt.errors import KeyManagementError
from keymgmt.files import write_atomic
from keymgmt.revocation import RevocationList
from station.errors import StationError

REVOCATION_FILE = "revocation.rl"
FKO_FILE = "fko-certificates.bin"


class HospitalTrustError(StationError):
    """A revocation list or FKO directory that does not verify; nothing from it was installed."""


def encode_fko_directory(chains: list[tuple[Certificate, ...]]) -> bytes:
    out = b""
    for chain in chains:
        raw = encode_chain(chain)
        out += struct.pack(">I", len(raw)) + raw
    return out


def _decode_fko_directory(raw: bytes, root: Certificate) -> dict[bytes, Certificate]:
    certs: dict[bytes, Certificate] = {}
    i = 0
    try:
        while i < len(raw):
            (n,) = struct.unpack_from(">I", raw, i)
            chain = decode_chain(raw[i + 4 : i + 4 + n])
            i += 4 + n
            # Checked when every certificate of the chain was valid (not "now"): an issuance signed while the
            # FKO card was valid stays checkable after the card expires.
            cert = verify_chain(chain, root, max((c.not_before for c in chain), default=None))
            if cert.role is not Role.FKO_CARD:
                raise HospitalTrustError(f"{cert.subject} in the FKO directory is not an FKO card")
            certs[cert.card_serial] = cert
    except (struct.error, KeyManagementError) as exc:
        raise HospitalTrustError(f"the FKO directory does not verify ({exc}); ask the district for a fresh copy") from None
    return certs


@dataclass
class HospitalTrust:
    root: Certificate
    data_dir: Path
    revocations: RevocationList | None = None
    fko_certificates: dict[bytes, Certificate] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Certificate, data_dir: Path) -> HospitalTrust:
        """What is installed in ``data_dir`` (nothing yet is fine: install a list before opening the desk)."""
        trust = cls(root, data_dir)
        rl = data_dir / REVOCATION_FILE
        if rl.exists():
            try:
                trust.revocations = revocation.load(rl.read_bytes(), root)
            except KeyManagementError as exc:
                raise HospitalTrustError(f"the installed revocation list {rl} does not verify ({exc}); "
                                         "install a fresh one from the district") from None
        fko = data_dir / FKO_FILE
        if fko.exists():
            trust.fko_certificates = _decode_fko_directory(fko.read_bytes(), root)
        return trust

    def install_revocation_list(self, raw: bytes) -> RevocationList:
        """Verify and keep the district's list (never an older one than installed)."""
        current = self.revocations.sequence if self.revocations else 0
        try:
            rl = revocation.load(raw, self.root, min_sequence=current)
        except KeyManagementError as exc:
            raise HospitalTrustError(f"revocation list refused: {exc}") from None
        self.data_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(self.data_dir / REVOCATION_FILE, raw, mode=0o644)
        self.revocations = rl
        return rl

    def install_fko_directory(self, raw: bytes) -> int:
        certs = _decode_fko_directory(raw, self.root)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(self.data_dir / FKO_FILE, raw, mode=0o644)
        self.fko_certificates = certs
        return len(certs)

    def family_card_revoked(self, serial: bytes) -> bool:
        return self.revocations is not None and self.revocations.family_card_revoked(serial)

    def fko_certificate(self, serial: bytes) -> Certificate | None:
        # A later revocation of the FKO card does not undo the cards it issued before (the district revokes
        # those family cards one by one if it must): the issuance is judged at its own time.
        return self.fko_certificates.get(serial)
