# The register's clock. Everything fiscal keeps UTC unix seconds; the local
# wall clock (Kazakhstan, UTC+5, no DST) is only added for printing and for
# the protocol's date fields. Time comes in through an injected source so
# that tests move 24 or 72 hours in a microsecond.

import compat

LOCAL_OFFSET = 5 * 3600  # default UTC+5


class Clock:
    # source(): integer UTC unix seconds (the RTC on the board).
    # setter(ts): optional, writes the RTC; without it a correction is kept.
    # lost(): optional, True while the RTC's time cannot be trusted (its
    # oscillator stopped: the DS3231's OSF); the register then locks until
    # the time is set (kkm.locks CLOCK_LOST)
    def __init__(self, source=None, setter=None, offset=LOCAL_OFFSET, lost=None):
        self._source = source if source is not None else compat.unix_time
        self._setter = setter
        self._lost = lost
        self.correction = 0
        self.offset = offset

    def lost(self):
        return self._lost is not None and self._lost()

    def now(self):
        return int(self._source()) + self.correction

    def set(self, ts):
        # only the register calls this, after settings.check_clock() agreed
        if self._setter is not None:
            self._setter(ts)  # the RTC, which clears its own lost flag
            self.correction = 0
        else:
            self.correction = ts - int(self._source())
            self._lost = None  # the correction makes the time right

    def local(self, ts=None):
        # local wall-clock seconds (for layout and protocol dates)
        if ts is None:
            ts = self.now()
        return ts + self.offset

    def civil(self, ts=None):
        # local (year, month, day, hour, minute, second)
        return compat.civil_from_unix(self.local(ts))


class ManualClock(Clock):
    # A clock that only moves when told: the simulator and the tests use it.
    def __init__(self, ts, offset=LOCAL_OFFSET):
        Clock.__init__(self, None, None, offset)
        self.t = ts

    def now(self):
        return self.t

    def set(self, ts):
        self.t = ts

    def advance(self, seconds):
        self.t += seconds
        return self.t
