# Locks: each one engages and clears (KZ-3, KZ-6, KZ-14, KZ-16, KZ-29.6,
# KZ-43.1, KZ-76.4, KZ-ND-35); which operations each lock leaves open.
from kkm import locks as L
from kkm.clock import Clock, ManualClock

T0 = 1767225600  # 2026-01-01 00:00 UTC

FLAG_LOCKS = (L.NOT_FISCALISED, L.SELFTEST_HW, L.SELFTEST_SW, L.ACC_INTEGRITY, L.ACC_FULL, L.ACC_FAULT,
              L.NO_PAPER, L.PRINTER_FAULT, L.OFD_SUSPEND, L.FIRMWARE, L.DATA_MISMATCH, L.CLOCK_BAD,
              L.Z_AREA_FULL)


def _raises_locked(fn, *args):
    try:
        fn(*args)
    except L.Locked as e:
        return e.args
    raise AssertionError("not locked")


def test_every_flag_lock_engages_and_clears_for_payments():
    for code in FLAG_LOCKS:
        lk = L.Locks()
        lk.require(L.OP_PAYMENT, T0)
        lk.set(code, "why")
        args = _raises_locked(lk.require, L.OP_PAYMENT, T0)
        assert args == (code, [code])
        _raises_locked(lk.require, L.OP_PLACEMENT, T0)
        lk.clear(code)
        lk.require(L.OP_PAYMENT, T0)
        lk.require(L.OP_PLACEMENT, T0)
        assert lk.active(T0) == []


def test_kz_14_shift_over_24h_locks_payments_not_z():
    lk = L.Locks()
    start = T0
    lk.require(L.OP_PAYMENT, start + 86400, start)  # exactly 24 h: not exceeded
    args = _raises_locked(lk.require, L.OP_PAYMENT, start + 86401, start)
    assert args[0] == L.SHIFT_24H
    lk.require(L.OP_Z, start + 86401, start)
    lk.require(L.OP_X, start + 86401, start)
    # cleared by the shift close: no shift start any more
    lk.require(L.OP_PAYMENT, start + 86401, None)
    assert lk.shift_seconds_left(start + 3600, start) == 86400 - 3600
    assert lk.shift_seconds_left(start + 90000, start) == 0


def test_kz_29_6_offline_over_72h_locks_payments_not_z():
    lk = L.Locks()
    oldest = T0
    lk.require(L.OP_PAYMENT, oldest + 72 * 3600, None, oldest)
    args = _raises_locked(lk.require, L.OP_PAYMENT, oldest + 72 * 3600 + 1, None, oldest)
    assert args == (L.OFFLINE_72H, [L.OFFLINE_72H])
    lk.require(L.OP_Z, oldest + 80 * 3600, None, oldest)  # KZ-29.7
    # cleared when the OFD acknowledged the queue (no oldest unacked)
    lk.require(L.OP_PAYMENT, oldest + 80 * 3600, None, None)


def test_several_locks_are_reported_sorted():
    lk = L.Locks()
    lk.set(L.NO_PAPER)
    lk.set(L.OFD_SUSPEND)
    args = _raises_locked(lk.require, L.OP_PAYMENT, T0 + 72 * 3600 + 1, T0, T0)
    assert args[1] == sorted([L.NO_PAPER, L.OFD_SUSPEND, L.SHIFT_24H, L.OFFLINE_72H])
    assert args[0] == min(args[1])


def test_shift_close_stays_possible_under_time_and_ofd_locks():
    for code in (L.SHIFT_24H, L.OFFLINE_72H, L.OFD_SUSPEND, L.ACC_FULL, L.DATA_MISMATCH):
        assert not L.blocks(code, L.OP_Z)
        assert not L.blocks(code, L.OP_X)
        assert L.blocks(code, L.OP_PAYMENT)
    # KZ-3, KZ-6, KZ-43.1: no document at all, not even a Z
    for code in (L.SELFTEST_HW, L.SELFTEST_SW, L.ACC_INTEGRITY, L.ACC_FAULT, L.NO_PAPER, L.PRINTER_FAULT,
                 L.FIRMWARE, L.NOT_FISCALISED):
        assert L.blocks(code, L.OP_Z)
    assert L.blocks(L.Z_AREA_FULL, L.OP_Z) and not L.blocks(L.Z_AREA_FULL, L.OP_X)


def test_service_can_program_unless_firmware_is_broken():
    for code in FLAG_LOCKS:
        assert L.blocks(code, L.OP_SETTINGS) == (code == L.FIRMWARE)
    assert not L.blocks(L.CLOCK_BAD, L.OP_CLOCK)
    assert L.blocks(L.FIRMWARE, L.OP_CLOCK)


def test_every_code_has_kazakh_and_russian_text_and_a_clearing_note():
    from kkm import texts

    for code in FLAG_LOCKS + (L.SHIFT_24H, L.OFFLINE_72H):
        kk = L.message(code, "kk")
        ru = L.message(code, "ru")
        assert texts.has(code)
        assert kk and ru and kk != ru
        assert L.clears(code)
    assert L.message(L.E_NOT_ENOUGH_CASH, "ru") != L.message(L.E_NOT_ENOUGH_CASH, "kk")
    # codes sit in the ranges agreed in kkm.texts
    for code in FLAG_LOCKS:
        assert 300 <= code < 400


def test_manual_clock_and_local_time():
    c = ManualClock(T0)
    assert c.now() == T0
    c.advance(3600)
    assert c.now() == T0 + 3600
    assert c.civil() == (2026, 1, 1, 6, 0, 0)  # UTC+5
    c.set(T0 - 5 * 3600 - 1)
    assert c.civil() == (2025, 12, 31, 23, 59, 59)


def test_clock_correction_and_setter():
    src = [T0]
    c = Clock(lambda: src[0])
    assert c.now() == T0
    c.set(T0 + 100)
    src[0] += 10
    assert c.now() == T0 + 110
    rtc = [T0]

    def write_rtc(ts):
        rtc[0] = ts

    c2 = Clock(lambda: rtc[0], write_rtc)
    c2.set(T0 + 500)
    assert rtc[0] == T0 + 500 and c2.now() == T0 + 500 and c2.correction == 0


def test_kz_40_2_rnm_refusal_names_the_rnm_as_the_receipt_prints_it():
    from kkm import texts

    for lang in ("kk", "ru"):
        assert L.message(L.E_BAD_RNM, lang).startswith(texts.text(texts.L_RNM, lang) + " ")
