# Registration and connection settings (KZ-40, KZ-40.1-40.5, KZ-41,
# KZ-ND-25, KZ-ND-27) and clock rules (KZ-41, KZ-42, KZ-ND-32).
from kkm import locks as L
from kkm import settings as S
from regkit import refused
from regkit import REG as _REG

T0 = 1767225600

# the register tests' registration data with a second OFD address and the
# channels; the OFD name and check site are left at their defaults
REG = dict(_REG, ofd_hosts=[["ofd.example.kz", 7777], ["10.0.0.2", 7777]], channels=["gsm", "wifi"])
del REG["ofd_name"]
del REG["check_url"]


def test_kz_40_fiscalisation_inputs():
    s = S.Settings()
    s.fiscalise(REG, T0)
    assert s.fiscalised and s.reg_ts == T0
    assert s.get("rnm") == "010101234567"
    assert s.get("ofd_hosts")[1] == ["10.0.0.2", 7777]
    assert s.get("channels") == ["gsm", "wifi"]
    assert refused(s.fiscalise, REG, T0)[0] == L.E_ALREADY_FISCALISED


def test_kz_40_each_input_is_checked_all_or_nothing():
    cases = [
        ("rnm", "01010123456", L.E_BAD_RNM),  # KZ-40.2: 11 characters
        ("bin", "990511400008", L.E_BAD_BIN),  # check digit
        ("bin", "99051140000", L.E_BAD_BIN),
        ("ofd_hosts", [], L.E_BAD_SETTING),  # KZ-40.1
        ("ofd_hosts", [["h", 0]], L.E_BAD_SETTING),
        ("ofd_hosts", [["h", 70000]], L.E_BAD_SETTING),
        ("kkm_id", "", L.E_BAD_SETTING),  # KZ-40.3
        ("token", 0, L.E_BAD_SETTING),  # KZ-40.4
        ("token", "123", L.E_BAD_SETTING),
        ("channels", ["wifi", "wifi"], L.E_BAD_SETTING),  # KZ-40.5
        ("channels", ["pigeon"], L.E_BAD_SETTING),
        ("factory_no", "", L.E_BAD_SETTING),
    ]
    for key, value, code in cases:
        s = S.Settings()
        data = REG.copy()
        data[key] = value
        assert refused(s.fiscalise, data, T0) == (code, key)
        assert not s.fiscalised and s.get("rnm") == ""
    s = S.Settings()
    data = REG.copy()
    del data["token"]
    assert refused(s.fiscalise, data, T0) == (L.E_BAD_SETTING, "token")


def test_kz_41_connection_settings_only_with_shift_closed():
    s = S.Settings()
    s.fiscalise(REG, T0)
    for key, value in (("ofd_hosts", [["new.kz", 1]]), ("rnm", "999999999999"), ("kkm_id", "7"),
                       ("channels", ["wifi"]), ("gsm_apn", "internet"), ("taxpayer", "ИП"),
                       ("tax_groups", [[1, 16000, "a", "b", False]])):
        assert refused(s.change, {key: value}, True) == (L.E_SHIFT_OPEN, key)
        assert s.change({key: value}, False) == [key]
        assert s.get(key) == value
    # the token may be entered with the shift open (KZ-41)
    assert s.change({"token": 777}, True) == ["token"]
    assert s.get("token") == 777
    # the factory number is fixed once fiscalised
    assert refused(s.change, {"factory_no": "X1"}, False)[0] == L.E_ALREADY_FISCALISED


def test_change_is_all_or_nothing():
    s = S.Settings()
    s.fiscalise(REG, T0)
    assert refused(s.change, {"ofd_name": "OFD", "rnm": "short"}, False)[0] == L.E_BAD_RNM
    assert s.get("ofd_name") == ""


