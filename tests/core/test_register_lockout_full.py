# KZ-1, KZ-ND-35(1): a wrong-password lockout survives a power cycle also
# when the accumulator is full. Failed-login audit records (wrong password,
# lockout) that the full log refuses go into each user's share of the
# reserve (one lockout cycle: five failures and the lockout); once a user's
# share is spent, that user's passwords are not checked at all while the
# log stays full (Locked ACC_FULL), so no guess goes unrecorded. Other
# users keep their own share: the shift can still be closed.
from kkm import auth as A
from kkm import locks as L
from kkm import records as RC
from kkm import register as R
from regkit import fiscalised_bench, refused
from test_register_limits import _fill_offline


def _full_bench():
    b = fiscalised_bench(log_blocks=8)
    _fill_offline(b)
    r = b.reg
    assert L.ACC_FULL in r.active_locks()
    # the few bytes left outside the reserve go to logins and logouts (their
    # audit records are best effort) until not even one of them fits
    n = 0
    while r.acc.can_append((R.AUTH_ROOM,), b.clock.now()):
        r.login(2, "2222", A.MODE_PROGRAMMING)
        r.logout()
        n += 1
        assert n < 100
    r.logout()
    _fill_slack(b)
    return b


def _fill_slack(b):
    # the last bytes outside the reserve to records no one reads (type
    # 200): not even the shortest failure record fits there now
    r = b.reg
    r._set_reserve()  # as the register counts it now
    while r.acc.can_append((0,), b.clock.now()):
        r.acc.append(200, b"", b.clock.now())


def _reserved_failures(r, user):
    n = 0
    for seq, rtype, ts, p in r.acc.records(r.acc.last_checkpoint() or 0):
        if rtype == RC.R_AUDIT and p[0] & RC.AUTH_RESERVED and p[1] == user:
            n += 1
    return n


def test_kz_1_lockout_on_a_full_log_survives_a_power_cycle():
    b = _full_bench()
    r = b.reg
    for i in range(A.MAX_FAILS - 1):
        assert refused(r.login, 1, "0000", A.MODE_SALES) == (L.E_BAD_PASSWORD, A.MAX_FAILS - 1 - i)
    assert refused(r.login, 1, "0000", A.MODE_SALES) == (L.E_LOCKED_OUT, A.LOCKOUT_S)
    assert _reserved_failures(r, 1) == A.MAX_FAILS + 1
    b.clock.advance(10)
    r = b.boot()
    assert r.auth_spent == {1: R.AUTH_SHARE}
    assert refused(r.login, 1, "1111", A.MODE_SALES) == (L.E_LOCKED_OUT, A.LOCKOUT_S - 10)
    # a failure count survives too (another user, two wrong passwords)
    refused(r.login, 2, "0000", A.MODE_PROGRAMMING)
    refused(r.login, 2, "0000", A.MODE_PROGRAMMING)
    r = b.boot()
    assert refused(r.login, 2, "0000", A.MODE_PROGRAMMING) == (L.E_BAD_PASSWORD, 2)


def test_kz_1_spent_share_stops_password_checks_but_not_the_shift_close():
    b = _full_bench()
    r = b.reg
    for i in range(A.MAX_FAILS):
        refused(r.login, 1, "0000", A.MODE_SALES)
    _fill_slack(b)  # what the spent share no longer holds back
    b.clock.advance(A.LOCKOUT_S)
    # the lockout is over, but another failure could not be journalled:
    # the password is not checked, not even the right one
    assert refused(r.login, 1, "1111", A.MODE_SALES)[0] == L.ACC_FULL
    r = b.boot()
    assert refused(r.login, 1, "1111", A.MODE_SALES)[0] == L.ACC_FULL
    assert _reserved_failures(r, 1) == R.AUTH_SHARE
    # the administrator has a share of its own and closes the shift
    assert refused(r.login, 2, "0000", A.MODE_SHIFT_CLOSE)[0] == L.E_BAD_PASSWORD
    r.login(2, "2222", A.MODE_SHIFT_CLOSE)
    zx = r.close_shift()
    assert zx["shift_number"] == 1 and r.acc.self_test().ok
    # the Z's checkpoint starts the shares anew
    assert r.auth_spent == {}
    assert r.login(1, "1111", A.MODE_SALES).code == 1
    r = b.boot()
    assert r.auth_spent == {} and r.acc.self_test().ok
