"""Card face and receipt PDFs: page size, shaped Devanagari that extracts back, a QR that decodes."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from station.printing import CardFace, FaceMember, Receipt, ReceiptMember, render_card_face, render_receipt

pytest.importorskip("cairo")
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


def _photo() -> bytes:
    img = np.full((160, 120, 3), 200, np.uint8)
    cv2.circle(img, (60, 70), 35, (60, 90, 150), -1)
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 60])[1].tobytes()


def _squash(text: str) -> str:
    return "".join(text.split())


def _text(pdf: Path) -> str:
    # pdftotext puts a space before some positioned vowel signs; compare without whitespace.
    return _squash(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout)


FACE = CardFace(
    scheme_code="RSBY", scheme_name="Rashtriya Swasthya Bima Yojana", urn="10092310010000001",
    card_serial="5A00000000000017", village="Bodh (1001)", district="Gaya", insurer="New India Assurance",
    policy_start=date(2026, 12, 1), policy_end=date(2027, 11, 30),
    members=(FaceMember("Ram Prasad", "राम प्रसाद", "head", "M", 45),
             FaceMember("Sita Devi", "सीता देवी", "spouse", "F", 41),
             FaceMember("Lakshmi", "लक्ष्मी", "daughter", "F", 12),
             FaceMember("Krishna", "कृष्ण", "son", "M", 9),
             FaceMember("Shraddha", "श्रद्धा", "daughter_in_law", "F", 22)),
    head_photo=_photo(),
)


@needs_poppler
def test_card_face_cr80_with_names_and_qr(tmp_path: Path) -> None:
    out = render_card_face(FACE, tmp_path / "card.pdf")
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    assert "242.646 x 153.014 pts" in info  # 85.60 x 53.98 mm
    text = _text(out)
    for needle in ("10092310010000001", "Ram Prasad", "राम प्रसाद", "सीता देवी", "श्रद्धा", "कृष्ण", "5A00000000000017"):
        assert _squash(needle) in text, needle
    images = subprocess.run(["pdfimages", "-list", str(out)], capture_output=True, text=True, check=True).stdout
    assert " jpeg " in images  # the photo is embedded as the JPEG it was, not re-encoded
    subprocess.run(["pdftoppm", "-r", "600", "-png", "-singlefile", str(out), str(tmp_path / "card")], check=True)
    page = cv2.imread(str(tmp_path / "card.png"), cv2.IMREAD_GRAYSCALE)
    decoded, _, _ = cv2.QRCodeDetector().detectAndDecode(page[: page.shape[0] // 2 + 200, page.shape[1] // 2:])
    assert decoded == "RSBY:10092310010000001:5A00000000000017"


@needs_poppler
def test_receipt_lists_members_and_exceptions(tmp_path: Path) -> None:
    r = Receipt(scheme_name="Rashtriya Swasthya Bima Yojana", urn=FACE.urn, head_name="Ram Prasad",
                head_name_local="राम प्रसाद", guardian_name="Mohan Lal", village="Bodh (1001)",
                card_serial=FACE.card_serial, issued_at=datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
                fko_name="S. Sharma", fko_counter_left=299, camp_code="STN01-1001", station_id="STN01",
                operator="Asha Kumari", insurer="New India Assurance", policy_start=FACE.policy_start,
                policy_end=FACE.policy_end,
                members=(ReceiptMember("Ram Prasad", "राम प्रसाद", "head", True, 2, ""),
                         ReceiptMember("Sita Devi", "सीता देवी", "spouse", True, 0, "poor_quality")))
    out = render_receipt(r, tmp_path / "receipt.pdf")
    text = _text(out)
    for needle in ("exception: poor quality", "सीता देवी", "Mohan Lal", "संभाल"):
        assert _squash(needle) in text, needle
    assert not list(tmp_path.glob("*.tmp"))


def test_failed_render_leaves_no_file(tmp_path: Path) -> None:
    from dataclasses import replace

    with pytest.raises(Exception, match="JPEG"):
        render_card_face(replace(FACE, head_photo=b"\xff\xd8 not really"), tmp_path / "bad.pdf")
    assert list(tmp_path.iterdir()) == []


@needs_poppler
def test_cards_printed_from_many_short_lived_threads_come_out_whole(tmp_path: Path) -> None:
    # The issuance prints from worker threads; pool threads come and go. Each batch of threads prints
    # and exits before the next starts (a thread's own Pango font map would be finalised then), some
    # batches printing at the same time; then the main thread prints. Every PDF must be complete.
    import threading

    reference = _text(render_card_face(FACE, tmp_path / "main-first.pdf"))
    failures: list[BaseException] = []

    def work(k: int) -> None:
        try:
            render_card_face(FACE, tmp_path / f"card-{k}.pdf")
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    k = 0
    for batch in range(4):
        threads = [threading.Thread(target=work, args=(k + i,)) for i in range(batch + 1)]
        k += len(threads)
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert failures == []
    assert _text(render_card_face(FACE, tmp_path / "main-last.pdf")) == reference
    for i in range(k):
        assert _text(tmp_path / f"card-{i}.pdf") == reference
    assert not list(tmp_path.glob("*.tmp"))
