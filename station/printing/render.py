"""Drawing on PDF pages with cairo and Pango (through GObject introspection), in millimetres.

Why cairo + Pango and not a hand-written PDF writer or Qt: Devanagari needs OpenType shaping
(conjuncts, reordered vowel signs), which Pango does with HarfBuzz; cairo embeds the fonts as subsets
with a ToUnicode map (so ``pdftotext`` and screen readers get the names back) and embeds JPEG photos
as they are. Both are C libraries the desktop already ships, the station core stays Qt-free, and the
same code prints headless. Needs ``pycairo`` + ``pygobject`` (the ``dev``/``libfprint`` extras) and
the Debian typelibs ``gir1.2-pango-1.0``; :class:`PrintingUnavailable` says so when they are missing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from station.errors import StationError

MM = 72 / 25.4  # PDF points per millimetre
LATIN_FONT = "DejaVu Sans"
DEVANAGARI_FONT = "Lohit Devanagari"


class PrintingUnavailable(StationError):
    """The PDF libraries are not installed; nothing was printed."""


def _libs() -> tuple[Any, Any, Any]:
    try:
        import cairo
        import gi

        gi.require_version("Pango", "1.0")
        gi.require_version("PangoCairo", "1.0")
        from gi.repository import Pango, PangoCairo
    except (ImportError, ValueError) as exc:
        raise PrintingUnavailable(
            f"PDF printing needs pycairo and PyGObject with Pango ({exc}); install the package's dev extra "
            "and the Debian packages gir1.2-pango-1.0 and fonts-lohit-deva"
        ) from None
    return cairo, Pango, PangoCairo


# Cards are printed from worker threads (the issuance runs off the UI thread) as well as the main one.
# PangoCairo's default font map is per thread and is finalised when its thread ends, while cairo's
# global font caches may still hold faces it made; the station crashed once (SIGSEGV in
# surface.finish()) printing in a pool thread after other pool threads had printed and exited. So
# every page is drawn with one font map that lives as long as the process, one page at a time.
_PRINTING = threading.RLock()
_font_map: Any = None


def _shared_font_map(pango_cairo: Any) -> Any:
    global _font_map
    if _font_map is None:
        _font_map = pango_cairo.FontMap.new()
    return _font_map


class Page:
    """One PDF page; coordinates in millimetres from the top-left corner."""

    def __init__(self, cr: Any, width_mm: float, height_mm: float) -> None:
        self.cairo, self.Pango, self.PangoCairo = _libs()
        self.cr = cr
        self.width, self.height = width_mm, height_mm
        self.context = _shared_font_map(self.PangoCairo).create_context()
        self.PangoCairo.update_context(cr, self.context)

    def rect(self, x: float, y: float, w: float, h: float, fill: tuple[float, float, float] | None = None,
             stroke: tuple[float, float, float] | None = None, line: float = 0.2) -> None:
        cr = self.cr
        cr.rectangle(x * MM, y * MM, w * MM, h * MM)
        if fill is not None:
            cr.set_source_rgb(*fill)
            cr.fill_preserve() if stroke else cr.fill()
        if stroke is not None:
            cr.set_source_rgb(*stroke)
            cr.set_line_width(line * MM)
            cr.stroke()

    def text(self, x: float, y: float, text: str, size: float = 7.0, bold: bool = False,
             width: float | None = None, colour: tuple[float, float, float] = (0, 0, 0),
             align: str = "left") -> float:
        """Draw shaped text (any mix of Latin and Devanagari); returns its height in mm."""
        layout = self.Pango.Layout.new(self.context)
        weight = " Bold" if bold else ""
        # A family list: Pango picks the first family that has each character's glyphs.
        layout.set_font_description(
            self.Pango.FontDescription.from_string(f"{LATIN_FONT},{DEVANAGARI_FONT}{weight} {size}"))
        if width is not None:
            layout.set_width(int(width * MM * self.Pango.SCALE))
            layout.set_wrap(self.Pango.WrapMode.WORD_CHAR)
            layout.set_alignment({"left": self.Pango.Alignment.LEFT, "center": self.Pango.Alignment.CENTER,
                                  "right": self.Pango.Alignment.RIGHT}[align])
        layout.set_text(text, -1)
        self.cr.set_source_rgb(*colour)
        self.cr.move_to(x * MM, y * MM)
        self.PangoCairo.show_layout(self.cr, layout)
        return layout.get_pixel_size()[1] / MM

    def jpeg(self, x: float, y: float, w: float, h: float, data: bytes) -> None:
        """Place a JPEG, embedded unchanged in the PDF (cairo passes the original bytes through)."""
        import cv2
        import numpy as np

        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if img is None:
            raise StationError("the stored photo is not a readable JPEG; retake the photo")
        height, width = img.shape[:2]
        bgra = np.dstack([img, np.full((height, width), 255, np.uint8)])
        surface = self.cairo.ImageSurface.create_for_data(bytearray(bgra.tobytes()), self.cairo.FORMAT_RGB24,
                                                          width, height, width * 4)
        surface.set_mime_data(self.cairo.MIME_TYPE_JPEG, data)
        cr = self.cr
        cr.save()
        cr.translate(x * MM, y * MM)
        cr.scale(w * MM / width, h * MM / height)
        cr.set_source_surface(surface, 0, 0)
        cr.paint()
        cr.restore()

    def qr(self, x: float, y: float, size: float, payload: str) -> None:
        """A QR code (error correction M) filling a ``size`` mm square, quiet zone included."""
        import segno

        code = segno.make_qr(payload, error="m", boost_error=False)
        matrix = [list(row) for row in code.matrix]
        n = len(matrix) + 8  # four modules of quiet zone each side
        module = size / n
        self.rect(x, y, size, size, fill=(1, 1, 1))
        self.cr.set_source_rgb(0, 0, 0)
        for r, row in enumerate(matrix):
            for c, dark in enumerate(row):
                if dark:
                    self.cr.rectangle((x + (c + 4) * module) * MM, (y + (r + 4) * module) * MM,
                                      module * MM + 0.01, module * MM + 0.01)
        self.cr.fill()


@contextmanager
def pdf(path: Path, width_mm: float, height_mm: float, title: str = "") -> Iterator[Page]:
    """A one-page PDF written atomically: the file appears complete or not at all."""
    cairo, _, _ = _libs()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with _PRINTING:
        surface = cairo.PDFSurface(str(tmp), width_mm * MM, height_mm * MM)
        if title:
            surface.set_metadata(cairo.PDF_METADATA_TITLE, title)
        surface.set_metadata(cairo.PDF_METADATA_CREATOR, "enrolment-station")
        try:
            yield Page(cairo.Context(surface), width_mm, height_mm)
            surface.finish()
        except BaseException:
            surface.finish()
            tmp.unlink(missing_ok=True)
            raise
    tmp.replace(path)
