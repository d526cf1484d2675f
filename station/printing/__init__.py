"""PDF output of the station: the card face on a CR80 page and the household receipt (see render.py
for why cairo + Pango)."""

from station.printing.documents import (
    CardFace,
    FaceMember,
    Receipt,
    ReceiptMember,
    render_card_face,
    render_receipt,
)
from station.printing.render import PrintingUnavailable

__all__ = ["CardFace", "FaceMember", "PrintingUnavailable", "Receipt", "ReceiptMember", "render_card_face",
           "render_receipt"]
