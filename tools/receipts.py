"""Receipts as the printer prints them: the register (on RAM flash, with the
core tests' fake OFD) -> kkm.layout -> the board printer port and the ESC/POS
driver -> the interpreter (tools/escpos_interp.py) -> PNG and transcript.

    python tools/receipts.py            # docs/receipts/*.png
    python tools/receipts.py --out DIR

Also the host tests' source of printed paper (tests/host/test_escpos_paper.py).
"""

import argparse
import asyncio
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
for _p in (os.path.join(ROOT, "tests", "core"), os.path.join(ROOT, "firmware"), ROOT, os.path.dirname(__file__)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import escpos_interp as I  # noqa: E402
from boards.escpos_printer import EscPosPrinter  # noqa: E402
from drivers import escpos as E  # noqa: E402
from kkm import layout  # noqa: E402

GOODS_MARK = "010487000100016521abc123\x1d91EE11\x1d92testsign"
SHOES = "4870001000165"
BREAD = "4870001000011"


class Paper:
    # one printer (profile) with its interpreter, as the register's printer port
    def __init__(self, profile, paper_rows=None):
        self.sheet = I.Printer(profile, paper_rows)
        self.port = EscPosPrinter(I.Uart(self.sheet), E.profile(profile), 0)
        asyncio.run(self.port.poll())

    def settle(self):
        # the port's task until every job is done or failed
        async def go():
            await self.port.poll()
            while self.port.jobs:
                await self.port.job(self.port.jobs[0])

        asyncio.run(go())


def bench(profile):
    # a fiscalised register printing on `profile` (receipts in Kazakh)
    from regkit import fiscalised_bench

    b = fiscalised_bench()
    b.paper = Paper(profile)
    b.reg.printer = b.paper.port
    return b


def sale(reg):
    # a sale with Kazakh names and a marked product
    from regkit import line, sell

    lines = [line("Хлеб белый", 25000, 2000, gtin=BREAD, name_kk="Ақ нан"),
             line("Қымыз, 1 л", 120000, 1000, name_kk="Қымыз, 1 л"),
             line("Сүзбе ірімшігі", 85050, 500, unit="166", name_kk="Сүзбе ірімшігі")]
    lines.append(line("Ботинки кожаные", 2450000, 1000, gtin=SHOES, marks=[GOODS_MARK], name_kk="Былғары бәтеңке"))
    return sell(reg, lines, cash=3000000)


def expected_qr(reg, res):
    # the KZ-35 string of a printed receipt, from the journal's facts
    s = reg.settings
    return layout.qr_payload(s.get("check_url"), res.fiscal_sign, s.get("rnm"), res.doc.total(),
                             res.ts + s.get("tz_offset"))


def documents(profile, offline=False, z=False):
    # -> (bench, [Fiscalised]) with the paper settled
    b = bench(profile)
    out = []
    b.ofd.online = not offline
    out.append(sale(b.reg))
    b.paper.settle()
    b.reg.paper_check()
    if z:
        from kkm import auth as A

        b.reg.login(1, "1111", A.MODE_SHIFT_CLOSE)
        b.reg.close_shift()
        b.paper.settle()
    return b, out


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "receipts"))
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    made = []
    for name, profile, offline, z in (("sale-58mm", "xprinter58", False, False),
                                      ("sale-80mm", "epson80", False, False),
                                      ("offline-58mm", "rongta58", True, False),
                                      ("z-report-80mm", "xprinter80", False, True)):
        b, _ = documents(profile, offline, z)
        sheet = b.paper.sheet
        if z:
            # only the Z: the paper after the sale's cut
            cut = max(i for i, r in enumerate(sheet.rows) if r[0] == 160 and i < len(sheet.rows) - 1)
            sheet.rows = sheet.rows[cut + 1:]
        if sheet.errors:
            raise SystemExit("%s: printer errors %s" % (name, sheet.errors))
        path = os.path.join(a.out, name + ".png")
        sheet.save_png(path)
        made.append("%s (%s, %d bytes)" % (path, profile, os.path.getsize(path)))
    print("\n".join(made))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
