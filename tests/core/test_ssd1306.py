# The OLED driver (drivers/ssd1306.py) byte for byte and against the
# controller double (boards/host/hw/chip_ssd1306.py) for the SSD1306 and
# the SH1106: every Russian and Kazakh letter of the project font on the
# panel (KZ-11), the strip inverted, only changed rows sent; the double's
# addressing modes checked on their own.
from hwkit import fresh, transfers

from chip_ssd1306 import SSD1306Chip
from drivers import font6x8 as F
from drivers import ssd1306 as S

ADDR = 0x3C
KAZAKH = "ӘәҒғҚқҢңӨөҰұҮүҺһІі"
RUSSIAN = "".join(chr(c) for c in range(0x410, 0x450)) + "Ёё"


def _glyphs():
    # glyph -> character; the Latin one where a Cyrillic letter looks the same
    out = {}
    for ch in F.EXTRA + RUSSIAN + "".join(chr(c) for c in range(0x20, 0x7F)):
        out[_glyph(ch)] = ch
    return out


def _glyph(ch):
    k = S.glyph_index(F, ch) * 6
    return bytes(F.DATA[k:k + 6])


def _read(glyphs, s):
    # a text as the panel reads back: each character by its glyph
    return "".join(glyphs[_glyph(ch)] for ch in s)


def _rig(kind=S.SSD1306):
    m = fresh()
    chip = SSD1306Chip(kind)
    m.attach(0, ADDR, chip)
    return m, chip, S.Oled(m.I2C(0), F, ADDR, kind)


def test_the_font_has_every_russian_and_kazakh_letter_each_its_own_picture():
    seen = {}
    for ch in RUSSIAN + KAZAKH:
        g = _glyph(ch)
        assert S.glyph_index(F, ch) != S.UNKNOWN and any(g), ch
        seen.setdefault(g, []).append(ch)
    # no two letters share a picture, but for Һ and һ: the typeface draws
    # them alike at this size (docs/ui.md)
    assert [v for v in seen.values() if len(v) > 1] == [["Һ", "һ"]]
    assert len(F.DATA) == 6 * (95 + 64 + len(F.EXTRA))
    for c in range(0x21, 0x7F):
        assert any(_glyph(chr(c))), chr(c)  # every sign has ink in the cell


def test_init_and_a_row_byte_exact_ssd1306():
    m, chip, oled = _rig()
    t = transfers(ADDR)
    assert t[0][2] == b"\x00" + S._INIT_SSD1306
    assert t[1] == (ADDR, "w", b"\x00\xb0\x00\x10")  # page 0, column 0
    assert t[2] == (ADDR, "w", b"\x40" + b"\xff" * 128)  # the empty strip, inverted
    assert t[3] == (ADDR, "w", b"\x00\xb1\x00\x10") and t[4] == (ADDR, "w", b"\x40" + bytes(128))
    n = len(transfers())
    oled.show(["", "A", "", "", "", "", "", ""])
    assert transfers(ADDR)[n:] == [(ADDR, "w", b"\x00\xb1\x00\x10"), (ADDR, "w", b"\x40" + _glyph("A"))]
    n = len(transfers())
    oled.show(["", "ABCDE", "", "", "", "", "", ""])  # columns 6..29: page 1 from column 6
    assert transfers(ADDR)[n:] == [(ADDR, "w", b"\x00\xb1\x06\x10"),
                                   (ADDR, "w", b"\x40" + b"".join(_glyph(c) for c in "BCDE"))]
    assert not chip.unknown and chip.on and chip.charge_pump


def test_kz_11_every_letter_on_the_panel_both_controllers():
    for kind in (S.SSD1306, S.SH1106):
        m, chip, oled = _rig(kind)
        g = _glyphs()
        frame = ["Онлайн [0] wifi", KAZAKH, RUSSIAN[:21], RUSSIAN[21:42], RUSSIAN[42:63], RUSSIAN[63:],
                 "Жиыны:        250.00", "> 12"]
        assert oled.show(frame) == 8
        want = [_read(g, s) + " " * (21 - len(s)) for s in frame]
        assert chip.text(g) == want, kind
        assert chip.pixel(0, 0) == 1 and chip.pixel(0, 8) == 0  # the strip is inverted
        assert not chip.unknown, (kind, chip.unknown)
        if kind == S.SH1106:
            assert transfers(ADDR)[-2][2] == b"\x00\xb7\x02\x10"  # its panel starts at RAM column 2


def test_only_changed_rows_are_sent():
    m, chip, oled = _rig()
    frame = ["Онлайн", "Дайын 12:04", "", "", "", "", "", ""]
    oled.show(frame)
    n = len(transfers())
    us = m.bus_us(0)
    frame[1] = "Дайын 12:05"
    assert oled.show(frame) == 1
    assert len(transfers()) == n + 2
    assert (m.bus_us(0) - us) < 500  # one character at 400 kHz: docs/performance.md
    assert oled.show(frame) == 0


def test_the_double_honours_horizontal_and_vertical_addressing():
    m = fresh()
    chip = SSD1306Chip()
    m.attach(0, ADDR, chip)
    i2c = m.I2C(0)
    i2c.writeto(ADDR, b"\x00\xaf\x20\x00\x21\x7e\x7f\x22\x00\x01")  # horizontal, columns 126..127, pages 0..1
    i2c.writeto(ADDR, b"\x40\x01\x02\x03\x04\x05")
    # 126, 127 on page 0, 126, 127 on page 1, then back to page 0
    assert (chip.ram[126], chip.ram[127], chip.ram[128 + 126], chip.ram[128 + 127]) == (5, 2, 3, 4)
    chip2 = SSD1306Chip()
    m.attach(0, 0x3D, chip2)
    i2c.writeto(0x3D, b"\x00\x20\x01\x21\x00\x01\x22\x06\x07")  # vertical, columns 0..1, pages 6..7
    i2c.writeto(0x3D, b"\x40\x09\x0a\x0b")
    assert chip2.ram[6 * 128] == 9 and chip2.ram[7 * 128] == 10 and chip2.ram[6 * 128 + 1] == 11
    i2c.writeto(0x3D, b"\x80\xa7\x80\xaf")  # Co=1: one command each
    assert chip2.inverted and chip2.on


def test_the_double_knows_which_commands_each_controller_has():
    m = fresh()
    sh = SSD1306Chip("sh1106")
    m.attach(0, ADDR, sh)
    m.I2C(0).writeto(ADDR, b"\x00\x20\x00\x8d\x14\xad\x8b")  # SSD1306 commands on an SH1106
    assert sh.unknown == [0x20, 0x8D] and sh.charge_pump and sh.mode == 2
