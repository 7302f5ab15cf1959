# The DS3231 driver (drivers/ds3231.py) against its byte-exact register
# protocol and against the chip double (boards/host/hw/chip_ds3231.py); the
# board's time made of it and the ESP32 RTC; a lost-power flag (OSF) makes
# the register lock and ask for the time (KZ-41, KZ-42).
from hwkit import fresh, transfers

from chip_ds3231 import DS3231Chip
from compat import civil_from_unix, unix_from_civil
from drivers.ds3231 import DS3231, BoardTime
from kkm import locks as L
from kkm.clock import Clock
from regkit import T0
from uikit import ADMIN, drive, login, provisioned, screen

ADDR = 0x68


class Seconds:
    # the oscillator's time base, moved by the test
    def __init__(self):
        self.t = 0

    def __call__(self):
        return self.t


def _rig(ts=T0):
    m = fresh()
    s = Seconds()
    chip = DS3231Chip(s, ts)
    m.attach(0, ADDR, chip)
    return m, s, chip, DS3231(m.I2C(0, freq=100000))


def test_reads_the_time_in_one_latched_transfer_of_bcd():
    m, s, chip, ds = _rig(unix_from_civil(2026, 12, 2, 18, 45, 9))
    assert ds.datetime() == (2026, 12, 2, 2, 18, 45, 9)  # a Wednesday
    # the pointer set to 0, then 7 bytes read at once (latched at START)
    assert transfers(ADDR) == [(ADDR, "w", b"\x00"), (ADDR, "r", b"\x09\x45\x18\x03\x02\x12\x26")]
    s.t = 3600 * 24 * 40 + 51  # 40 days and 51 s later
    assert ds.datetime() == (2027, 1, 11, 0, 18, 46, 0)


def test_setting_writes_bcd_in_24_hour_mode_and_clears_the_osf_flag():
    m, s, chip, ds = _rig(None)  # a new chip: 2000-01-01 and OSF set
    assert ds.lost()
    fresh_log = len(transfers())
    ds.set_datetime((2026, 3, 1, 6, 23, 59, 58))
    got = transfers(ADDR)[fresh_log:]
    assert got[0] == (ADDR, "w", b"\x00\x58\x59\x23\x07\x01\x03\x26")
    assert got[1:] == [(ADDR, "w", b"\x0e"), (ADDR, "r", b"\x1c\x88"), (ADDR, "w", b"\x0e\x1c\x08")]
    assert not ds.lost()
    s.t = 2
    assert ds.datetime() == (2026, 3, 2, 0, 0, 0, 0)


def test_twelve_hour_mode_and_the_century_bit_are_read_right():
    m, s, chip, ds = _rig()
    # 11:30:00 PM, 31 Dec 2099 written by another device in 12-hour mode
    m.I2C(0).writeto(ADDR, b"\x00\x00\x30\x71\x04\x31\x12\x99")
    assert ds.datetime()[:3] == (2099, 12, 31) and ds.datetime()[4:] == (23, 30, 0)
    ds.set_datetime((2100, 1, 1, 4, 0, 0, 0))
    assert transfers(ADDR)[-4][2][6:8] == b"\x81\x00"  # month 01 with the century bit, year 00
    assert ds.datetime()[0] == 2100
    assert ds.temperature_q() == 101  # 25.25 C


def test_board_time_comes_from_the_esp32_rtc_set_at_boot_from_the_ds3231():
    m, s, chip, ds = _rig(T0)
    m.RTC.power_off()  # the ESP32 RTC after power-up: 2000-01-01
    bt = BoardTime(ds, m.RTC())
    assert not bt.lost() and bt.probe()
    assert abs(bt.now() - T0) <= 1
    n = len(transfers())
    for _ in range(10):
        bt.now()
    assert len(transfers()) == n  # the time is read without a bus transfer
    bt.set(T0 + 3600)
    assert abs(chip.time() - (T0 + 3600)) <= 1 and abs(bt.now() - (T0 + 3600)) <= 1


def test_the_driver_runs_the_same_on_a_bit_banged_bus():
    m = fresh()
    m.attach("soft", ADDR, DS3231Chip(Seconds(), T0))
    ds = DS3231(m.SoftI2C(scl=m.Pin(22), sda=m.Pin(21)))
    assert ds.datetime()[:3] == civil_from_unix(T0)[:3] and not ds.lost()


def test_battery_keeps_the_time_through_a_power_cut():
    m, s, chip, ds = _rig(T0)
    chip.power_cycle(battery=True, off_s=7200)
    m.RTC.power_off()
    bt = BoardTime(ds, m.RTC())
    assert not bt.lost() and abs(bt.now() - (T0 + 7200)) <= 1


def test_without_a_ds3231_only_a_set_esp32_rtc_is_trusted():
    m = fresh()
    m.RTC.power_off()
    bt = BoardTime(DS3231(m.I2C(0)), m.RTC())  # nothing answers at 0x68
    assert bt.lost() and not bt.probe()
    bt.set(T0)
    assert not bt.lost()
    assert not BoardTime(None, m.RTC()).lost()  # a soft reset keeps the ESP32 RTC


def test_a_ds3231_gone_from_the_bus_leaves_the_time_on_the_esp32_rtc():
    m, s, chip, ds = _rig(T0)
    bt = BoardTime(ds, m.RTC())
    m.reset()  # the chip no longer answers
    bt.set(T0 + 60)
    assert not bt.probe() and not bt.lost() and abs(bt.now() - (T0 + 60)) <= 1


def test_kz_41_a_dead_clock_battery_locks_sales_and_the_register_asks_for_the_time():
    m, s, chip, ds = _rig(T0)
    bt = BoardTime(ds, m.RTC())
    b, app = provisioned(clock=Clock(bt.now, bt.set, lost=bt.lost))
    login(app)
    drive(app, "100", "PRICE", "PAY", "CASH")
    assert app.reg.shift_open
    last = app.reg.last_doc_ts
    # power cut with a flat battery: the DS3231 restarts at 2000-01-01, OSF set
    chip.power_cycle(battery=False)
    m.RTC.power_off()
    bt.boot()
    assert bt.lost()
    import app as AP

    app = AP.build(b)
    assert L.CLOCK_LOST in app.reg.active_locks()
    login(app)
    drive(app, "100", "PRICE")
    assert "Часы останавливались" in screen(app) or "Сағат тоқтап" in screen(app)
    assert app.reg.draft is None  # no sale on a clock that lost its time
    drive(app, "ESC")
    # the Z stays possible and is dated at the last document, not at 2000
    drive(app, "Z", "ENT")
    assert not app.reg.shift_open
    assert app.reg.last_doc_ts == last
    # the administrator is asked for the time at once, and it is set
    app.ui.logout()
    login(app, ADMIN)
    app.refresh()
    assert "ДДММГГГГ ччмм" in screen(app) or "ККААЖЖЖЖ ссмм" in screen(app), screen(app)
    y, mo, d, hh, mi, _ = civil_from_unix(last + 5 * 3600 + 600)
    typed = "%02d%02d%04d%02d%02d" % (d, mo, y, hh, mi)
    drive(app, typed, "ENT", typed, "ENT")  # a jump of more than a day is entered twice (KZ-ND-32)
    assert L.CLOCK_LOST not in app.reg.active_locks(), screen(app)
    assert not ds.lost()  # the chip's flag is cleared by the setting
    assert abs(chip.time() - (last + 600)) <= 60
