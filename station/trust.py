"""What the station trusts: the scheme root certificate, and through it district signatures.

The root certificate is installed once per station (``<data_dir>/scheme-root.cert``). A household list
verifies when its detached signature (``keymgmt.signing``) chains to that root through a *district*
certificate and was made for the purpose ``household-list``; the district certificate in that chain is
also the key the camp bundle is sealed to (``keymgmt.sealing``), so a station needs no other key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from keymgmt.certs import Certificate, Role, verify_chain
from keymgmt.errors import KeyManagementError
from keymgmt.signing import SignedDocument, verify_document
from station.errors import StationError

ROOT_FILE = "scheme-root.cert"
LIST_PURPOSE = "household-list"
BUNDLE_PURPOSE = "camp-bundle"


class TrustError(StationError):
    """The station's trust anchor is missing or damaged, or a signature does not chain to it."""


def parse_signature(raw: bytes) -> SignedDocument:
    """A ``.sig`` file in text (BEGIN/END) or binary form."""
    try:
        if raw.lstrip().startswith(b"-----BEGIN"):
            return SignedDocument.from_text(raw.decode("ascii"))
        return SignedDocument.from_bytes(raw)
    except (KeyManagementError, UnicodeDecodeError) as exc:
        raise TrustError(f"the signature file is unreadable ({exc}); ask for a fresh copy") from None


@dataclass(frozen=True)
class SchemeTrust:
    root: Certificate

    @classmethod
    def load(cls, data_dir: Path) -> SchemeTrust:
        path = data_dir / ROOT_FILE
        try:
            return cls(Certificate.from_bytes(path.read_bytes()))
        except OSError:
            raise TrustError(f"no scheme root certificate at {path}; install it from the district "
                             "(station trust install ROOT.cert)") from None
        except KeyManagementError as exc:
            raise TrustError(f"{path} is not a valid scheme certificate ({exc}); reinstall it") from None

    def install(self, data_dir: Path) -> Path:
        from station.storage.crypto import write_atomic

        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / ROOT_FILE
        write_atomic(path, self.root.to_bytes(), mode=0o644)
        return path

    def district_signer(self, data: bytes, signature: bytes, purpose: str = LIST_PURPOSE) -> Certificate:
        """The district certificate that signed ``data`` for ``purpose``; raises when it does not verify."""
        doc = parse_signature(signature)
        try:
            return verify_document(data, doc, self.root, purpose=purpose, roles=(Role.DISTRICT,))
        except KeyManagementError as exc:
            raise TrustError(str(exc)) from None

    def district_signer_of(self, signature: bytes) -> Certificate:
        """The district certificate carried by a signature the station already verified (e.g. the list's),
        re-checked against the root at the signing time — the key camp bundles are sealed to."""
        doc = parse_signature(signature)
        try:
            cert = verify_chain(doc.chain, self.root, doc.signed_at)
        except KeyManagementError as exc:
            raise TrustError(f"the district certificate is no longer valid: {exc}") from None
        if cert.role is not Role.DISTRICT:
            raise TrustError(f"{cert.subject} is not a district; cannot seal a bundle to it")
        return cert

    def verify_list(self, data: bytes, signature: bytes) -> str:
        """:class:`station.households.ListVerifier`: the signing district's code."""
        return self.district_signer(data, signature).district_code
