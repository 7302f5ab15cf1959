"""Conversions between protobuf values and plain Python (integer tiyn, tuples)."""

import time


def pb():
    from tools.pb import load
    return load()


def tiyn(money):
    """pb Money -> integer tiyn (coins >= 100 are normalised, as peers do)."""
    return int(money.bills) * 100 + int(money.coins)


def set_money(money, amount):
    """Fill a pb Money from integer tiyn (non-negative)."""
    if amount < 0:
        raise ValueError("money is never negative on the wire")
    money.bills = amount // 100
    money.coins = amount % 100
    return money


def money_text(amount):
    """Integer tiyn -> 'tenge.tiyn' with two digits, e.g. 69690 -> '696.90'."""
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    return "%s%d.%02d" % (sign, amount // 100, amount % 100)


def dt_tuple(dt):
    """pb DateTime -> (Y, M, D, h, m, s)."""
    return (dt.date.year, dt.date.month, dt.date.day,
            dt.time.hour, dt.time.minute, dt.time.second)


def set_dt(dt, t):
    """Fill a pb DateTime from a (Y, M, D, h, m, s) tuple."""
    dt.date.year, dt.date.month, dt.date.day = t[0], t[1], t[2]
    dt.time.hour, dt.time.minute, dt.time.second = t[3], t[4], t[5]
    return dt


def iso(t):
    return "%04d-%02d-%02dT%02d:%02d:%02d" % tuple(t)


def from_iso(s):
    d, t = s.split("T")
    return tuple(int(x) for x in d.split("-")) + tuple(int(x) for x in t.split(":"))


def qr_time(t):
    """(Y, M, D, h, m, s) -> 'YYYYMMDDTHHMMSS' (QR `t` parameter)."""
    return "%04d%02d%02dT%02d%02d%02d" % tuple(t)


def to_epoch(t):
    """Wall-clock tuple -> seconds, zone-less (only differences are used)."""
    import calendar
    return calendar.timegm((t[0], t[1], t[2], t[3], t[4], t[5], 0, 0, 0))


def from_epoch(sec):
    g = time.gmtime(sec)
    return (g.tm_year, g.tm_mon, g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec)


def now_local(tz_offset_s):
    """Server wall-clock time in the configured zone, as a tuple."""
    return from_epoch(int(time.time()) + tz_offset_s)
