"""Bytes and UART time of a typical 10-line Kazakh/Russian receipt for each
way of printing the Kazakh letters (drivers/escpos.py), at 115200 baud
(10 bits per byte on the wire):

    python tools/bench_printer.py

RK1048 (Epson ESC t 53), CP866 + user-defined glyphs (sent once per
power-up, counted apart), raster lines for the lines with a Kazakh letter,
and every line as raster for comparison (KZ-25: the 7 s budget).
"""

import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path[:0] = [os.path.join(ROOT, "firmware"), ROOT]

from drivers import escpos as E  # noqa: E402

BAUD = 115200
LINES = (
    "ТОО «Сәулет», Астана",
    "ЖСН/БСН: 990511400009",
    "ФИСКАЛДЫҚ ЧЕК / ФИСКАЛЬНЫЙ ЧЕК",
    "1. Қымыз, 1 л / Кумыс, 1 л",
    "1 дана x 1 200.00       1 200.00",
    "2. Ақ нан / Хлеб белый",
    "2 дана x 250.00           500.00",
    "ЖИЫНЫ / ИТОГО:          1 700.00",
    "Қолма-қол ақша / Наличные: 1 700",
    "ҚҚС 16% / НДС 16%:        234.48",
)


def receipt_bytes(prof, every_line_raster=False):
    d = E.EscPos(None, prof)
    out = E.JOB_START
    for s in LINES:
        out += E.raster_line(s, prof.dots) if every_line_raster else d.line(s)
    return out + d.cut()


def ms(n):
    return n * 10 * 1000 / BAUD


def main():
    rows = []
    for label, name, whole in (("RK1048 (epson80)", "epson80", False), ("CP866 + UDC (xprinter80)", "xprinter80", False),
                               ("CP866 + raster lines (panel58)", "panel58", False),
                               ("every line raster (80 mm)", None, True)):
        prof = E.profile(name) if name else E.Profile("raster80", 576, 48, 17, 73, None, False, False, True)
        init = len(E.init_bytes(prof))
        n = len(receipt_bytes(prof, whole))
        rows.append("| %s | %d | %.0f | %d | %.0f |" % (label, n, ms(n), init, ms(init)))
    print("| strategy | receipt bytes | ms at %d | power-up bytes | ms |" % BAUD)
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
