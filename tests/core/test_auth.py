# Roles and passwords (KZ-1, KZ-1.1-1.3, KZ-ND-35(1)): salted hashes only,
# lockout after 5 wrong attempts, every login and failure audited.
from kkm import auth as A
from kkm import locks as L
from kkm.clock import ManualClock
from regkit import refused

T0 = 1767225600


def _setup():
    log = []
    clock = ManualClock(T0)
    seq = [0]

    def salt(n):
        seq[0] += 1
        return bytes([seq[0]]) * n

    a = A.Auth(clock, lambda ev, code, detail: log.append((ev, code)), salt)
    a.set_user(1, "Айгүл", A.ROLE_CASHIER, "1234")
    a.set_user(2, "Admin", A.ROLE_ADMIN, "987654")
    a.set_user(3, "Service", A.ROLE_SERVICE, "55555")
    return a, clock, log


def test_kz_1_password_at_least_four_digits():
    a, _, _ = _setup()
    for bad in ("123", "12a4", "", "12 34", "1234567890123"):
        assert refused(a.set_user, 4, "x", A.ROLE_CASHIER, bad)[0] == L.E_PASSWORD_RULE
    a.set_user(4, "x", A.ROLE_CASHIER, "0000")


def test_only_salted_hashes_are_stored():
    a, _, _ = _setup()
    blob = a.encode()
    assert b"1234" not in blob and b"987654" not in blob
    # same password, different salt -> different digest
    a.set_user(5, "y", A.ROLE_CASHIER, "1234")
    assert a.users[5].digest != a.users[1].digest
    b = A.Auth(a.clock)
    b.load(blob)
    assert sorted(b.users) == [1, 2, 3]
    assert b.login(1, "1234", A.MODE_SALES).name == "Айгүл"


def test_kz_1_1_to_1_3_modes_and_roles():
    a, _, _ = _setup()
    assert a.login(1, "1234", A.MODE_SALES).code == 1  # KZ-1.1
    assert a.require(A.MODE_SALES).code == 1
    assert refused(a.require, A.MODE_PROGRAMMING)[0] == L.E_NO_RIGHT
    assert a.login(1, "1234", A.MODE_SHIFT_CLOSE).code == 1  # KZ-1.3
    assert refused(a.login, 1, "1234", A.MODE_PROGRAMMING)[0] == L.E_NO_RIGHT  # KZ-1.2
    assert a.login(2, "987654", A.MODE_PROGRAMMING).code == 2
    assert refused(a.login, 2, "987654", A.MODE_SERVICE)[0] == L.E_NO_RIGHT
    assert a.login(3, "55555", A.MODE_SERVICE).code == 3
    assert refused(a.login, 3, "55555", A.MODE_SALES)[0] == L.E_NO_RIGHT
    a.logout()
    assert refused(a.require, A.MODE_SALES)[0] == L.E_NOT_LOGGED_IN


def test_lockout_after_five_wrong_attempts_then_expires():
    a, clock, log = _setup()
    for i in range(4):
        args = refused(a.login, 1, "0000", A.MODE_SALES)
        assert args == (L.E_BAD_PASSWORD, 4 - i)
    assert refused(a.login, 1, "0000", A.MODE_SALES)[0] == L.E_LOCKED_OUT
    # even the right password is refused while locked out
    assert refused(a.login, 1, "1234", A.MODE_SALES)[0] == L.E_LOCKED_OUT
    # another user is not affected
    a.login(2, "987654", A.MODE_SALES)
    clock.advance(A.LOCKOUT_S)
    assert a.login(1, "1234", A.MODE_SALES).code == 1
    assert (A.EV_LOCKOUT, 1) in log
    assert log.count((A.EV_LOGIN_FAIL, 1)) == 6


def test_every_login_and_failure_is_audited():
    a, _, log = _setup()
    del log[:]
    a.login(1, "1234", A.MODE_SALES)
    refused(a.login, 1, "9999", A.MODE_SALES)
    refused(a.login, 77, "9999", A.MODE_SALES)
    a.logout()
    a.set_password(1, "4321")
    assert log == [(A.EV_LOGIN, 1), (A.EV_LOGIN_FAIL, 1), (A.EV_LOGIN_FAIL, 77), (A.EV_LOGOUT, 1),
                   (A.EV_PASSWORD_SET, 1)]
    assert refused(a.login, 1, "1234", A.MODE_SALES)[0] == L.E_BAD_PASSWORD
    a.login(1, "4321", A.MODE_SALES)
