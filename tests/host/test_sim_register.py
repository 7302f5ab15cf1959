# The scripted driver of `make sim` (tools/sim_register.py): a script of key
# presses runs the app on the PC board and gives its frames and paper; the
# same app under CPython (--cpython) on the 128x64 display; the paper key;
# a copy after a restart carries the stored fiscal sign (KZ-24).

import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, ROOT)

from tools.sim_register import Sim  # noqa: E402

BREAD = "4870001000011"
SCRIPT = """\
keys 1 ENT 1234 ENT
expect Готов
scan 4870001000011   # the scan prompt of the terminal
keys 180 ENT PAY 500 CASH
expect Чек выдан
"""


def test_script_of_keys_gives_frames_and_paper(tmp_path):
    script = tmp_path / "day.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "sim_register.py"), "--var",
                        str(tmp_path / "var"), str(script)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "|Сдача         320.00|" in p.stdout  # a 20x4 frame as the driver prints it
    assert re.search(r"Фискальный признак:\s+\d{10}", p.stdout)  # the paper after the frames


def test_cpython_graphic_display_paper_key_and_copy_after_restart(tmp_path):
    var = str(tmp_path / "var")
    sim = Sim(var, "--cpython", "--display", "128x64")
    try:
        sim.press("1", "ENT", "1234", "ENT")
        f = sim.shows("Готов")
        assert len(f) == 8 and all(len(s) == 21 for s in f), f
        sim.press(BREAD, "PLU", "250", "ENT", "PAY")
        sim.shows("К оплате")
        sim.type("P")  # the paper runs out: the printer says so, the receipt waits
        sim.press("CASH")
        sim.shows("Нет бумаги")
        assert "printer: no_paper" in sim.text()
        sim.type("P")
        sim.press("ESC", "CASH")
        sim.shows("Чек выдан")
        sign = re.findall(r"Фискальный признак:\s+(\d{10})", sim.printed("Фискальный признак"))[-1]
    finally:
        sim.close()
    assert sim.proc.returncode == 0, sim.text()[-2000:]
    sim = Sim(var, "--cpython")
    try:
        sim.press("1", "ENT", "1234", "ENT")
        sim.shows("Готов")
        n = len(sim.paper())
        sim.press("COPY")
        sim.until(lambda: len(sim.paper()) > n)
        copy = sim.paper()[n:]
        assert "КОПИЯ" in copy and sign in copy and "i=" + sign in copy.replace("|\n|", "")
    finally:
        sim.close()
