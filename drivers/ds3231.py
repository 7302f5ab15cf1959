# DS3231 real-time clock on I2C (address 0x68), and the board's time made of
# it and the ESP32's own RTC.
#
# The DS3231 keeps the time through a power cut (battery, TCXO, about a
# minute a year); the ESP32's RTC loses it at power-up but is read without a
# bus transfer. So: at boot the DS3231's time goes into the ESP32 RTC, every
# read of the time is the ESP32 RTC's, re-aligned from the DS3231 every
# SYNC_MS; setting the time writes both. The OSF flag (oscillator stopped:
# the battery ran out) says the DS3231's time cannot be trusted: the
# register asks for the time (kkm.clock Clock.lost, KZ-41).

from compat import civil_from_unix, const, ticks_diff, ticks_ms, unix_from_civil

ADDR = const(0x68)
REG_TIME = const(0x00)  # seconds .. year, 7 bytes, latched at START
REG_CONTROL = const(0x0E)
REG_STATUS = const(0x0F)
OSF = const(0x80)  # status: the oscillator stopped since the flag was cleared
EOSC = const(0x80)  # control: 1 stops the oscillator on battery
H12 = const(0x40)  # hours register: 12-hour mode
PM = const(0x20)
CENTURY = const(0x80)  # month register: year 2100..2199
SYNC_MS = const(3600000)
FIRST_YEAR = const(2024)  # an ESP32 RTC before this has not been set since power-up


def _bcd(b):
    return (b >> 4) * 10 + (b & 0x0F)


def _tobcd(v):
    return ((v // 10) << 4) | (v % 10)


class DS3231:
    def __init__(self, i2c, addr=ADDR):
        self.i2c = i2c
        self.addr = addr

    def datetime(self):
        # (year, month, day, weekday 0..6 Monday first, hour, minute, second), UTC
        b = self.i2c.readfrom_mem(self.addr, REG_TIME, 7)
        hr = b[2]
        if hr & H12:
            hh = _bcd(hr & 0x1F) % 12 + (12 if hr & PM else 0)
        else:
            hh = _bcd(hr & 0x3F)
        year = 2000 + _bcd(b[6]) + (100 if b[5] & CENTURY else 0)
        return (year, _bcd(b[5] & 0x1F), _bcd(b[4] & 0x3F), (b[3] & 7) - 1, hh, _bcd(b[1] & 0x7F), _bcd(b[0] & 0x7F))

    def set_datetime(self, dt):
        # 24-hour mode; the oscillator kept running on battery; OSF cleared
        y, mo, d, wd, hh, mi, ss = dt[:7]
        cent = CENTURY if y >= 2100 else 0
        self.i2c.writeto_mem(self.addr, REG_TIME, bytes((
            _tobcd(ss), _tobcd(mi), _tobcd(hh), wd % 7 + 1, _tobcd(d), _tobcd(mo) | cent, _tobcd(y % 100))))
        ctl = self.i2c.readfrom_mem(self.addr, REG_CONTROL, 2)
        self.i2c.writeto_mem(self.addr, REG_CONTROL, bytes((ctl[0] & ~EOSC & 0xFF, ctl[1] & ~OSF & 0xFF)))

    def lost(self):
        return bool(self.i2c.readfrom_mem(self.addr, REG_STATUS, 1)[0] & OSF)

    def temperature_q(self):
        # the die temperature in quarter degrees C (the hardware self-test)
        b = self.i2c.readfrom_mem(self.addr, 0x11, 2)
        t = b[0] - 256 if b[0] & 0x80 else b[0]
        return t * 4 + (b[1] >> 6)


def _unix(dt):
    return unix_from_civil(dt[0], dt[1], dt[2], dt[4], dt[5], dt[6])


def _civil(ts):
    y, mo, d, hh, mi, ss = civil_from_unix(ts)
    return (y, mo, d, (ts // 86400 + 3) % 7, hh, mi, ss)  # 1970-01-01 was a Thursday


class BoardTime:
    # source(), setter(ts) and lost() of kkm.clock.Clock. ds: DS3231 or
    # None (a board without one: only an ESP32 RTC still set from before a
    # soft reset is trusted); rtc: machine.RTC()
    def __init__(self, ds, rtc):
        self.ds = ds
        self.rtc = rtc
        self.synced = ticks_ms()
        self._lost = True
        self.boot()

    def boot(self):
        ds = self.ds
        if ds is not None:
            try:
                dt = ds.datetime()
                self._lost = ds.lost()
                self.rtc.datetime(dt + (0,))
            except OSError:
                self.ds = None  # not answering: the hardware self-test says so (probe)
        if self.ds is None:
            self._lost = self.rtc.datetime()[0] < FIRST_YEAR
        self.synced = ticks_ms()

    def probe(self):
        # KZ-2.1: the clock chip answers (a lost time is not a fault: it is asked for)
        return self.ds is not None

    def now(self):
        if self.ds is not None and ticks_diff(ticks_ms(), self.synced) >= SYNC_MS:
            self.boot()
        r = self.rtc.datetime()
        return _unix((r[0], r[1], r[2], r[3], r[4], r[5], r[6]))

    def set(self, ts):
        dt = _civil(ts)
        self.rtc.datetime(dt + (0,))
        if self.ds is not None:
            try:
                self.ds.set_datetime(dt)
            except OSError:
                self.ds = None  # gone from the bus: the time runs on the ESP32 RTC (probe says so)
        self._lost = False
        self.synced = ticks_ms()

    def lost(self):
        return self._lost
