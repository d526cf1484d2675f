"""The card face (CR80) and the household receipt (A6), as PDFs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from station.printing.render import pdf

CR80 = (85.60, 53.98)  # ISO/IEC 7810 ID-1, landscape, mm
A6 = (105.0, 148.0)
BAND = (0.05, 0.32, 0.55)
RELATION_HI = {
    "head": "मुखिया", "spouse": "पति/पत्नी", "son": "पुत्र", "daughter": "पुत्री", "father": "पिता",
    "mother": "माता", "brother": "भाई", "sister": "बहन", "grandchild": "पोता/पोती", "daughter_in_law": "बहू",
    "son_in_law": "दामाद", "other": "अन्य",
}


@dataclass(frozen=True)
class FaceMember:
    name: str
    name_local: str
    relationship: str  # Relationship value
    gender: str  # "M", "F", "T"
    age: int


@dataclass(frozen=True)
class CardFace:
    scheme_code: str
    scheme_name: str
    urn: str
    card_serial: str
    village: str
    district: str
    insurer: str
    policy_start: date
    policy_end: date
    members: tuple[FaceMember, ...]
    head_photo: bytes = field(repr=False, default=b"")

    @property
    def qr_payload(self) -> str:
        # What a hospital phone can read without the chip: scheme, URN and card serial.
        return f"{self.scheme_code}:{self.urn}:{self.card_serial}"


def render_card_face(face: CardFace, path: Path) -> Path:
    w, h = CR80
    with pdf(path, w, h, title=f"{face.scheme_code} card {face.urn}") as p:
        p.rect(0, 0, w, 8.5, fill=BAND)
        p.text(3, 1.0, face.scheme_name, size=6.5, bold=True, colour=(1, 1, 1), width=w - 6)
        p.text(3, 4.6, "स्वास्थ्य बीमा कार्ड · Health insurance card", size=5, colour=(1, 1, 1))
        if face.head_photo:
            p.jpeg(3, 10.5, 15, 20, face.head_photo)
        else:
            p.rect(3, 10.5, 15, 20, stroke=(0.5, 0.5, 0.5))
            p.text(4, 18, "no photo", size=4)
        p.qr(w - 21.5, 10, 19, face.qr_payload)
        p.text(20.5, 10.2, "URN", size=4.5, colour=(0.3, 0.3, 0.3))
        p.text(20.5, 12.2, face.urn, size=6.5, bold=True)
        p.text(20.5, 15.6, f"{face.village} · {face.district}", size=4.5, width=w - 44)
        y = 19.0
        for m in face.members:
            local = f" · {m.name_local}" if m.name_local else ""
            rel = RELATION_HI.get(m.relationship, m.relationship)
            p.text(20.5, y, f"{m.name}{local}", size=5.2, bold=m.relationship == "head", width=w - 44)
            p.text(20.5, y + 2.5, f"{m.relationship.replace('_', ' ')} / {rel} · {m.gender} · {m.age}",
                   size=3.8, colour=(0.3, 0.3, 0.3))
            y += 5.6
        p.rect(0, h - 6, w, 6, fill=(0.93, 0.95, 0.97))
        p.text(3, h - 5.6, f"{face.insurer} · {face.policy_start:%d.%m.%Y}–{face.policy_end:%d.%m.%Y}", size=4.2)
        p.text(3, h - 3.0, f"card {face.card_serial}", size=4.2, width=w - 6, align="right")
    return path


@dataclass(frozen=True)
class ReceiptMember:
    name: str
    name_local: str
    relationship: str
    photo: bool
    fingers: int
    exception: str  # "" or the recorded reason


@dataclass(frozen=True)
class Receipt:
    scheme_name: str
    urn: str
    head_name: str
    head_name_local: str
    guardian_name: str
    village: str
    card_serial: str
    issued_at: datetime
    fko_name: str
    fko_counter_left: int | None
    camp_code: str
    station_id: str
    operator: str
    insurer: str
    policy_start: date
    policy_end: date
    members: tuple[ReceiptMember, ...]


def render_receipt(r: Receipt, path: Path) -> Path:
    w, h = A6
    with pdf(path, w, h, title=f"Receipt {r.urn}") as p:
        p.rect(0, 0, w, 14, fill=BAND)
        p.text(6, 2, r.scheme_name, size=9, bold=True, colour=(1, 1, 1), width=w - 12)
        p.text(6, 8, "पावती · Enrolment receipt", size=7, colour=(1, 1, 1))
        y = 18.0
        rows = [
            ("URN", r.urn),
            ("Head / मुखिया", f"{r.head_name} · {r.head_name_local}" if r.head_name_local else r.head_name),
            ("Father or husband", r.guardian_name),
            ("Village", r.village),
            ("Card serial", r.card_serial),
            ("Insurer", r.insurer),
            ("Cover", f"{r.policy_start:%d.%m.%Y} to {r.policy_end:%d.%m.%Y}"),
            ("Issued", f"{r.issued_at:%d.%m.%Y %H:%M} UTC at {r.station_id}, camp {r.camp_code}"),
            ("Authorised by FKO", r.fko_name),
            ("Operator", r.operator),
        ]
        for label, value in rows:
            p.text(6, y, label, size=6, colour=(0.35, 0.35, 0.35))
            y += p.text(36, y, value, size=6.5, width=w - 42) + 1.2
        y += 2
        p.text(6, y, "Insured members · बीमित सदस्य", size=7, bold=True)
        y += 5
        for m in r.members:
            name = f"{m.name} · {m.name_local}" if m.name_local else m.name
            bio = f"photo {'yes' if m.photo else 'no'}, fingers {m.fingers}"
            if m.exception:
                bio += f", exception: {m.exception.replace('_', ' ')}"
            y += p.text(8, y, f"{name} ({m.relationship.replace('_', ' ')})", size=6.5, width=w - 14) + 0.4
            y += p.text(10, y, bio, size=5.5, colour=(0.3, 0.3, 0.3), width=w - 16) + 1.5
        p.text(6, h - 16, "Keep this receipt. Show the card at any empanelled hospital; treatment is cashless.\n"
                          "यह पावती संभाल कर रखें। किसी भी सूचीबद्ध अस्पताल में कार्ड दिखाएँ; इलाज नक़द-रहित है।",
               size=5.5, width=w - 12)
    return path
