"""Bus cost of the display drivers (docs/performance.md): bytes and I2C time
of a whole new screen and of a one-character change (the clock's minute),
for the HD44780 on its PCF8574 backpack and the SSD1306, at 100 and 400 kHz,
measured on the chip doubles (boards/host/hw) with the real drivers.

    .venv/bin/python tools/bench_display.py
"""

import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
for p in (os.path.join(ROOT, "boards", "host", "hw"), os.path.join(ROOT, "firmware"), ROOT):
    if p not in sys.path:
        sys.path.insert(0, p)

import machine  # noqa: E402
from chip_hd44780 import HD44780Chip  # noqa: E402
from chip_ssd1306 import SSD1306Chip  # noqa: E402

from drivers import font6x8 as F  # noqa: E402
from drivers import hd44780 as H  # noqa: E402
from drivers import ssd1306 as S  # noqa: E402

SCREEN = ["Онлайн [0] wifi", "Қолма-қол ақша", "Төленді:    1 000.00", "Қайтарым:     250.00"]


def _cost(i2c, fn):
    n = len(machine.log)
    us = machine.bus_us(0)
    fn()
    sent = sum(len(t[2]) + 1 for t in machine.log[n:])  # + the address byte
    return sent, (machine.bus_us(0) - us) / 1000


def main():
    print("display    bus kHz  whole screen        one character")
    for khz in (100, 400):
        for kind in ("hd44780", "ssd1306"):
            machine.reset()
            i2c = machine.I2C(0, freq=khz * 1000)
            if kind == "hd44780":
                machine.attach(0, H.ADDR, HD44780Chip())
                d = H.HD44780(i2c)
                a, b = SCREEN, SCREEN[:3] + [SCREEN[3][:-1] + "1"]
            else:
                machine.attach(0, S.ADDR, SSD1306Chip())
                d = S.Oled(i2c, F)
                a = SCREEN + ["", "", "", "> 12"]
                b = a[:7] + ["> 123"]
            whole = _cost(i2c, lambda: d.show(a))
            one = _cost(i2c, lambda: d.show(b))
            print("%-10s %7d  %5d B %6.2f ms   %4d B %5.2f ms" % (kind, khz, whole[0], whole[1], one[0], one[1]))


if __name__ == "__main__":
    main()
