# The ESP32 boards as the app takes them (firmware/app.py's board interface),
# built on the PC from their own packages with the host's `machine` stand-in
# (boards/host/hw): each UART of the pin map a pseudo-terminal (the printer:
# the ESC/POS interpreter behind it; the scanner: bytes the test sends; the
# modem: the modem simulator), the I2C bus with the display's and the
# DS3231's chip doubles, the keypad a key matrix on the pins, the journal on
# the raw partitions of the board's partition table (boards.sim.partition).
# boards/esp32/wiring.py puts the real drivers on these buses; app.build()
# boots the register and its loop runs them; boards/start/main.py starts it
# through firmware/update.py. Requirements: KZ-2, KZ-18, KZ-28, KZ-43.1.
import asyncio
import os
import select
import sys
import threading
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HW = os.path.join(ROOT, "boards", "host", "hw")
if HW not in sys.path:
    sys.path.insert(0, HW)

import app as AP  # noqa: E402
import machine  # noqa: E402  (the stand-in)
import uart  # noqa: E402
from boards import esp32, esp32s3  # noqa: E402
from boards.sim.partition import Esp32  # noqa: E402
from chip_ds3231 import DS3231Chip  # noqa: E402
from chip_hd44780 import HD44780Chip, fold  # noqa: E402
from chip_ssd1306 import SSD1306Chip  # noqa: E402
from drivers import font6x8 as F  # noqa: E402
from drivers import ssd1306 as S  # noqa: E402
from keymatrix import KeyMatrix  # noqa: E402
from tools import deploy  # noqa: E402
from tools import partition_table as PT  # noqa: E402
from tools.escpos_interp import Printer  # noqa: E402
from tools.modemsim import ModemSim  # noqa: E402
from ui import keys  # noqa: E402

T0 = 1767254400
LOGIN = "Пайдаланушы коды:"


def _chip(csv):
    rows = PT.read_csv(os.path.join(ROOT, "boards", csv))
    return Esp32([(r["name"], r["type"], r["subtype"], r["offset"], r["size"]) for r in rows])


class _PrinterLine(threading.Thread):
    # the ESC/POS interpreter on the far end of the printer's terminal
    def __init__(self, fd):
        threading.Thread.__init__(self, daemon=True)
        self.fd = fd
        self.printer = Printer("epson80")
        self.stopping = False

    def run(self):
        while not self.stopping:
            if select.select([self.fd], [], [], 0.05)[0]:
                self.printer.feed(os.read(self.fd, 4096))
                out = self.printer.read()
                if out:
                    os.write(self.fd, out)


@pytest.fixture
def hw(tmp_path):
    # the buses: terminals for the UARTs the pin maps name, a deployed code folder
    machine.reset()
    masters = {}
    for n in (0, 1, 2):
        m, s = os.openpty()
        masters[n] = (m, s)
        uart.PORTS[n] = os.ttyname(s)
    line = _PrinterLine(masters[1][0])
    line.start()
    lib = tmp_path / "lib"
    lib.mkdir()
    deploy.write_manifest(str(lib), [])
    yield masters, line, str(lib)
    line.stopping = True
    line.join(1)
    for m, s in masters.values():
        os.close(m)
        os.close(s)
    uart.PORTS.clear()
    machine.reset()


async def _until(cond, s=5.0):
    t = time.monotonic() + s
    while not cond():
        if time.monotonic() > t:
            return False
        await asyncio.sleep(0.02)
    return True


def _press(app, matrix, r, c):
    # a key held past the debounce, then let go
    async def go():
        seen = app.ui.frame()
        matrix.press(r, c)
        await asyncio.sleep(0.15)
        matrix.release(r, c)
        return await _until(lambda: app.ui.frame() != seen, 2)
    return go()


