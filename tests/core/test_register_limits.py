# Limits that must hold across a full accumulator and a reboot:
#   - KZ-ND-35(3), KZ-8, KZ-28: a log filled by one shift locks sales early
#     enough that the shift can still be closed and the queue acknowledged;
#     the lock clears once the retention window lets the log be reused;
#   - KZ-1, KZ-ND-35(1): the wrong-password lockout survives a power cycle;
#   - KZ-ND-36: the cashier is warned while few Z slots are left.
from kkm import auth as A
from kkm import locks as L
from regkit import fiscalised_bench, line, sell, refused

DAY = 86400


def _fill_online(b):
    b.ofd.online = True
    return _fill(b)


def _fill_offline(b):
    # sell with the OFD unreachable until the accumulator refuses
    b.ofd.online = False
    return _fill(b)


def _fill(b):
    r = b.reg
    n = 0
    while True:
        try:
            sell(r, [line(name="Тауар %d" % n), line(name="Сүт", section=2)])
        except L.Locked as e:
            assert e.args[0] == L.ACC_FULL and e.args[1] == [L.ACC_FULL]
            break
        n += 1
        b.clock.advance(30)
        assert n < 1000
    if r.draft is not None:
        r.abandon()
    return n


def test_kz_nd_35_full_log_in_one_shift_closes_acks_and_clears():
    b = fiscalised_bench(log_blocks=8)
    r = b.reg
    n = _fill_offline(b)
    assert n > 20 and len(r.acc.unacked()) == n
    assert L.ACC_FULL in r.active_locks()
    assert refused(r.open_receipt, 1)[0] == L.ACC_FULL
    assert refused(r.deposit, 100)[0] == L.ACC_FULL
    # best-effort records (failed logins, logouts) cannot eat the reserve
    for _ in range(30):
        refused(r.login, 2, "0000", A.MODE_PROGRAMMING)
        b.clock.advance(301)
        r.logout()
    # the shift closes offline: Z document, Z area, marker, checkpoint
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    zx = r.close_shift()
    assert zx["shift_number"] == 1 and r.acc.z_count() == 1 and not r.shift_open
    assert len(r.acc.unacked()) == n + 1  # the Z waits in the queue too
    assert r.acc.last_checkpoint() > r.acc.z_last_seq
    # after a reboot the state is the closed shift
    r = b.boot()
    assert r.acc.self_test().ok and r.acc.z_count() == 1 and not r.shift_open
    assert r.counters.tickets_count() == 0 and r.acc.last_checkpoint() is not None
    # the OFD comes back: every document and the Z are acknowledged
    b.ofd.online = True
    r.login(1, "1111", A.MODE_SALES)
    assert r.replay(limit=5000) == n + 1
    assert r.acc.unacked() == []
    # the acknowledgements released the reserve kept for them: a few more
    # documents fit, then the log, still inside its retention window, is
    # full again (nothing of shift 1 may be reused yet)
    n2 = _fill_online(b)
    assert n2 < n and L.ACC_FULL in r.active_locks()
    assert r.acc.oldest_seq == 1
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    r.close_shift()
    r.login(1, "1111", A.MODE_SALES)
    assert L.ACC_FULL in r.active_locks()
    # after the window the old shift's sectors are reused: sales again
    b.clock.advance(r.acc.retention_s + DAY)
    assert L.ACC_FULL not in r.active_locks()
    k = 0
    while r.acc.oldest_seq == 1:  # until the ring is reused
        res = sell(r)
        assert not res.offline and res.shift_no == 3
        k += 1
        assert k < 2 * n
    r = b.boot()
    assert r.acc.self_test().ok and r.counters.tickets_count() == k


def test_kz_nd_35_z_fits_after_a_reboot_on_a_full_log():
    # the power fails right after the lock engaged: the reserve is sized
    # again at boot and the close still fits
    b = fiscalised_bench(log_blocks=5)
    _fill_offline(b)
    r = b.boot()
    r.login(1, "1111", A.MODE_SALES)
    assert refused(r.open_receipt, 1)[0] == L.ACC_FULL
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    r.close_shift()
    r = b.boot()
    assert r.acc.z_count() == 1 and r.acc.self_test().ok


