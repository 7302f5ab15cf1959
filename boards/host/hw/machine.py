# The host's `machine` module: Pin, I2C/SoftI2C and RTC with MicroPython's
# calls, so that the device drivers run unchanged on the PC against chip
# doubles (boards/host/hw: i2cbus targets, the key matrix, the scanner).
# Only host runs and tests put this folder on sys.path.
#
# Pins: a pin's level when read comes from whatever drives its net (wire());
# writes are kept per pin id (levels) for the doubles that listen.
# I2C: each bus id has its targets by address (attach()); a transfer is
# START, the address, bytes, STOP, as the chip sees it; the bus counts the
# time the transfer takes at its clock (bus_us).

import errno
import time

from compat import civil_from_unix, unix_from_civil, unix_time
from uart import UART  # noqa: F401  (machine.UART: a pseudo-terminal on the PC)

levels = {}  # pin id -> level the driver puts on it (0, 1) or None (released)
_wired = {}  # pin id -> fn(pin id) giving the level the outside world puts on it
_targets = {}  # bus id -> {address: target}
_bus_us = {}  # bus id -> microseconds of transfers so far
log = []  # the last LOG_N transfers: (address, "w" or "r", bytes)
LOG_N = 4096


def wire(pin_id, level_fn):
    # the double that decides what an input pin reads
    _wired[pin_id] = level_fn


def reset():
    levels.clear()
    _wired.clear()
    _targets.clear()
    _bus_us.clear()


class Pin:
    IN = 1
    OUT = 2
    OPEN_DRAIN = 3
    PULL_UP = 1
    PULL_DOWN = 2

    def __init__(self, pin_id, mode=-1, pull=-1, value=None):
        self.id = pin_id
        self.mode = self.IN
        self.pull = None
        self.init(mode, pull, value)

    def init(self, mode=-1, pull=-1, value=None):
        if mode != -1:
            self.mode = mode
        if pull != -1:
            self.pull = pull
        if value is not None:
            self.value(value)
        elif self.mode == self.IN:
            levels[self.id] = None

    def value(self, v=None):
        if v is None:
            return self._read()
        v = 1 if v else 0
        if self.mode == self.OUT:
            levels[self.id] = v
        elif self.mode == self.OPEN_DRAIN:
            levels[self.id] = 0 if v == 0 else None  # 1 releases the line
        return None

    __call__ = value

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def _read(self):
        fn = _wired.get(self.id)
        if fn is not None:
            lv = fn(self.id)
            if lv is not None:
                return lv
        own = levels.get(self.id)
        if own is not None:
            return own
        return 1 if self.pull == self.PULL_UP else 0


def attach(bus_id, addr, target):
    # a chip double answers at `addr` on bus `bus_id`
    _targets.setdefault(bus_id, {})[addr] = target


def bus_us(bus_id):
    return _bus_us.get(bus_id, 0)


class I2C:
    def __init__(self, bus_id=0, scl=None, sda=None, freq=400000, timeout=50000):
        self.bus = bus_id
        self.freq = freq

    def init(self, scl=None, sda=None, freq=400000):
        self.freq = freq

    def _log(self, addr, kind, data):
        log.append((addr, kind, bytes(data)))
        if len(log) > LOG_N:
            del log[:len(log) - LOG_N]

    def _clock(self, nbytes):
        # START + (address + bytes) * 9 clocks + STOP
        _bus_us[self.bus] = _bus_us.get(self.bus, 0) + (2 + 9 * (nbytes + 1)) * 1000000 // self.freq

    def _target(self, addr):
        t = _targets.get(self.bus, {}).get(addr)
        if t is None:
            self._clock(0)
            raise OSError(errno.ENODEV)  # no ACK for the address
        return t

    def scan(self):
        return sorted(_targets.get(self.bus, {}))

    def writeto(self, addr, buf, stop=True):
        t = self._target(addr)
        t.start()
        t.write(bytes(buf))
        if stop:
            t.stop()
        self._log(addr, "w", buf)
        self._clock(len(buf))
        return len(buf)

    def writevto(self, addr, vector, stop=True):
        return self.writeto(addr, b"".join(bytes(b) for b in vector), stop)

    def readfrom(self, addr, n, stop=True):
        t = self._target(addr)
        t.start()
        data = t.read(n)
        if stop:
            t.stop()
        self._log(addr, "r", data)
        self._clock(n)
        return data

    def readfrom_into(self, addr, buf, stop=True):
        data = self.readfrom(addr, len(buf), stop)
        buf[:] = data

    def writeto_mem(self, addr, memaddr, buf, addrsize=8):
        self.writeto(addr, bytes((memaddr,)) + bytes(buf))

    def readfrom_mem(self, addr, memaddr, n, addrsize=8):
        self.writeto(addr, bytes((memaddr,)), False)  # repeated START follows
        return self.readfrom(addr, n)

    def readfrom_mem_into(self, addr, memaddr, buf, addrsize=8):
        buf[:] = self.readfrom_mem(addr, memaddr, len(buf))


class SoftI2C(I2C):
    # bit-banged on any two pins: its targets are attached to the bus id "soft"
    def __init__(self, scl=None, sda=None, freq=400000, timeout=50000):
        I2C.__init__(self, "soft", freq=freq)


class RTC:
    # the ESP32's own clock: kept as an offset from the PC's clock, lost
    # (back to 2000-01-01) by power_off()
    _offset = 0

    def __init__(self, rtc_id=0):
        pass

    def datetime(self, dt=None):
        if dt is None:
            ts = unix_time() + RTC._offset
            y, mo, d, hh, mi, ss = civil_from_unix(ts)
            return (y, mo, d, (ts // 86400 + 3) % 7, hh, mi, ss, 0)
        y, mo, d, _wd, hh, mi, ss = dt[:7]
        RTC._offset = unix_from_civil(y, mo, d, hh, mi, ss) - unix_time()
        return None

    @staticmethod
    def power_off():
        RTC._offset = unix_from_civil(2000, 1, 1) - unix_time()


def idle():
    time.sleep(0)
