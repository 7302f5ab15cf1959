# The HD44780 driver (drivers/hd44780.py) byte for byte on the PCF8574
# backpack, and against the controller double (boards/host/hw/chip_hd44780.py):
# Russian from the Cyrillic ROM, the Kazakh letters from the 8 CGRAM slots
# as the screen needs them, look-alikes past 8 (KZ-11), only changes sent.
from hwkit import fresh, transfers

from chip_hd44780 import HD44780Chip, fold
from drivers import hd44780 as H

ADDR = 0x27


def _rig(freq=400000):
    m = fresh()
    chip = HD44780Chip(glyphs={g: ch for g, ch in zip(H.GLYPHS, H.KAZAKH)})
    m.attach(0, ADDR, chip)
    i2c = m.I2C(0, freq=freq)
    return m, chip, H.HD44780(i2c, ADDR)


def _nib(v, rs=0):
    out = []
    for n in (v & 0xF0, (v << 4) & 0xF0):
        out += [n | rs | 0x0C, n | rs | 0x08]
    return out


def test_reset_sequence_and_setup_byte_exact():
    m, chip, lcd = _rig()
    sent = [t[2] for t in transfers(ADDR)]
    assert sent[:4] == [b"\x3c\x38"] * 3 + [b"\x2c\x28"]  # 8-bit x3, then 4-bit
    assert sent[4] == bytes(_nib(0x28) + _nib(0x08) + _nib(0x01))
    assert sent[5] == bytes(_nib(0x06) + _nib(0x0C))
    assert chip.four_bit and chip.lines2 and chip.display_on and chip.backlight and not chip.errors


def test_a_character_is_an_address_and_two_nibbles_with_rs():
    m, chip, lcd = _rig()
    n = len(transfers())
    lcd.show(["A", "", "", "Я"])
    assert transfers(ADDR)[n:] == [(ADDR, "w", bytes(_nib(0x80) + _nib(0x41, 1) + _nib(0x80 | 0x54) + _nib(0xB1, 1)))]


def test_kz_11_russian_and_kazakh_text_on_the_glass():
    m, chip, lcd = _rig()
    frame = ["Онлайн [0] wifi", "1.Ақ нан", "Жиыны:       250.00", "Төлеуге қалды «№ 5»"]
    lcd.show(frame)
    want = [fold(s) + " " * (20 - len(s)) for s in frame]
    assert chip.text() == want and lcd.overflow == 0
    # қ and ө take two slots; the picture of қ is the glyph the driver drew
    assert sorted(ch for ch in lcd.slots if ch) == sorted("қө")
    slot = lcd.slots.index("қ")
    assert chip.glyph(slot) == bytes((0, 0, 0b10010, 0b10100, 0b11000, 0b10100, 0b10011, 0b00001))


def test_only_the_characters_that_changed_go_over_the_bus():
    m, chip, lcd = _rig()
    lcd.show(["Дайын 12:04", "", "", ""])
    n = len(transfers())
    us = m.bus_us(0)
    assert lcd.show(["Дайын 12:05", "", "", ""]) == 8  # one address, one character
    assert len(transfers()) == n + 1
    assert m.bus_us(0) - us < 300  # microseconds at 400 kHz
    assert lcd.show(["Дайын 12:05", "", "", ""]) == 0


def test_past_eight_kazakh_letters_the_rest_show_as_look_alikes_in_reading_order():
    m, chip, lcd = _rig()
    frame = ["ӘәҒғҚқ", "ҢңӨөҰұ", "үҺ", ""]  # 14 letters
    lcd.show(frame)
    assert lcd.overflow == 6
    assert chip.text()[0].rstrip() == "ӘәҒғҚқ"
    assert chip.text()[1].rstrip() == "Ңң" + fold("ОоУу")
    assert chip.text()[2].rstrip() == fold("уh")
    # the next screen keeps the slots of letters still shown and reuses the others
    slot_of_q = lcd.slots.index("қ")
    lcd.show(["қ Һ", "ө", "", ""])
    assert lcd.slots.index("қ") == slot_of_q and lcd.overflow == 0
    assert chip.text()[0].rstrip() == "қ Һ" and chip.text()[1].rstrip() == "ө"


def test_the_reset_sequence_brings_back_a_controller_left_in_the_middle_of_a_byte():
    # the ESP32 restarts while the display keeps power: the controller may be
    # in 4-bit mode with half a byte taken; 0x3, 0x3, 0x3, 0x2 resynchronises it
    m = fresh()
    chip = HD44780Chip()
    chip.four_bit = True
    chip.pending = (0x4, 1)
    m.attach(0, ADDR, chip)
    lcd = H.HD44780(m.I2C(0), ADDR)
    lcd.show(["KKM", "", "", ""])
    assert chip.text()[0].startswith("KKM")


def test_a_full_screen_change_costs_a_bounded_bus_time():
    m, chip, lcd = _rig(400000)
    us = m.bus_us(0)
    n = lcd.show(["Қолма-қол ақша", "Төленді:    1 000.00", "Қайтарым:     250.00", "Чек № 12 ұсынылды"])
    ms = (m.bus_us(0) - us) / 1000
    assert n < 420 and ms < 10, (n, ms)  # docs/performance.md: the display figures
