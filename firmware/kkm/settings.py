# Registration and connection settings (KZ-40, KZ-41, KZ-ND-25, KZ-ND-27)
# and the clock-setting rules (KZ-41, KZ-42, KZ-ND-32).
#
# Settings are plain values (str, int, bool, lists) kept in a dict; the
# register journals every change (need_ack=False) and its checkpoints carry
# encode(), so recovery rebuilds them. Keys fall in three classes:
#   CONNECTION   OFD addresses/ports, RNM, KKM id, channel priority and
#                parameters: only with the shift closed (KZ-41)
#   REGISTRATION taxpayer data and tax groups: re-registration, only with
#                the shift closed (KZ-ND-30); the factory number is fixed
#                once the register is fiscalised
#   FREE         the token (KZ-41 allows it at any time), OFD name, check
#                site, receipt language (kk, ru or kk+ru), the National Catalogue rule
#                (catalogue: "strict" refuses goods not taken from the
#                catalogue, "soft" sells them and says so; kkm.catalog)

import json

from compat import const, civil_from_unix, is_int
from journal import MAX_PAYLOAD
from kkm.locks import (
    Refused,
    E_SHIFT_OPEN,
    E_CLOCK_BACK,
    E_CLOCK_CONFIRM,
    E_CLOCK_RANGE,
    E_BAD_RNM,
    E_BAD_BIN,
    E_BAD_SETTING,
    E_ALREADY_FISCALISED,
    E_SETTINGS_SIZE,
)

MIN_RNM = const(12)  # KZ-40.2
DAY = const(86400)
MAX_TS = const(0xFFFFFFFF)  # the journal keeps UTC seconds as <I: up to 2106-02-07
# the settings are one journal record after the user code byte (R_SETTINGS)
MAX_ENCODED = MAX_PAYLOAD - 1
CHANNELS = ("wifi", "gsm", "eth")

# timeout_s: the OFD exchange's total transaction time, retry_s: the retry
# interval of the offline queue and the idle-break probe (PROTOCOL.md
# section 13: at least 5 s and 60 s)
CONNECTION = ("ofd_hosts", "rnm", "kkm_id", "channels", "wifi_ssid", "wifi_key", "gsm_apn", "timeout_s", "retry_s")
# geo_position: where the register works, [latitude, longitude, source]
# (millionths of a degree; source: how it was found, "manual" when entered)
# or [] (not entered); sent in every request's service block (S000-2)
REGISTRATION = ("taxpayer", "bin", "address", "vat_payer", "tax_groups", "tz_offset", "geo_position")
FREE = ("token", "ofd_name", "check_url", "lang", "catalogue")
FISCAL_REQUIRED = ("factory_no", "rnm", "kkm_id", "taxpayer", "bin", "address", "ofd_hosts", "token")


def _default_groups():
    from kkm.tax import DEFAULT_GROUPS

    return [[g[0], g[1], g[2], g[3], g[4], [list(c) for c in g[5]]] for g in DEFAULT_GROUPS]


def _defaults():
    return {
        "factory_no": "",
        "rnm": "",
        "kkm_id": "",
        "taxpayer": "",
        "bin": "",
        "address": "",
        "ofd_hosts": [],
        "token": 0,
        "channels": ["wifi", "gsm"],
        "wifi_ssid": "",
        "wifi_key": "",
        "gsm_apn": "",
        "timeout_s": 5,
        "retry_s": 60,
        "ofd_name": "",
        "check_url": "",
        "lang": "kk",
        "catalogue": "strict",
        "vat_payer": True,
        # [code, percent_milli, name_kk, name_ru, exempt, [[yyyymmdd,
        # percent_milli], ...]]: kkm.tax.DEFAULT_GROUPS (Tax Code 2026)
        "tax_groups": _default_groups(),
        "tz_offset": 5 * 3600,
        "geo_position": [],
    }


def _str(v, lo, hi):
    return isinstance(v, str) and lo <= len(v) <= hi


def _int_in(v, lo, hi):
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def _digits(v, n):
    if not isinstance(v, str) or len(v) != n:
        return False
    for ch in v:
        if ch not in "0123456789":
            return False
    return True


def _bad(key):
    raise Refused(E_BAD_SETTING, key)


