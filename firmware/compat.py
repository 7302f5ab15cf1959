# Portability shims: the one place where CPython and MicroPython differ.
# Every shim is chosen by probing for a feature, never by checking versions.
# The rest of the core imports these names instead of touching the runtime.

import sys
import time
import hashlib
import binascii

try:
    from micropython import const
except ImportError:  # pragma: no cover - CPython

    def const(x):
        return x


# Monotonic milliseconds with wrap-safe arithmetic (time.ticks_* on MicroPython).
if hasattr(time, "ticks_ms"):
    ticks_ms = time.ticks_ms
    ticks_add = time.ticks_add
    ticks_diff = time.ticks_diff
    sleep_ms = time.sleep_ms
else:  # pragma: no cover - CPython

    def ticks_ms():
        return time.monotonic_ns() // 1000000

    def ticks_add(t, delta):
        return t + delta

    def ticks_diff(a, b):
        return a - b

    def sleep_ms(ms):
        time.sleep(ms / 1000)


if hasattr(sys, "print_exception"):
    print_exception = sys.print_exception
else:  # pragma: no cover - CPython

    def print_exception(exc, file=None):
        import traceback  # CPython only

        traceback.print_exception(type(exc), exc, exc.__traceback__, file=file)  # CPython only


def is_int(v):
    # an integer and not a bool: CPython's bool is an int, MicroPython's is
    # not, so True as a price or a count is refused on both
    return isinstance(v, int) and not isinstance(v, bool)


# Seconds between 1970-01-01 and the runtime's epoch (2000 on the ESP32 port).
EPOCH_OFFSET = 946684800 if time.gmtime(0)[0] == 2000 else 0


def unix_time():
    # Integer seconds since 1970-01-01 UTC on every runtime.
    return int(time.time()) + EPOCH_OFFSET


def hexdigest(h):
    return binascii.hexlify(h.digest()).decode()


def from_bytes_signed(b, order):
    v = int.from_bytes(b, order)
    if len(b) and v >= 1 << (8 * len(b) - 1):
        v -= 1 << (8 * len(b))
    return v


def pad(s, width, align="<"):
    # Pad by characters (MicroPython's format pads by UTF-8 bytes).
    gap = width - len(s)
    if gap <= 0:
        return s
    if align == ">":
        return " " * gap + s
    if align == "^":
        left = gap // 2
        return " " * left + s + " " * (gap - left)
    return s + " " * gap


class Hmac:
    # HMAC-SHA256 (RFC 2104) under one key. MicroPython has no hmac module
    # and its hash objects cannot be copied, so the padded key blocks are
    # kept instead: the journal MACs every record with one key.
    def __init__(self, key):
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        key = bytes(key) + b"\x00" * (64 - len(key))
        self.ipad = bytes(b ^ 0x36 for b in key)
        self.opad = bytes(b ^ 0x5C for b in key)

    def mac(self, *parts):
        # the MAC of the parts joined, without joining them
        h = hashlib.sha256(self.ipad)
        for p in parts:
            h.update(p)
        o = hashlib.sha256(self.opad)
        o.update(h.digest())
        return o.digest()


def hmac_sha256(key, msg):
    return Hmac(key).mac(msg)


# CRC-32, unsigned on both runtimes. A value of 2^30 or more is a heap object
# on a 32-bit MicroPython: a stored CRC is checked by the CRC of the data
# followed by it, which is CRC32_RESIDUE (a small int) exactly when it matches.
crc32 = binascii.crc32
CRC32_RESIDUE = const(0x2144DF1C)


def crc32_text(s, crc=0):
    # CRC-32 of a str's UTF-8 bytes. MicroPython's str is a read buffer of
    # its UTF-8 bytes (no encoded copy per call); CPython needs the bytes.
    if isinstance(s, str) and not _STR_BUFFER:
        s = s.encode()
    return binascii.crc32(s, crc)


try:
    binascii.crc32("")
    _STR_BUFFER = True
except TypeError:  # pragma: no cover - CPython
    _STR_BUFFER = False


# Civil calendar from unix seconds (no datetime module on the device).
# Algorithm: Howard Hinnant's days_from_civil / civil_from_days.


def civil_from_unix(ts):
    days, secs = divmod(ts, 86400)
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (1 if m <= 2 else 0)
    hh, rem = divmod(secs, 3600)
    mm, ss = divmod(rem, 60)
    return (y, m, d, hh, mm, ss)


def unix_from_civil(y, m, d, hh=0, mm=0, ss=0):
    y -= 1 if m <= 2 else 0
    era = y // 400
    yoe = y - era * 400
    mp = m - 3 if m > 2 else m + 9
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    return days * 86400 + hh * 3600 + mm * 60 + ss


def exists(path):
    # os.path is missing on MicroPython
    import os

    try:
        os.stat(path)
        return True
    except OSError:
        return False
