"""The one ReportLab workaround: charts go into the PDF as their PNG's own compressed pixels.

ReportLab's `Image` flowable decodes every PNG with Pillow and re-encodes it (tens of milliseconds per
chart, and a larger file). A PNG's IDAT stream is already the zlib-compressed scanlines a PDF image
with a `/Predictor 15` decode filter takes, so `png_pixels` reads the chunks once and `png_flowable`
writes them as they are. This module is the only place that reaches below ReportLab's public API.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from functools import cache
from typing import Any


@dataclass(frozen=True, slots=True)
class PngPixels:
    """What a PDF needs of a PNG: size, bit depth, palette (empty for RGB) and compressed scanlines."""

    width: int
    height: int
    depth: int
    palette: bytes
    scanlines: bytes
    name: str


def png_pixels(png: bytes) -> PngPixels:
    """Split a non-interlaced RGB or palette PNG into the parts a PDF image is made of."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    position, chunks, header, palette = 8, [], b"", b""
    while position < len(png):
        length = int.from_bytes(png[position : position + 4], "big")
        kind, data = png[position + 4 : position + 8], png[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = data
        elif kind == b"PLTE":
            palette = data
        elif kind == b"IDAT":
            chunks.append(data)
        position += 12 + length
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if interlace or not ((color_type == 2 and depth == 8) or (color_type == 3 and palette)):
        raise ValueError("only 8-bit RGB and palette PNGs without interlacing go into a report as they are")
    name = "chart" + hashlib.blake2b(png, digest_size=8).hexdigest()
    return PngPixels(width, height, depth, palette if color_type == 3 else b"", b"".join(chunks), name)


@cache
def _png_xobject() -> type:
    """A PDF image object whose stream is a PNG's compressed scanlines, decoded by the PNG predictor."""
    from reportlab.pdfbase import pdfdoc

    class HexString(pdfdoc.PDFObject):
        def __init__(self, data: bytes) -> None:
            self.data = data

        def format(self, document: Any) -> bytes:
            return b"<" + self.data.hex().encode() + b">"

    class PngXObject(pdfdoc.PDFImageXObject):
        def __init__(self, pixels: PngPixels) -> None:
            self.name = pixels.name
            self.pixels = pixels

        def format(self, document: Any) -> bytes:
            pixels = self.pixels
            stream = pdfdoc.PDFStream(content=pixels.scanlines)
            entries = stream.dictionary
            entries["Type"] = pdfdoc.PDFName("XObject")
            entries["Subtype"] = pdfdoc.PDFName("Image")
            entries["Width"] = pixels.width
            entries["Height"] = pixels.height
            entries["BitsPerComponent"] = pixels.depth
            rgb = pdfdoc.PDFName("DeviceRGB")
            if pixels.palette:
                top = len(pixels.palette) // 3 - 1
                entries["ColorSpace"] = pdfdoc.PDFArray(
                    [pdfdoc.PDFName("Indexed"), rgb, top, HexString(pixels.palette)]
                )
            else:
                entries["ColorSpace"] = rgb
            entries["Filter"] = pdfdoc.PDFName("FlateDecode")
            entries["DecodeParms"] = pdfdoc.PDFDictionary(
                {
                    "Predictor": 15,
                    "Colors": 1 if pixels.palette else 3,
                    "BitsPerComponent": pixels.depth,
                    "Columns": pixels.width,
                }
            )
            entries["Length"] = len(pixels.scanlines)
            result: bytes = stream.format(document)
            return result

    return PngXObject


@cache
def png_flowable() -> type:
    """A flowable that puts a PNG's compressed pixels into the PDF untouched.

    ReportLab's own Image decodes a PNG and compresses its pixels again on every document,
    which would be most of the time of a report whose charts are already drawn.
    """
    from reportlab.platypus import Flowable

    png_xobject = _png_xobject()

    class PngImage(Flowable):
        def __init__(self, pixels: PngPixels, width: float, height: float) -> None:
            super().__init__()
            self.pixels, self.width, self.height = pixels, width, height

        def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
            return self.width, self.height

        def draw(self) -> None:
            # What Canvas.drawImage does once it has its image object.
            canvas, name = self.canv, self.pixels.name
            document = canvas._doc
            reference = document.getXObjectName(name)
            if document.idToObject.get(reference) is None:
                image = png_xobject(self.pixels)
                document.Reference(image, reference)
                document.addForm(name, image)
            canvas._currentPageHasImages = 1
            canvas.saveState()
            canvas.scale(self.width, self.height)
            canvas._code.append(f"/{reference} Do")
            canvas.restoreState()
            canvas._formsinuse.append(name)

    return PngImage