def validate(key, v):
    # raises Refused for a bad value of `key`
    if key == "rnm":
        if not _str(v, MIN_RNM, 32):
            raise Refused(E_BAD_RNM, key)
    elif key == "bin":
        from kkm.ids import check_iin_bin

        if not isinstance(v, str) or not check_iin_bin(v):
            raise Refused(E_BAD_BIN, key)
    elif key == "factory_no":
        if not _str(v, 1, 20):
            _bad(key)
    elif key in ("kkm_id", "taxpayer", "address"):
        if not _str(v, 1, 255):
            _bad(key)
    elif key == "ofd_hosts":
        # KZ-40.1: one or more [host, port]
        if not isinstance(v, list) or not (1 <= len(v) <= 4):
            _bad(key)
        for hp in v:
            if not isinstance(hp, list) or len(hp) != 2 or not _str(hp[0], 1, 64):
                _bad(key)
            if not is_int(hp[1]) or not (1 <= hp[1] <= 65535):
                _bad(key)
    elif key == "token":
        # KZ-40.4: the initial token, a number
        if not is_int(v) or not (0 < v < (1 << 32)):
            _bad(key)
    elif key == "channels":
        # KZ-40.5: priority order, no repeats
        if not isinstance(v, list) or not v:
            _bad(key)
        seen = []
        for c in v:
            if c not in CHANNELS or c in seen:
                _bad(key)
            seen.append(c)
    elif key in ("wifi_ssid", "wifi_key", "gsm_apn", "ofd_name", "check_url"):
        if not _str(v, 0, 128):
            _bad(key)
    elif key == "timeout_s":
        if not is_int(v) or not (5 <= v <= 60):
            _bad(key)
    elif key == "retry_s":
        if not is_int(v) or not (60 <= v <= 3600):
            _bad(key)
    elif key == "lang":
        if v not in ("kk", "ru", "kk+ru"):  # kk+ru: receipts in both (kkm.layout)
            _bad(key)
    elif key == "catalogue":
        if v not in ("strict", "soft"):
            _bad(key)
    elif key == "vat_payer":
        if v is not True and v is not False:
            _bad(key)
    elif key == "geo_position":
        if not isinstance(v, list) or (v and len(v) != 3):
            _bad(key)
        if v and not (_int_in(v[0], -90000000, 90000000) and _int_in(v[1], -180000000, 180000000)
                      and _str(v[2], 1, 32)):
            _bad(key)
    elif key == "tz_offset":
        if not is_int(v) or not (-12 * 3600 <= v <= 14 * 3600):
            _bad(key)
    elif key == "tax_groups":
        if not isinstance(v, list) or not v:
            _bad(key)
        try:
            for g in v:
                if not isinstance(g, list) or not (5 <= len(g) <= 6):
                    raise ValueError(g)
            _table(v, True)
        except (ValueError, TypeError, IndexError):
            _bad(key)
    else:
        _bad(key)


def _table(groups, vat_payer, day=None):
    from kkm.tax import table

    return table(groups, vat_payer, day)


class Settings:
    def __init__(self, now=None):
        self.now = now  # () -> UTC seconds, or None
        self.v = _defaults()
        self.fiscalised = False
        self.reg_ts = 0

    def get(self, key):
        return self.v[key]

    def tax_table(self, ts=None):
        # the tax groups in force at UTC time ts (the rates follow the local
        # date: tz_offset); ts None: now by self.now (the register's clock,
        # for callers that do not pass the document's time), else base rates
        if ts is None and self.now is not None:
            ts = self.now()
        day = None
        if ts is not None:
            y, m, d = civil_from_unix(ts + self.v["tz_offset"])[:3]
            day = y * 10000 + m * 100 + d
        return _table(self.v["tax_groups"], self.v["vat_payer"], day)

    def fiscalise(self, data, now):
        # KZ-ND-25, KZ-40: every mandatory input, each checked; all or nothing
        if self.fiscalised:
            raise Refused(E_ALREADY_FISCALISED, None)
        merged = self.v.copy()
        for k in data:
            validate(k, data[k])
            merged[k] = data[k]
        for k in FISCAL_REQUIRED:
            if k not in data:
                raise Refused(E_BAD_SETTING, k)
        _fits(merged, True, now)
        self.v = merged
        self.fiscalised = True
        self.reg_ts = now
        return sorted(data)

    def check(self, changes, shift_open):
        # the checks of change() without applying anything: sorted keys
        keys = sorted(changes)
        for k in keys:
            if k == "factory_no" and self.fiscalised:
                raise Refused(E_ALREADY_FISCALISED, k)
            if shift_open and (k in CONNECTION or k in REGISTRATION):
                raise Refused(E_SHIFT_OPEN, k)  # KZ-41, KZ-ND-30
            validate(k, changes[k])
        merged = self.v.copy()
        merged.update(changes)
        _fits(merged, self.fiscalised, self.reg_ts)
        return keys

    def change(self, changes, shift_open):
        # programming mode: all changes are validated before any is applied
        keys = self.check(changes, shift_open)
        for k in keys:
            self.v[k] = changes[k]
        return keys

    def encode(self):
        return _encode(self.v, self.fiscalised, self.reg_ts)

    def load(self, data):
        f, ts, items = json.loads(bytes(data).decode())
        self.v = _defaults()
        for k, val in items:
            self.v[k] = val
        self.fiscalised = bool(f)
        self.reg_ts = ts


def _encode(v, fiscalised, reg_ts):
    items = [[k, v[k]] for k in sorted(v)]
    obj = [1 if fiscalised else 0, reg_ts, items]
    try:  # CPython would escape every Cyrillic letter as \uXXXX
        s = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    except TypeError:  # MicroPython writes UTF-8 as it is
        s = json.dumps(obj, separators=(",", ":"))
    return s.encode()


def _fits(v, fiscalised, reg_ts):
    # refused before anything is applied: a record over the journal's limit
    # would fail to write and leave the register with an accumulator fault
    n = len(_encode(v, fiscalised, reg_ts))
    if n > MAX_ENCODED:
        raise Refused(E_SETTINGS_SIZE, n)


def check_clock(new_ts, now, last_doc_ts, shift_open, confirm_ts=None):
    # KZ-41: clock only with the shift closed; KZ-42: never before the last
    # fiscal document; KZ-ND-32: a jump forward of more than a day must be
    # entered twice (confirm_ts equal to new_ts); no time the journal cannot
    # keep (it would stop every record with an accumulator fault)
    if not is_int(new_ts) or not (0 <= new_ts <= MAX_TS):
        raise Refused(E_CLOCK_RANGE, new_ts)
    if shift_open:
        raise Refused(E_SHIFT_OPEN, "clock")
    if last_doc_ts is not None and new_ts < last_doc_ts:
        raise Refused(E_CLOCK_BACK, last_doc_ts)
    if new_ts - now > DAY and confirm_ts != new_ts:
        raise Refused(E_CLOCK_CONFIRM, new_ts)
    return new_ts