def test_kz_2_s3_board_runs_the_register_on_its_real_drivers(hw):
    masters, line, lib = hw
    lcd = HD44780Chip(20, 4)
    machine.attach(0, 0x27, lcd)
    machine.attach(0, 0x68, DS3231Chip(time.time, ts=T0))
    pad = esp32s3.PINS
    matrix = KeyMatrix(pad["rows"], pad["cols"])
    sim = ModemSim("sim7600", ("127.0.0.1", 9), attach_ms=100).start()
    uart.PORTS[0] = sim.path
    try:
        board = esp32s3.make(machine, _chip("esp32s3/partitions.csv"))
        assert board.code == "/lib"
        board.code = lib  # the deployed code folder of this test
        assert abs(board.clock.now() - T0) < 5 and not board.clock.lost()  # the DS3231's time
        assert [c.name for c in board.channels] == ["wifi", "gsm"]
        app = AP.build(board)
        assert app.reg.acc.N == 2048 and app.reg.acc.z_slots_left() == 3072  # the S3 table's partitions
        assert AP.self_test_failed(app.reg) == []
        beeper = pad["beeper"]

        async def day():
            task = asyncio.create_task(app.run())
            try:
                # the display: the frame on the HD44780 behind its backpack
                assert await _until(lambda: lcd.text()[1].rstrip() == fold(LOGIN))
                # a key on the matrix reaches the UI: the digit typed as the user code
                assert await _press(app, matrix, 4, 0)  # "1" (ui.keys PAD)
                assert keys.PAD[4][0] == "1" and "1" in app.ui.frame()[2], app.ui.frame()
                # a code cut off on the scanner's line: a misread, refused with a beep
                os.write(masters[2][0], b"40063813")
                assert await _until(lambda: machine.levels.get(beeper) == 1, 2)
                # the printer answers its status poll and prints what it is given
                assert await _until(lambda: board.printer.status() == "ok")
                app.feed()
                assert await _until(lambda: line.printer.transcript, 5)
                # the modem comes up on its UART: the GSM channel is ready
                gsm = board.channels[1]
                assert await _until(lambda: gsm.state() == "up", 15), gsm.state()
                assert board.channels[0].state() == "off"  # no Wi-Fi network configured yet
            finally:
                app.stop()
                await task

        asyncio.run(day())
    finally:
        sim.stop()


def test_wroom_board_with_an_oled_and_wifi_only(hw):
    masters, line, lib = hw
    oled = SSD1306Chip("ssd1306")
    machine.attach(0, S.ADDR, oled)  # no DS3231: the ESP32's own RTC, not trusted after power-up
    machine.RTC.power_off()
    board = esp32.make(machine, _chip("esp32/partitions.csv"))
    board.code = lib
    assert board.clock.lost()
    assert (board.display.cols, board.display.rows) == (21, 8)
    assert [c.name for c in board.channels] == ["wifi"] and board.bus.modem_uart is None
    app = AP.build(board)
    assert app.reg.acc.N == 192
    app.draw()
    glyphs = {}  # read back: a Cyrillic letter where a Latin one looks the same
    for ch in "".join(chr(c) for c in range(0x20, 0x7F)) + "".join(chr(c) for c in range(0x410, 0x450)) + F.EXTRA:
        k = S.glyph_index(F, ch) * F.W
        glyphs[bytes(F.DATA[k:k + F.W])] = ch
    assert oled.text(glyphs, F.W)[1].rstrip() == LOGIN == app.ui.frame()[1]


def test_no_display_on_i2c_is_said(hw):
    machine.attach(0, 0x68, DS3231Chip(time.time, ts=T0))
    with pytest.raises(OSError, match="no display on I2C"):
        esp32s3.make(machine, _chip("esp32s3/partitions.csv"))


def _start(monkeypatch, root):
    # boards/start/main.py as the device runs it at power-on, in a folder
    # standing for the filesystem's root; the app's loop not entered
    import runpy

    from boards import target

    machine.attach(0, 0x27, HD44780Chip(20, 4))
    machine.attach(0, 0x68, DS3231Chip(time.time, ts=T0))

    def make():
        b = esp32s3.make(machine, _chip("esp32s3/partitions.csv"))
        assert b.code == "/lib"
        b.code = "lib"  # the root's lib, relative as the update's folders are
        return b

    resets = []
    served = []
    monkeypatch.chdir(root)
    monkeypatch.setattr(target, "make", make)
    monkeypatch.setattr(machine, "reset", lambda: resets.append(1))
    monkeypatch.setattr(AP, "serve", served.append)
    runpy.run_path(os.path.join(ROOT, "boards", "start", "main.py"))
    return resets, served


def _version(root, name, text):
    d = root / name
    d.mkdir()
    (d / "app.py").write_text(text)
    deploy.write_manifest(str(d), [])


def test_kz_43_1_start_script_confirms_an_update_that_passes_its_self_test(hw, monkeypatch, tmp_path, capsys):
    root = tmp_path / "root"
    root.mkdir()
    _version(root, "lib", "new")
    _version(root, "lib.old", "old")
    (root / "update.trial").write_text("trial")
    resets, served = _start(monkeypatch, root)
    out = capsys.readouterr().out
    assert "update confirmed" in out and "KKM 0.1.0 ready: self-test passed" in out
    assert sorted(os.listdir(root)) == ["lib"] and len(served) == 1 and not resets


def test_kz_43_1_start_script_rolls_back_an_update_that_fails_its_self_test(hw, monkeypatch, tmp_path, capsys):
    root = tmp_path / "root"
    root.mkdir()
    _version(root, "lib", "new")
    _version(root, "lib.old", "old")
    (root / "lib" / "app.py").write_text("changed after its manifest")
    (root / "update.trial").write_text("trial")
    resets, served = _start(monkeypatch, root)
    assert "update rolled back" in capsys.readouterr().out
    assert (root / "lib" / "app.py").read_text() == "old" and resets == [1] and not served
