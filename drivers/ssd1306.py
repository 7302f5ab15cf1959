# 128x64 OLED on I2C: SSD1306, or SH1106 (132-column RAM, the panel shows
# columns 2..129, page addressing only). Text in a 6x8 font with every
# Russian and Kazakh letter (drivers/font6x8.py, passed in by the board):
# 21 columns x 8 rows, the status strip (row 0) inverted.
#
# The frame lives in a framebuf.FrameBuffer (MONO_VLSB: a byte is 8 pixels
# down a column, one "page" of the controller). A text row is 8 pixels high
# and sits on a page, so a glyph column is one byte copied from the font.
# show(lines) redraws the rows that changed and sends, of each, the span
# from the first to the last character that changed.

import framebuf

from compat import const

ADDR = const(0x3C)
SSD1306 = "ssd1306"
SH1106 = "sh1106"
CMD = b"\x00"  # control byte: commands follow
DATA = b"\x40"  # control byte: display data follows
GLYPHS_ASCII = const(95)
GLYPHS_CYR = const(64)  # А..я
UNKNOWN = const(0x3F - 0x20)  # "?"

_INIT_SSD1306 = bytes((
    0xAE, 0xD5, 0x80, 0xA8, 0x3F, 0xD3, 0x00, 0x40, 0x8D, 0x14, 0x20, 0x02, 0xA1, 0xC8, 0xDA, 0x12,
    0x81, 0xCF, 0xD9, 0xF1, 0xDB, 0x40, 0xA4, 0xA6, 0xAF))
# no charge pump command (0x8D) nor addressing mode (0x20) on the SH1106:
# its DC-DC is 0xAD 0x8B and it only addresses by page
_INIT_SH1106 = bytes((
    0xAE, 0xD5, 0x80, 0xA8, 0x3F, 0xD3, 0x00, 0x40, 0xAD, 0x8B, 0xA1, 0xC8, 0xDA, 0x12,
    0x81, 0x80, 0xD9, 0x22, 0xDB, 0x35, 0xA4, 0xA6, 0xAF))


def glyph_index(font, ch):
    o = ord(ch)
    if 0x20 <= o < 0x7F:
        return o - 0x20
    if 0x410 <= o < 0x450:
        return GLYPHS_ASCII + o - 0x410
    i = font.EXTRA.find(ch)
    return GLYPHS_ASCII + GLYPHS_CYR + i if i >= 0 else UNKNOWN


def _changed(old, new, cols):
    # the columns a..b-1 that differ between two texts of a row
    n = min(max(len(old), len(new)), cols)
    a = 0
    while a < n and a < len(old) and a < len(new) and old[a] == new[a]:
        a += 1
    b = n
    while b > a and b <= len(old) and b <= len(new) and old[b - 1] == new[b - 1]:
        b -= 1
    return a, b


class Oled:
    def __init__(self, i2c, font, addr=ADDR, kind=SSD1306, width=128, height=64):
        self.i2c = i2c
        self.font = font
        self.glyphs = memoryview(font.DATA)
        self.addr = addr
        self.kind = kind
        self.width = width
        self.cols = width // font.W
        self.rows = height // 8
        self.offset = 2 if kind == SH1106 else 0  # the panel's first RAM column
        self.buf = bytearray(width * self.rows)
        self.fb = framebuf.FrameBuffer(self.buf, width, height, framebuf.MONO_VLSB)
        self.shown = [None] * self.rows  # the text on each row
        self.i2c.writeto(addr, CMD + (_INIT_SH1106 if kind == SH1106 else _INIT_SSD1306))
        self.show([""] * self.rows)  # the RAM holds noise after power-up

    def _page(self, p, x0, x1):
        # pixels x0..x1-1 of page p to the controller
        c = self.offset + x0
        self.i2c.writeto(self.addr, CMD + bytes((0xB0 | p, c & 0x0F, 0x10 | (c >> 4))))
        w = self.width
        self.i2c.writevto(self.addr, (DATA, memoryview(self.buf)[p * w + x0:p * w + x1]))

    def _draw(self, r, s):
        # row r: the text, inverted on the status strip
        w = self.width
        inv = r == 0
        self.fb.fill_rect(0, r * 8, w, 8, 1 if inv else 0)
        buf = self.buf
        g = self.glyphs
        fw = self.font.W
        x = r * w
        for ch in s[:self.cols]:
            k = glyph_index(self.font, ch) * fw
            for i in range(fw):
                buf[x + i] = g[k + i] ^ 0xFF if inv else g[k + i]
            x += fw

    def show(self, lines):
        if len(lines) != self.rows:
            raise ValueError("display: %d lines, %d rows" % (len(lines), self.rows))
        n = 0
        for r in range(self.rows):
            old = self.shown[r]
            new = lines[r]
            if new == old:
                continue
            self._draw(r, new)
            if old is None:
                self._page(r, 0, self.width)
            else:
                # only the characters from the first to the last that changed
                a, b = _changed(old, new, self.cols)
                self._page(r, a * self.font.W, b * self.font.W)
            self.shown[r] = new
            n += 1
        return n

    def contrast(self, v):
        self.i2c.writeto(self.addr, CMD + bytes((0x81, v & 0xFF)))

    def power(self, on):
        self.i2c.writeto(self.addr, CMD + bytes((0xAF if on else 0xAE,)))
