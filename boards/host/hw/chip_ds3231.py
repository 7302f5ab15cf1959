# The DS3231 as an I2C target: 19 registers with an auto-incrementing
# pointer, the time in BCD running from the host's (or a test's) clock,
# latched at START, the OSF flag set by a power-up without battery.

from compat import civil_from_unix, unix_from_civil


def _bcd(v):
    return ((v // 10) << 4) | (v % 10)


def _val(b):
    return (b >> 4) * 10 + (b & 0x0F)


class DS3231Chip:
    def __init__(self, seconds, ts=None):
        # seconds(): the host clock the oscillator follows (a test's fake)
        self.seconds = seconds
        self.regs = bytearray(19)
        self.regs[0x0E] = 0x1C
        self.ptr = 0
        self.first = True  # the next written byte is the register pointer
        self.wrote_time = False
        self.running = True
        self.base = 946684800 if ts is None else ts  # the time at self.at
        self.at = seconds()
        self.regs[0x0F] = 0x88 if ts is None else 0x08  # a new chip: OSF set
        self.temp_q = 25 * 4 + 1  # 25.25 C

    # --- the chip's life -------------------------------------------------------

    def time(self):
        if not self.running:
            return self.base
        return self.base + int(self.seconds() - self.at)

    def power_cycle(self, battery=True, off_s=0):
        # without battery the registers go back to 2000-01-01 and OSF is set
        if battery:
            self.base = self.time() + off_s
        else:
            self.base = 946684800
            self.regs[0x0F] |= 0x80
        self.at = self.seconds()

    # --- the bus -----------------------------------------------------------------

    def start(self):
        self.first = True
        self._latch()

    def _latch(self):
        y, mo, d, hh, mi, ss = civil_from_unix(self.time())
        r = self.regs
        r[0], r[1], r[2] = _bcd(ss), _bcd(mi), _bcd(hh)
        r[3] = (self.time() // 86400 + 3) % 7 + 1
        r[4], r[5], r[6] = _bcd(d), _bcd(mo) | (0x80 if y >= 2100 else 0), _bcd(y % 100)
        r[0x11], r[0x12] = (self.temp_q >> 2) & 0xFF, (self.temp_q & 3) << 6

    def write(self, data):
        for b in data:
            if self.first:
                self.ptr = b % 19
                self.first = False
                continue
            if self.ptr == 0x0F:
                b = (b & 0x7F) | (self.regs[0x0F] & b & 0x80)  # OSF: only cleared by writing 0
            self.regs[self.ptr] = b
            if self.ptr <= 6:
                self.wrote_time = True
            self.ptr = (self.ptr + 1) % 19

    def read(self, n):
        out = bytearray(n)
        for i in range(n):
            out[i] = self.regs[self.ptr]
            self.ptr = (self.ptr + 1) % 19
        return bytes(out)

    def stop(self):
        if self.wrote_time:
            r = self.regs
            hr = r[2]
            if hr & 0x40:
                hh = _val(hr & 0x1F) % 12 + (12 if hr & 0x20 else 0)
            else:
                hh = _val(hr & 0x3F)
            y = 2000 + _val(r[6]) + (100 if r[5] & 0x80 else 0)
            self.base = unix_from_civil(y, _val(r[5] & 0x1F), _val(r[4]), hh, _val(r[1]), _val(r[0] & 0x7F))
            self.at = self.seconds()
            self.wrote_time = False
