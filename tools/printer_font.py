"""The printer's letters as 12 x 24 dot bitmaps (ESC/POS font A cell), drawn
from DejaVu Sans Mono (free licence: Bitstream Vera / DejaVu changes, public
domain; Debian package fonts-dejavu-core). One source for three users: the
user-defined Kazakh letters and the raster font that tools/gen_printer_font.py
freezes into drivers/escpos_font.py, the ROM font of the ESC/POS interpreter
(tools/escpos_interp.py), and the tests that compare a printed letter with
the font's.

A glyph is a tuple of 24 ints, one per dot row, bit 11 = leftmost dot.
"""

import os

from PIL import Image, ImageDraw, ImageFont

W = 12
H = 24
FONT_NAME = "DejaVu Sans Mono"
FONT_LICENCE = "Bitstream Vera licence with DejaVu changes in the public domain"
_PATHS = ("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
          "/usr/share/fonts/dejavu/DejaVuSansMono.ttf")
_SCALE = 4  # drawn at 4 times the dot size, then reduced: smoother strokes
_SIZE = 88  # pixels per em at that scale: capitals 16 dots (2.0 mm) high
_BASE = 20  # baseline dot row: room above for the dots of Ё, below for descenders
_THRESHOLD = 96  # grey level (of 255) from which a reduced dot prints
_CACHE = {}
_font = None


def font_path():
    for p in _PATHS:
        if os.path.exists(p):
            return p
    raise SystemExit("DejaVu Sans Mono not found: install the Debian package fonts-dejavu-core")


def _ttf():
    global _font
    if _font is None:
        _font = ImageFont.truetype(font_path(), _SIZE)
    return _font


def glyph(ch):
    """the 12 x 24 bitmap of one character"""
    g = _CACHE.get(ch)
    if g is None:
        f = _ttf()
        adv = int(f.getlength("H")) + 1  # monospaced: every cell is this wide
        img = Image.new("L", (adv, H * _SCALE), 0)
        ImageDraw.Draw(img).text((adv / 2, _BASE * _SCALE), ch, fill=255, font=f, anchor="ms")
        # the cell is squeezed to 12 dots wide: the font is a little wider than half its height
        px = img.resize((W, H), Image.BOX).load()
        g = tuple(sum(1 << (W - 1 - x) for x in range(W) if px[x, y] >= _THRESHOLD) for y in range(H))
        _CACHE[ch] = g
    return g


def columns(g):
    """a glyph as ESC & data: 12 columns of 3 bytes, top byte first, MSB = top dot"""
    out = bytearray()
    for x in range(W):
        bit = 1 << (W - 1 - x)
        for band in range(3):
            b = 0
            for k in range(8):
                if g[band * 8 + k] & bit:
                    b |= 0x80 >> k
            out.append(b)
    return bytes(out)


def rows_bytes(g):
    """a glyph as 2 bytes per dot row (MSB leftmost, 4 bits of padding)"""
    out = bytearray()
    for r in g:
        out.append(r >> 4)
        out.append((r << 4) & 0xFF)
    return bytes(out)
