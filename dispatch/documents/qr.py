"""The QR code of a case link: its modules, and the picture printed on a paper (pure)."""

from __future__ import annotations

import io

from PIL import Image
from reportlab.graphics.barcode import qrencoder

SCALE = 6
BORDER = 4


def qr_matrix(text: str) -> list[list[bool]]:
    """The dark (True) and light modules of the QR code of `text` (error correction M, the smallest version)."""
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(text)
    code.make()
    n = code.getModuleCount()
    return [[bool(code.isDark(r, c)) for c in range(n)] for r in range(n)]


def qr_png(text: str) -> bytes:
    """The QR code of `text` as a black-and-white PNG with its quiet zone, SCALE pixels a module."""
    modules = qr_matrix(text)
    side = (len(modules) + 2 * BORDER) * SCALE
    image = Image.new("1", (side, side), 1)
    for r, row in enumerate(modules):
        for c, dark in enumerate(row):
            if dark:
                x, y = (c + BORDER) * SCALE, (r + BORDER) * SCALE
                image.paste(0, (x, y, x + SCALE, y + SCALE))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
