# A day at the register as `make sim` runs it: the app (firmware/app.py) on
# the PC board (boards/host) under the MicroPython unix port, on a
# pseudo-terminal, the OFD simulator on loopback (tools/sim.py), driven by
# key presses (tools/sim_register.py). Login (KZ-1), a scanned sale with a
# marked good paid in cash with change (KZ-7.1), its return found by the
# fiscal sign on the paper, an offline sale (KZ-29) and a power cut,
# the replay after the restart (KZ-30), X and Z (KZ-31). Checked: every
# display frame, the paper transcript and what the OFD stored.

import os
import re
import signal
import sqlite3
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, ROOT)

from tools.sim_register import Sim  # noqa: E402

BREAD = "4870001000011"
CIGARETTES = "4870001000141"  # marked
MARK = "010487000100014121abc123"
# the app's MicroPython heap for the whole day; on the PC it also holds the
# flash images (272 KB) and compiles the modules from source, and the smallest
# heap jumps with the layout (a host-board change that adds only an unused
# function moved it from under 896K to over 1M); the device's heap is guarded
# by tests/host/test_memory_budget.py
HEAP = "1536K"


def _tickets(var):
    db = sqlite3.connect(os.path.join(var, "ofd.sqlite"))
    try:
        return db.execute("SELECT operation, total, offline_number FROM tickets ORDER BY seq").fetchall(), \
            db.execute("SELECT shift_number FROM z_reports").fetchall()
    finally:
        db.close()


def _frames_fit(sim):
    for f in sim.frames():
        assert len(f) == 4 and all(len(s) == 20 for s in f), f


def test_a_day_through_the_keys_under_micropython(tmp_path):
    var = str(tmp_path / "var")
    t0 = time.monotonic()
    sim = Sim(var, "--heap", HEAP)
    try:
        sim.until(lambda: sim.frame()[0].startswith("Онлайн [0] lan"))  # the power-on connection test
        sim.press("1", "ENT", "1234", "ENT")
        sim.shows("Готов")
        # a key reaches the display at once (the terminal is read every 10 ms)
        assert max(sim.latency("5"), sim.latency("CLR")) < 0.25
        # a scanned sale: the bread from the scanner's pipe, the marked
        # cigarettes typed at the scan prompt, then their marking code
        sim.pipe(BREAD)
        sim.shows("Цена:")
        sim.press("180", "ENT")
        sim.shows("Итого         180.00")
        sim.scan(CIGARETTES)
        sim.press("950", "ENT")
        sim.shows("Код маркировки: 0/1")
        sim.scan(MARK)
        sim.shows("Итого       1 130.00")
        sim.press("PAY", "2000", "CASH")
        f = sim.shows("Чек выдан")
        assert f[2] == "Сдача         870.00", f
        paper = sim.printed("Фискальный признак")  # the printer confirms after the display says done
        sign = re.findall(r"Фискальный признак:\s+(\d{10})", paper)[-1]
        assert MARK in paper and "Сдача:                                    870.00" in paper
        assert "/check?i=%s" % sign in paper.replace("|\n|", "")
        # the return found by the fiscal sign printed on the receipt
        sim.press("ESC", "RET", sign, "ENT")
        sim.shows("1/2 Хлеб белый")
        sim.press("ENT", "PAY")
        sim.shows("Возврат выдан")
        assert "ВОЗВРАТ ПРОДАЖИ" in sim.printed("ВОЗВРАТ ПРОДАЖИ")
        # offline: the OFD refuses every connection; the sale is signed by
        # the register and queued, the strip counts the 72 hours down
        sim.fault("refuse")
        sim.press("ESC", BREAD, "PLU", "300", "ENT", "PAY", "CASH")
        sim.shows("Автономный режим")
        sim.until(lambda: re.match(r"Автон 7[12]:\d\d \[1\] lan", sim.frame()[0]))
        assert len(_tickets(var)[0]) == 2
    finally:
        os.killpg(sim.proc.pid, signal.SIGKILL)  # a power cut: nothing saved on the way out
        sim.proc.wait()
        sim.close()
    _frames_fit(sim)
    # the restart (the simulator without the fault): the queued sale is in
    # the journal file and goes to the OFD at once
    sim = Sim(var, "--heap", HEAP)
    try:
        sim.until(lambda: sim.frame()[0].startswith("Онлайн [0]"))
        tickets = _tickets(var)[0]
        assert [(op, total) for op, total, _ in tickets] == [(2, 113000), (3, 113000), (2, 30000)]
        assert tickets[0][2] is None and tickets[2][2] is not None  # the last one signed offline
        sim.press("1", "ENT", "1234", "ENT")
        sim.shows("Готов")
        sim.press("X")
        sim.shows("X-отчёт")
        sim.press("ESC", "Z")
        sim.shows("Закрыть смену?")
        sim.press("ENT")
        sim.shows("Смена закрыта")
        assert "Смена № 1" in sim.screen()
        assert _tickets(var)[1] == [(1,)]
        paper = sim.printed("Z-")
        assert "X-" in paper and "Z-" in paper
    finally:
        sim.close()
    _frames_fit(sim)
    assert sim.proc.returncode == 0, sim.text()[-2000:]
    assert time.monotonic() - t0 < 90  # about 20 s on an idle machine
