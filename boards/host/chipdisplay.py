# The device's display driver on the PC (`make sim SIM_ARGS="--display
# hd44780"`, ssd1306, sh1106): the real driver draws each frame over the
# host's I2C stand-in into its chip double, and the terminal shows what the
# double's glass shows, read back (the HD44780: Russian letters that look
# Latin come back Latin, a Kazakh letter past the 8 glyph slots as its
# look-alike).

import sys

_hw = __file__.rsplit("/", 1)[0] + "/hw" if "/" in __file__ else "hw"
if _hw not in sys.path:
    sys.path.append(_hw)

import machine  # noqa: E402  (the stand-in in boards/host/hw)

BUS = 0
CHIPS = {"hd44780": (20, 4), "ssd1306": (21, 8), "sh1106": (21, 8)}


class ChipDisplay:
    def __init__(self, kind, term):
        self.term = term
        self.cols, self.rows = CHIPS[kind]
        i2c = machine.I2C(BUS, freq=400000)
        if kind == "hd44780":
            from chip_hd44780 import HD44780Chip
            from drivers import hd44780 as H

            self.chip = HD44780Chip(self.cols, self.rows, {g: ch for g, ch in zip(H.GLYPHS, H.KAZAKH)})
            machine.attach(BUS, H.ADDR, self.chip)
            self.driver = H.HD44780(i2c, H.ADDR, self.cols, self.rows)
            self.read = self.chip.text
        else:
            from chip_ssd1306 import SSD1306Chip
            from drivers import font6x8 as F
            from drivers import ssd1306 as S

            self.chip = SSD1306Chip(kind)
            machine.attach(BUS, S.ADDR, self.chip)
            self.driver = S.Oled(i2c, F, S.ADDR, kind)
            glyphs = {}
            for ch in F.EXTRA + "".join(chr(c) for c in range(0x410, 0x450)) + "".join(chr(c) for c in range(0x20, 0x7F)):
                k = S.glyph_index(F, ch) * F.W
                glyphs[bytes(F.DATA[k:k + F.W])] = ch

            def read():
                return self.chip.text(glyphs, F.W)

            self.read = read

    def show(self, lines):
        self.driver.show(lines)
        self.term.show(self.read())