def test_kz_nd_36_cashier_warned_from_30_z_slots_left():
    b = fiscalised_bench(fm_blocks=3)  # 36 Z slots
    r = b.reg
    for i in range(6):
        assert L.N_Z_LOW not in r.notices
        r.login(1, "1111", A.MODE_SALES)
        sell(r)
        r.login(1, "1111", A.MODE_SHIFT_CLOSE)
        r.close_shift()
    assert r.acc.z_slots_left() == L.Z_LOW and L.N_Z_LOW in r.notices
    assert L.N_Z_LOW in b.boot().notices


def test_kz_1_lockout_survives_a_power_cycle():
    b = fiscalised_bench()
    r = b.reg
    for i in range(A.MAX_FAILS - 1):
        assert refused(r.login, 1, "0000", A.MODE_SALES)[0] == L.E_BAD_PASSWORD
    assert refused(r.login, 1, "0000", A.MODE_SALES) == (L.E_LOCKED_OUT, A.LOCKOUT_S)
    b.clock.advance(10)
    r = b.boot()
    # the right password is refused until the lockout time has passed
    assert refused(r.login, 1, "1111", A.MODE_SALES)[0] == L.E_LOCKED_OUT
    b.clock.advance(A.LOCKOUT_S - 20)
    r = b.boot()
    assert refused(r.login, 1, "1111", A.MODE_SALES) == (L.E_LOCKED_OUT, 10)
    b.clock.advance(10)
    assert r.login(1, "1111", A.MODE_SALES).code == 1


def test_kz_1_failure_count_survives_a_power_cycle():
    # 3 wrong attempts, reboot, 2 more: locked (not 5 more after a reboot)
    b = fiscalised_bench()
    r = b.reg
    for i in range(3):
        refused(r.login, 1, "0000", A.MODE_SALES)
    # a refusal for lack of rights with the right password does not count
    assert refused(r.login, 1, "1111", A.MODE_PROGRAMMING)[0] == L.E_NO_RIGHT
    r = b.boot()
    assert refused(r.login, 1, "0000", A.MODE_SALES) == (L.E_BAD_PASSWORD, 1)
    assert refused(r.login, 1, "0000", A.MODE_SALES)[0] == L.E_LOCKED_OUT
    # another user is not affected
    assert r.login(2, "2222", A.MODE_PROGRAMMING).code == 2


def test_kz_1_lockout_carried_by_the_checkpoint():
    # the failures are older than the latest checkpoint: the checkpoint
    # itself must carry the lockout (the audit records are not replayed)
    b = fiscalised_bench()
    r = b.reg
    for i in range(A.MAX_FAILS):
        refused(r.login, 1, "0000", A.MODE_SALES)
    r.checkpoint()
    cp = r.acc.last_checkpoint()
    r = b.boot()
    assert r.acc.last_checkpoint() == cp
    assert refused(r.login, 1, "1111", A.MODE_SALES)[0] == L.E_LOCKED_OUT
    # a users record written after it (another user changed) keeps it too
    r.login(2, "2222", A.MODE_PROGRAMMING)
    r.set_user(3, "Жаңа", A.ROLE_CASHIER, "3333")
    r = b.boot()
    assert refused(r.login, 1, "1111", A.MODE_SALES)[0] == L.E_LOCKED_OUT
    b.clock.advance(A.LOCKOUT_S)
    assert r.login(1, "1111", A.MODE_SALES).code == 1
    # a new password from the administrator clears a lockout too
    for i in range(A.MAX_FAILS):
        refused(r.login, 3, "0000", A.MODE_SALES)
    r.login(2, "2222", A.MODE_PROGRAMMING)
    r.set_password(3, "4444")
    r = b.boot()
    assert r.login(3, "4444", A.MODE_SALES).code == 3
