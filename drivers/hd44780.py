# HD44780 character display (20x4) on I2C through a PCF8574 backpack, with
# the Cyrillic ("English/Russian") character ROM.
#
# Backpack wiring: P0 RS, P1 RW, P2 E, P3 backlight, P4..P7 = D4..D7, so the
# controller runs in 4-bit mode: each byte is two nibbles, each nibble two
# bus bytes (E high, then E low: the controller latches on the falling edge).
# show(lines) rewrites only the characters that changed, in runs: a new
# clock minute costs a few dozen bus bytes, not the whole screen.
#
# Letters: ASCII and the Russian letters from the ROM (the Cyrillic ones
# that look Latin are the Latin ones); І і Ү һ look exactly like Latin
# I i Y h. The other 14 Kazakh letters (Ә ә Ғ ғ Қ қ Ң ң Ө ө Ұ ұ ү Һ) are
# drawn into the 8 user glyph slots (CGRAM) as a frame needs them: a slot
# keeps its letter while the letter is on the screen, a free one takes the
# next letter. Past 8 different ones on one screen, the rest are shown as
# their base Cyrillic letter (Қ as К, ү as у: LOOKALIKE), in reading order.

from compat import const, sleep_ms

ADDR = const(0x27)  # PCF8574; 0x3F on a PCF8574A backpack
RS = const(0x01)
EN = const(0x04)
LIGHT = const(0x08)
ROW_ADDR = (0x00, 0x40, 0x14, 0x54)  # DDRAM address of each row on a 20x4
SLOTS = const(8)

# ROM codes of А..Я, а..я (U+0410..U+044F); Ё 0xA2, ё 0xB5
_CYR = bytes((
    0x41, 0xA0, 0x42, 0xA1, 0xE0, 0x45, 0xA3, 0xA4, 0xA5, 0xA6, 0x4B, 0xA7, 0x4D, 0x48, 0x4F, 0xA8,
    0x50, 0x43, 0x54, 0xA9, 0xAA, 0x58, 0xE1, 0xAB, 0xAC, 0xE2, 0xAD, 0xAE, 0x62, 0xAF, 0xB0, 0xB1,
    0x61, 0xB2, 0xB3, 0xB4, 0xE3, 0x65, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xBB, 0xBC, 0xBD, 0x6F, 0xBE,
    0x70, 0x63, 0xBF, 0x79, 0xE4, 0x78, 0xE5, 0xC0, 0xC1, 0xE6, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7))
# Kazakh letters the ROM shows as they are, and signs at their ROM codes
_SAME = "ІIіiҮYһh"
_SIGNS = "№\xcc«\xc8»\xc9"
# the Kazakh letters drawn in CGRAM: 5x8, row by row, bit 4 leftmost
KAZAKH = "ӘәҒғҚқҢңӨөҰұүҺ"
GLYPHS = (
    b"\x0e\x11\x01\x1f\x11\x11\x0e\x00",  # Ә
    b"\x00\x00\x0e\x01\x1f\x11\x0e\x00",  # ә
    b"\x0f\x08\x08\x1e\x08\x08\x08\x00",  # Ғ
    b"\x00\x00\x0f\x08\x1c\x08\x08\x00",  # ғ
    b"\x12\x14\x18\x14\x12\x12\x13\x01",  # Қ
    b"\x00\x00\x12\x14\x18\x14\x13\x01",  # қ
    b"\x12\x12\x12\x1e\x12\x12\x13\x01",  # Ң
    b"\x00\x00\x12\x12\x1e\x12\x13\x01",  # ң
    b"\x0e\x11\x11\x1f\x11\x11\x0e\x00",  # Ө
    b"\x00\x00\x0e\x11\x1f\x11\x0e\x00",  # ө
    b"\x11\x11\x0a\x04\x1f\x04\x04\x00",  # Ұ
    b"\x00\x00\x11\x11\x0a\x04\x0e\x04",  # ұ
    b"\x00\x00\x11\x11\x0a\x04\x04\x04",  # ү
    b"\x10\x10\x10\x1e\x11\x11\x11\x00",  # Һ
)
LOOKALIKE = "АаГгКкНнОоУууh"  # what each KAZAKH letter becomes without a slot