def test_settings_round_trip_and_tax_table():
    s = S.Settings()
    s.fiscalise(REG, T0)
    s.change({"vat_payer": False}, False)
    t = S.Settings()
    t.load(s.encode())
    assert t.fiscalised and t.reg_ts == T0
    for k in REG:
        assert t.get(k) == REG[k]
    table = t.tax_table()
    assert not table.vat_payer
    assert table.get(1).percent_milli == 16000
    assert table.rate(1) == 0


def test_kz_42_clock_never_before_last_document():
    last = T0 + 1000
    assert refused(S.check_clock, last - 1, last, last, False) == (L.E_CLOCK_BACK, last)
    assert S.check_clock(last, last + 50, last, False) == last
    assert S.check_clock(T0, T0, None, False) == T0


def test_kz_41_clock_only_with_shift_closed():
    assert refused(S.check_clock, T0 + 10, T0, T0, True)[0] == L.E_SHIFT_OPEN


def test_kz_nd_32_forward_jump_over_a_day_needs_double_entry():
    now = T0
    far = now + 86401
    assert refused(S.check_clock, far, now, now, False) == (L.E_CLOCK_CONFIRM, far)
    assert refused(S.check_clock, far, now, now, False, far + 60)[0] == L.E_CLOCK_CONFIRM
    assert S.check_clock(far, now, now, False, far) == far
    assert S.check_clock(now + 86400, now, now, False) == now + 86400


def test_default_medicines_group_moves_to_10_percent_on_2027_01_01_local():
    # Tax Code 2026: 5 % for medicines in 2026, 10 % from 2027; the date is
    # the local (UTC+5) date of the document
    s = S.Settings()
    new_year = 1798761600 - 5 * 3600  # 2027-01-01 00:00 in Astana, UTC seconds
    assert s.tax_table(new_year - 1).rate(2) == 5000
    assert s.tax_table(new_year).rate(2) == 10000
    assert s.tax_table(new_year).rate(1) == 16000
    assert s.tax_table(new_year).rate(3) == 0
    # a dated rate is a setting like any other and is checked
    assert refused(s.change, {"tax_groups": [[2, 5000, "a", "b", False, [[20271301, 10000]]]]},
                    False)[0] == L.E_BAD_SETTING
    s.change({"tax_groups": [[2, 5000, "a", "b", False, [[20280101, 12000]]]]}, False)
    assert s.tax_table(new_year).rate(2) == 5000
    assert s.tax_table(new_year + 366 * 86400).rate(2) == 12000
    t = S.Settings()
    t.load(s.encode())
    assert t.tax_table(new_year + 366 * 86400).rate(2) == 12000


def test_protocol_13_total_transaction_time_and_retry_interval():
    # PROTOCOL.md section 13: the total transaction time (timeout_s) is at
    # least 5 s, the retry interval (retry_s) at least 60 s; both CONNECTION
    # settings (only with the shift closed, KZ-41); an older settings record
    # without retry_s loads with the default
    s = S.Settings()
    assert s.get("timeout_s") == 5 and s.get("retry_s") == 60
    s.fiscalise(REG, T0)
    for key, bad in (("timeout_s", 4), ("timeout_s", 0), ("timeout_s", 61), ("timeout_s", "5"), ("timeout_s", True),
                     ("retry_s", 59), ("retry_s", 3601), ("retry_s", 60.0), ("retry_s", None)):
        assert refused(s.change, {key: bad}, False) == (L.E_BAD_SETTING, key)
    for key, good in (("timeout_s", 5), ("timeout_s", 30), ("retry_s", 60), ("retry_s", 600)):
        assert refused(s.change, {key: good}, True) == (L.E_SHIFT_OPEN, key)
        assert s.change({key: good}, False) == [key] and s.get(key) == good
    t = S.Settings()
    t.load(s.encode())
    assert t.get("timeout_s") == 30 and t.get("retry_s") == 600
    old = s.encode().replace(b'["retry_s",600],', b"")
    assert old != s.encode()
    t.load(old)
    assert t.get("retry_s") == 60 and t.get("timeout_s") == 30
