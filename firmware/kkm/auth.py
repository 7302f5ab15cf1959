# Roles, passwords, lockout and the audit trail (KZ-1, KZ-1.1-1.3, KZ-ND-35(1)).
#
# Passwords are at least 4 digits (KZ-1). Only a salted, iterated
# HMAC-SHA-256 of each password is kept. Five wrong attempts in a row lock
# that user out for LOCKOUT_S seconds. Every login, failure, lockout and
# change of users is handed to the audit callback, which the register
# writes to the journal (need_ack=False). The failure counters and lockout
# times survive a reboot: the register's checkpoint carries them
# (lock_state/load_locks) and recovery replays the audit records after it
# (replay), so a power cycle does not give five more attempts.

import os
import struct

from compat import const, hmac_sha256, is_int
from journal import MAX_PAYLOAD
from kkm.locks import (
    Refused,
    E_BAD_PASSWORD,
    E_LOCKED_OUT,
    E_PASSWORD_RULE,
    E_NO_RIGHT,
    E_NOT_LOGGED_IN,
    E_UNKNOWN_USER,
    E_BAD_SETTING,
    E_SETTINGS_SIZE,
)

ROLE_CASHIER = const(1)
ROLE_ADMIN = const(2)  # administrator (owner, senior cashier)
ROLE_SERVICE = const(3)  # service engineer

# password-protected modes
MODE_SALES = const(1)  # KZ-1.1: sales, returns, cash in/out, X
MODE_PROGRAMMING = const(2)  # KZ-1.2: settings, users
MODE_SHIFT_CLOSE = const(3)  # KZ-1.3: Z report
MODE_CLOCK = const(4)  # KZ-10(3): clock setting
MODE_SERVICE = const(5)  # KZ-10(3): test mode, fiscalisation

_RIGHTS = {
    MODE_SALES: (ROLE_CASHIER, ROLE_ADMIN),
    MODE_SHIFT_CLOSE: (ROLE_CASHIER, ROLE_ADMIN),
    MODE_PROGRAMMING: (ROLE_ADMIN, ROLE_SERVICE),
    MODE_CLOCK: (ROLE_ADMIN, ROLE_SERVICE),
    MODE_SERVICE: (ROLE_SERVICE,),
}

# audit events (the register journals them with the user code)
EV_LOGIN = const(1)
EV_LOGIN_FAIL = const(2)
EV_LOCKOUT = const(3)
EV_LOGOUT = const(4)
EV_USER_SET = const(5)
EV_PASSWORD_SET = const(6)

# why a login failed: second byte of an EV_LOGIN_FAIL detail (the first is
# the mode); only WHY_PASSWORD counts towards the lockout
WHY_PASSWORD = const(1)
WHY_LOCKED = const(2)
WHY_RIGHT = const(3)
WHY_UNKNOWN = const(4)

MAX_FAILS = const(5)
LOCKOUT_S = const(300)
ITERATIONS = const(50)
MIN_DIGITS = const(4)
MAX_DIGITS = const(12)


def may(role, mode):
    return role in _RIGHTS.get(mode, ())


def _check_password(pw):
    if not isinstance(pw, str) or not (MIN_DIGITS <= len(pw) <= MAX_DIGITS):
        raise Refused(E_PASSWORD_RULE, None)
    for ch in pw:
        if ch not in "0123456789":
            raise Refused(E_PASSWORD_RULE, None)


def hash_password(salt, pw):
    h = hmac_sha256(salt, pw.encode())
    for _ in range(ITERATIONS - 1):
        h = hmac_sha256(salt, h)
    return h


class User:
    def __init__(self, code, name, role, salt, digest):
        self.code = code
        self.name = name
        self.role = role
        self.salt = salt
        self.digest = digest
        self.fails = 0
        self.locked_until = 0

    def verify(self, pw):
        d = hash_password(self.salt, pw)
        # compare every byte (no early exit)
        diff = len(d) ^ len(self.digest)
        for i in range(min(len(d), len(self.digest))):
            diff |= d[i] ^ self.digest[i]
        return diff == 0


