# The ESP32-S3 board as the app takes it (firmware/app.py's board interface):
# boards.esp32s3.make() on a stand-in chip (machine buses, esp32.Partition
# and NVS of boards.sim.partition) puts each driver on its bus
# (boards/esp32/wiring.py) and app.build() boots the register from the raw
# partitions. The drivers are stand-ins with the app's interface, given the
# module names the wiring imports (the real ones are merged from drivers/).
import os
import sys
import types

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
for _p in (os.path.join(ROOT, "tests", "core"), os.path.join(ROOT, "firmware"), ROOT):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import app as AP  # noqa: E402
from boards import esp32, esp32s3  # noqa: E402
from boards.sim.partition import Esp32  # noqa: E402
from regkit import FakePrinter  # noqa: E402
from test_boards import _Machine, _I2C  # noqa: E402
from tools import partition_table as PT  # noqa: E402
from uikit import Display, Keypad, Scanner  # noqa: E402

T0 = 1767254400


class _Bus(_I2C):
    answering = [0x27, 0x68]  # an HD44780 backpack and the DS3231

    def scan(self):
        return list(self.answering)


class _BoardMachine(_Machine):
    I2C = _Bus


def _drivers(got):
    # stand-in driver modules recording the bus each one was given
    def module(name, **attrs):
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        return m

    class DS3231:
        def __init__(self, i2c):
            got["rtc"] = i2c

        def unix_time(self):
            return T0

        def set_unix_time(self, ts):
            got["rtc set"] = ts

    class Printer(FakePrinter):
        def __init__(self, uart):
            FakePrinter.__init__(self)
            self.width = 32
            got["printer"] = uart

    class Keys(Keypad):
        def __init__(self, rows, cols):
            Keypad.__init__(self)
            got["keypad"] = (rows, cols)

    class Scans(Scanner):
        def __init__(self, uart):
            Scanner.__init__(self)
            got["scanner"] = uart

    def display(kind, cols, rows):
        class D(Display):
            def __init__(self, i2c, addr):
                Display.__init__(self, cols, rows)
                got["display"] = (kind, i2c, addr)
        return D

    class Channel:
        def __init__(self, name, *bus):
            self.name = name
            got[name] = bus

        async def open(self, host, port, timeout_ms):
            raise OSError(113)

    return {
        "drivers.ds3231": module("drivers.ds3231", DS3231=DS3231),
        "drivers.escpos": module("drivers.escpos", Printer=Printer),
        "drivers.keypad": module("drivers.keypad", Keypad=Keys),
        "drivers.scanner": module("drivers.scanner", Scanner=Scans),
        "drivers.hd44780": module("drivers.hd44780", Display=display("hd44780", 20, 4)),
        "drivers.ssd1306": module("drivers.ssd1306", Display=display("ssd1306", 21, 8)),
        "net.wifi": module("net.wifi", WifiChannel=lambda: Channel("wifi")),
        "net.gsm": module("net.gsm", GsmChannel=lambda *bus: Channel("gsm", *bus)),
    }


def _chip(csv):
    rows = PT.read_csv(os.path.join(ROOT, "boards", csv))
    return Esp32([(r["name"], r["type"], r["subtype"], r["offset"], r["size"]) for r in rows])


@pytest.fixture
def got(monkeypatch):
    got = {}
    for name, m in _drivers(got).items():
        monkeypatch.setitem(sys.modules, name, m)
    return got


def test_s3_board_wires_each_driver_to_its_bus_and_the_app_boots(got):
    board = esp32s3.make(_BoardMachine, _chip("esp32s3/partitions.csv"))
    bus = board.bus
    assert got["printer"] is bus.printer_uart and got["scanner"] is bus.scanner_uart
    assert got["keypad"] == (bus.rows, bus.cols) and got["rtc"] is bus.i2c
    assert got["display"] == ("hd44780", bus.i2c, 0x27)
    assert [c.name for c in board.channels] == ["wifi", "gsm"]
    assert got["gsm"] == (bus.modem_uart, bus.modem_pwrkey, bus.modem_reset)
    assert board.clock.now() == T0  # the DS3231 is the clock's source
    app = AP.build(board)
    assert app.reg.acc.N == 2048 and app.reg.acc.z_slots_left() == 3072  # the S3 table's partitions
    assert app.ui.frame()[1] == "Пайдаланушы коды:"


def test_wroom_board_with_an_oled_and_wifi_only(got):
    _Bus.answering = [0x3C, 0x68]
    try:
        board = esp32.make(_BoardMachine, _chip("esp32/partitions.csv"))
    finally:
        _Bus.answering = [0x27, 0x68]
    assert got["display"][0::2] == ("ssd1306", 0x3C) and (board.display.cols, board.display.rows) == (21, 8)
    assert [c.name for c in board.channels] == ["wifi"] and "gsm" not in got
    assert AP.build(board).reg.acc.N == 192


def test_no_display_on_i2c_is_said(got):
    _Bus.answering = [0x68]
    try:
        with pytest.raises(OSError, match="no display on I2C"):
            esp32s3.make(_BoardMachine, _chip("esp32s3/partitions.csv"))
    finally:
        _Bus.answering = [0x27, 0x68]
