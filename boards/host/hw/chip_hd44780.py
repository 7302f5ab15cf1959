# A PCF8574 backpack and the HD44780 behind it, as an I2C target: the
# expander's 8 output bits (P0 RS, P1 RW, P2 E, P3 backlight, P4..P7 D4..D7)
# drive the controller, which latches on E's falling edge. The controller
# starts in 8-bit mode (a power-up without the reset sequence leaves it
# there), takes the 4-bit switch, then two nibbles a byte; it keeps DDRAM,
# CGRAM, the address counter and the entry mode, and renders its rows as
# text through its character ROM (Cyrillic variant) and CGRAM glyphs.

ROW_ADDR = (0x00, 0x40, 0x14, 0x54)
# the Cyrillic ROM from 0xA0 and from 0xE0 (the rest of the Russian letters
# are the Latin look-alikes)
_ROM_A0 = "БГЁЖЗИЙЛПУФЧШЪЫЭЮЯбвгёжзийклмнптчшъыьэюя«»??№"  # to 0xCC; CA, CB: signs not used
_ROM_E0 = "ДЦЩдфцщ"
# Cyrillic letters the ROM shows with the Latin glyph, and the Latin letter
_FOLD_FROM = "АВЕКМНОРСТХЬаеорсухІіҮһ"
_FOLD_TO = "ABEKMHOPCTXbaeopcyxIiYh"


def fold(text):
    # a text as the ROM can show it: look-alike Cyrillic letters as Latin
    out = []
    for ch in text:
        i = _FOLD_FROM.find(ch)
        out.append(_FOLD_TO[i] if i >= 0 else ch)
    return "".join(out)


class HD44780Chip:
    def __init__(self, cols=20, rows=4, glyphs=None):
        # glyphs: {bytes(8): letter} to name CGRAM pictures in text()
        self.cols = cols
        self.rows = rows
        self.glyphs = glyphs or {}
        self.port = 0xFF  # PCF8574 outputs after power-up: all high
        self.four_bit = False
        self.pending = None  # the high nibble of a 4-bit byte
        self.ddram = bytearray(b" " * 0x68)
        self.cgram = bytearray(64)
        self.ac = 0
        self.to_cgram = False
        self.increment = True
        self.display_on = False
        self.lines2 = False
        self.commands = 0
        self.errors = []  # what a real controller would have done wrong with

    # --- the bus -------------------------------------------------------------------

    def start(self):
        pass

    def stop(self):
        pass

    def read(self, n):
        return bytes([self.port] * n)

    def write(self, data):
        for b in data:
            falling = (self.port & 0x04) and not (b & 0x04)
            if falling and not (b & 0x02):  # RW low: a write; data held while E falls
                self._latch(b >> 4, b & 0x01)
            self.port = b

    @property
    def backlight(self):
        return bool(self.port & 0x08)

    # --- the controller -------------------------------------------------------------

    def _latch(self, nibble, rs):
        if not self.four_bit:
            # 8-bit mode: D0..D3 are not wired, they read 0
            if rs:
                self.errors.append("data in 8-bit mode")
            else:
                self._command(nibble << 4)
            return
        if self.pending is None:
            self.pending = (nibble, rs)
            return
        hi, rs_hi = self.pending
        self.pending = None
        if rs_hi != rs:
            self.errors.append("RS changed inside a byte")
        v = (hi << 4) | nibble
        if rs:
            self._data(v)
        else:
            self._command(v)

    def _command(self, v):
        self.commands += 1
        if v & 0x80:
            self.ac = v & 0x7F
            self.to_cgram = False
        elif v & 0x40:
            self.ac = v & 0x3F
            self.to_cgram = True
        elif v & 0x20:
            self.four_bit = not (v & 0x10)
            self.lines2 = bool(v & 0x08)
        elif v & 0x10:
            pass  # cursor/display shift: not used by the driver
        elif v & 0x08:
            self.display_on = bool(v & 0x04)
        elif v & 0x04:
            self.increment = bool(v & 0x02)
        elif v & 0x02:
            self.ac = 0
            self.to_cgram = False
        elif v & 0x01:
            self.ddram[:] = b" " * len(self.ddram)
            self.ac = 0
            self.to_cgram = False
            self.increment = True

    def _data(self, v):
        step = 1 if self.increment else -1
        if self.to_cgram:
            self.cgram[self.ac & 0x3F] = v & 0x1F
            self.ac = (self.ac + step) & 0x3F
        else:
            if self.ac < len(self.ddram):
                self.ddram[self.ac] = v
            self.ac = (self.ac + step) & 0x7F

    # --- what the glass shows ------------------------------------------------------------

    def code_at(self, r, c):
        return self.ddram[ROW_ADDR[r] + c]

    def glyph(self, slot):
        return bytes(self.cgram[slot * 8:slot * 8 + 8])

    def char(self, code):
        if code < 8:
            return self.glyphs.get(self.glyph(code), "#")
        if 0x20 <= code < 0x7E:
            return chr(code)
        if 0xA0 <= code < 0xA0 + len(_ROM_A0):
            return _ROM_A0[code - 0xA0]
        if 0xE0 <= code < 0xE0 + len(_ROM_E0):
            return _ROM_E0[code - 0xE0]
        return "?"

    def text(self):
        # the rows as the glass shows them (blank while the display is off)
        if not self.display_on:
            return [" " * self.cols] * self.rows
        return ["".join(self.char(self.code_at(r, c)) for c in range(self.cols)) for r in range(self.rows)]