class Auth:
    # clock: object with now(); audit(event, user_code, detail) or None;
    # salt_source(n) -> n random bytes (os.urandom by default)
    def __init__(self, clock, audit=None, salt_source=None):
        self.clock = clock
        self.audit = audit
        self._salt = salt_source if salt_source is not None else os.urandom
        self.users = {}
        self.current = None

    def _log(self, event, code, detail=b""):
        if self.audit is not None:
            self.audit(event, code, detail)

    def set_user(self, code, name, role, password):
        # add or replace a user (programming mode; the register checks rights)
        if not is_int(code) or not (1 <= code <= 255) or role not in (ROLE_CASHIER, ROLE_ADMIN, ROLE_SERVICE):
            raise Refused(E_BAD_SETTING, code)
        _check_password(password)
        salt = self._salt(8)
        old = self.users.get(code)
        self.users[code] = User(code, name, role, salt, hash_password(salt, password))
        if len(self.encode()) > MAX_PAYLOAD:
            # the users are one journal record (R_USERS): refused, not an
            # accumulator fault
            if old is None:
                del self.users[code]
            else:
                self.users[code] = old
            raise Refused(E_SETTINGS_SIZE, code)
        self._log(EV_USER_SET, code, bytes([role]))

    def set_password(self, code, password):
        u = self.users.get(code)
        if u is None:
            raise Refused(E_UNKNOWN_USER, code)
        _check_password(password)
        u.salt = self._salt(8)
        u.digest = hash_password(u.salt, password)
        u.fails = 0
        u.locked_until = 0
        self._log(EV_PASSWORD_SET, code)

    def login(self, code, password, mode):
        # KZ-1.1..1.3: a password opens one mode; returns the user
        u = self.users.get(code)
        if u is None:
            self._log(EV_LOGIN_FAIL, code, bytes([mode, WHY_UNKNOWN]))
            raise Refused(E_UNKNOWN_USER, code)
        now = self.clock.now()
        if u.locked_until > now:
            self._log(EV_LOGIN_FAIL, code, bytes([mode, WHY_LOCKED]))
            raise Refused(E_LOCKED_OUT, u.locked_until - now)
        if not isinstance(password, str) or not u.verify(password):
            u.fails += 1
            self._log(EV_LOGIN_FAIL, code, bytes([mode, WHY_PASSWORD]))
            if u.fails >= MAX_FAILS:
                u.fails = 0
                u.locked_until = now + LOCKOUT_S
                self._log(EV_LOCKOUT, code, struct.pack("<I", LOCKOUT_S))
                raise Refused(E_LOCKED_OUT, LOCKOUT_S)
            raise Refused(E_BAD_PASSWORD, MAX_FAILS - u.fails)
        if not may(u.role, mode):
            self._log(EV_LOGIN_FAIL, code, bytes([mode, WHY_RIGHT]))
            raise Refused(E_NO_RIGHT, mode)
        u.fails = 0
        self.current = (u, mode)
        self._log(EV_LOGIN, code, bytes([mode]))
        return u

    def logout(self):
        if self.current is not None:
            self._log(EV_LOGOUT, self.current[0].code)
        self.current = None

    def require(self, mode):
        # the user logged in for `mode` (sales mode also allows X reports)
        if self.current is None:
            raise Refused(E_NOT_LOGGED_IN, mode)
        u, m = self.current
        if m != mode or not may(u.role, mode):
            raise Refused(E_NO_RIGHT, mode)
        return u

    # persistence: users live in the journal's checkpoint and in their own
    # records; no password is ever stored, only salt and digest
    def encode(self):
        out = [bytes([len(self.users)])]
        for code in sorted(self.users):
            u = self.users[code]
            name = u.name.encode()[:40]
            out.append(struct.pack("<BBB", u.code, u.role, len(name)) + name + u.salt + u.digest)
        return b"".join(out)

    def load(self, data):
        # a user whose salt and digest did not change keeps its failure
        # count and lockout (a users record written for another user)
        old = self.users
        self.users = {}
        n = data[0]
        p = 1
        for _ in range(n):
            code, role, ln = struct.unpack_from("<BBB", data, p)
            p += 3
            name = bytes(data[p : p + ln]).decode()
            p += ln
            salt = bytes(data[p : p + 8])
            digest = bytes(data[p + 8 : p + 40])
            p += 40
            u = User(code, name, role, salt, digest)
            o = old.get(code)
            if o is not None and o.salt == salt and o.digest == digest:
                u.fails = o.fails
                u.locked_until = o.locked_until
            self.users[code] = u
        return p

    # lockout state across a reboot (KZ-1, KZ-ND-35(1))
    def replay(self, event, code, detail, ts):
        # one audit record (ts: its journal time) applied as login() did
        u = self.users.get(code)
        if u is None:
            return
        if event == EV_LOGIN_FAIL:
            if len(detail) >= 2 and detail[1] == WHY_PASSWORD:
                u.fails += 1
        elif event == EV_LOCKOUT:
            u.fails = 0
            s = struct.unpack_from("<I", detail, 0)[0] if len(detail) >= 4 else LOCKOUT_S
            u.locked_until = ts + s
        elif event == EV_LOGIN:
            u.fails = 0
        elif event == EV_PASSWORD_SET:
            u.fails = 0
            u.locked_until = 0

    def lock_state(self):
        # -> bytes: count, then (code, fails, locked until) of each user with
        # a failure count or a lockout
        out = []
        for code in sorted(self.users):
            u = self.users[code]
            if u.fails or u.locked_until:
                out.append(struct.pack("<BBI", code, min(u.fails, 255), u.locked_until))
        return bytes([len(out)]) + b"".join(out)

    def load_locks(self, data, p=0):
        # the inverse of lock_state(); returns the offset after it
        n = data[p]
        p += 1
        for _ in range(n):
            code, fails, until = struct.unpack_from("<BBI", data, p)
            p += 6
            u = self.users.get(code)
            if u is not None:
                u.fails = fails
                u.locked_until = until
        return p