def rom_code(ch):
    # the ROM code of a character, or None: a Kazakh letter for CGRAM
    o = ord(ch)
    if 0x20 <= o < 0x7E:
        return o
    if 0x410 <= o <= 0x44F:
        return _CYR[o - 0x410]
    if ch == "Ё":
        return 0xA2
    if ch == "ё":
        return 0xB5
    i = _SAME.find(ch)
    if i >= 0 and i % 2 == 0:
        return ord(_SAME[i + 1])
    i = _SIGNS.find(ch)
    if i >= 0 and i % 2 == 0:
        return ord(_SIGNS[i + 1])
    if ch in KAZAKH:
        return None
    return 0x3F  # "?": nothing like it in the ROM


class HD44780:
    def __init__(self, i2c, addr=ADDR, cols=20, rows=4):
        self.i2c = i2c
        self.addr = addr
        self.cols = cols
        self.rows = rows
        self.light = LIGHT
        self.slots = [None] * SLOTS  # the Kazakh letter in each CGRAM slot
        self.shown = [bytearray(b" " * cols) for _ in range(rows)]  # the codes in DDRAM
        self.overflow = 0  # letters shown as look-alikes in the last frame
        self._init()

    # --- the bus -----------------------------------------------------------------

    def _nibbles(self, out, value, rs):
        for n in (value & 0xF0, (value << 4) & 0xF0):
            b = n | rs | self.light
            out.append(b | EN)
            out.append(b)

    def _send(self, out):
        if out:
            self.i2c.writeto(self.addr, out)

    def _init(self):
        # reset by instruction (HD44780 datasheet, 4-bit interface)
        sleep_ms(50)
        for wait in (5, 1, 1):
            self._send(bytearray((0x30 | self.light | EN, 0x30 | self.light)))
            sleep_ms(wait)
        self._send(bytearray((0x20 | self.light | EN, 0x20 | self.light)))  # 4-bit
        out = bytearray()
        for cmd in (0x28, 0x08, 0x01):  # 2-line (4 rows), 5x8; off; clear
            self._nibbles(out, cmd, 0)
        self._send(out)
        sleep_ms(2)  # the clear takes 1.52 ms
        out = bytearray()
        for cmd in (0x06, 0x0C):  # cursor moves right; display on, no cursor
            self._nibbles(out, cmd, 0)
        self._send(out)

    def backlight(self, on):
        self.light = LIGHT if on else 0
        self._send(bytearray((self.light,)))

    # --- the screen ----------------------------------------------------------------

    def codes(self, lines):
        # the frame -> the DDRAM codes of each row, and the CGRAM writes
        # (slot, glyph) the letters need; slots of letters still shown stay
        need = []
        for s in lines:
            for ch in s:
                if rom_code(ch) is None and ch not in need:
                    need.append(ch)
        slots = self.slots
        keep = [ch if ch in need else None for ch in slots]
        writes = []
        for ch in need:
            if ch in keep:
                continue
            if None not in keep:
                break
            i = keep.index(None)
            keep[i] = ch
            writes.append((i, GLYPHS[KAZAKH.index(ch)]))
        self.overflow = 0
        rows = []
        for s in lines:
            row = bytearray(b" " * self.cols)
            for i, ch in enumerate(s[:self.cols]):
                c = rom_code(ch)
                if c is None:
                    if ch in keep:
                        c = keep.index(ch)
                    else:
                        self.overflow += 1
                        c = rom_code(LOOKALIKE[KAZAKH.index(ch)])
                row[i] = c
            rows.append(row)
        for i in range(SLOTS):
            slots[i] = keep[i]
        return rows, writes

    def show(self, lines):
        if len(lines) != self.rows:
            raise ValueError("display: %d lines, %d rows" % (len(lines), self.rows))
        rows, writes = self.codes(lines)
        out = bytearray()
        for slot, glyph in writes:
            self._nibbles(out, 0x40 | (slot << 3), 0)  # CGRAM address
            for b in glyph:
                self._nibbles(out, b, RS)
        for r in range(self.rows):
            new = rows[r]
            old = self.shown[r]
            c = 0
            while c < self.cols:
                if new[c] == old[c]:
                    c += 1
                    continue
                self._nibbles(out, 0x80 | (ROW_ADDR[r] + c), 0)  # DDRAM address
                while c < self.cols and new[c] != old[c]:
                    self._nibbles(out, new[c], RS)
                    c += 1
            self.shown[r] = new
        self._send(out)
        return len(out)
