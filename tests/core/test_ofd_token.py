# A token entered in the settings reaches the OFD session (KZ-41: the token
# may be entered at any time; KZ-20; PROTOCOL.md section 12: after result 2
# INVALID_TOKEN nothing is sent until a correct token is entered) and the
# result codes 1, 2, 15 engage locks that the register keeps across a
# reboot. The register, ofd.port and ofd.client run for real on the NOR
# emulator against the in-memory OFD of test_ofd_session.
import gc

from boards.sim.nor_flash import PowerCut
from kkm import auth as A
from kkm import locks as L
from kkm import records as R
from ofd import codec
from ofd import frame
from ofd import schema as S
from kkm.records import unpack_session
from ofdkit import run
from regkit import line, refused, sell
from test_ofd_session import KKM, _bench, _power_off_after_cut

UNKNOWN = 424242  # a token the OFD moved to without telling the device


def _watch(b):
    # record (token, reqnum) of every request that reaches the OFD
    ofd = b.memofd
    orig = ofd.handle
    b.sent = []

    def handle(data):
        h, body = frame.split(data)
        b.sent.append((h.token, h.reqnum))
        return orig(data)

    ofd.handle = handle
    return orig


def _blocked_bench():
    # an online sale, then the OFD's token changes behind the device's back:
    # the next sale is refused with code 2, issued offline, and locks sales
    b = _bench()
    r = b.reg
    assert not sell(r).offline
    _watch(b)
    b.memofd.token = UNKNOWN
    res = sell(r)
    assert res.offline and b.port.last.code == S.RESULT_TYPE_INVALID_TOKEN
    return b


def _enter(b, token, user=9, pw="9999"):
    # the entry, then the port takes it as the session token, journalled,
    # as it does before its next exchange (OfdPort._ready)
    r = b.reg
    r.login(user, pw, A.MODE_PROGRAMMING)
    keys = r.change_settings({"token": token})
    r.logout()
    b.port.apply_token()
    return keys


def test_kz_41_code_2_locks_sales_and_stops_sending():
    b = _blocked_bench()
    r = b.reg
    c = b.port.session
    assert L.INVALID_TOKEN in r.active_locks()
    # the answer's (echoed) token is not adopted: the device keeps its own
    assert c.token == b.sent[0][0] and c.pending is None
    assert refused(sell, r)[0] == L.INVALID_TOKEN
    n = len(b.sent)
    assert r.replay() == 0 and len(b.sent) == n  # nothing is sent
    assert run(b.port.probe()) is None and len(b.sent) == n
    assert r.x_report()["shift_number"] == 1  # X and Z stay possible
    # the lock survives a reboot (audit record) and a checkpoint (flag)
    r = b.boot()
    assert L.INVALID_TOKEN in r.active_locks()
    r.checkpoint()
    r = b.boot()
    assert L.INVALID_TOKEN in r.active_locks()
    assert L.message(L.INVALID_TOKEN, "kk") != L.message(L.INVALID_TOKEN, "ru")


def test_kz_41_entered_token_clears_the_lock_and_the_queue_goes_online():
    b = _blocked_bench()
    r = b.reg
    last_reqnum = b.sent[-1][1]
    assert _enter(b, UNKNOWN) == ["token"]
    assert L.INVALID_TOKEN not in r.active_locks()
    # journalled before use: the session record holds the entered token,
    # REQNUM goes on from the last one sent (PROTOCOL.md section 2)
    tok, reqnum, pend, done = unpack_session(r.ofd_session)[:4]
    assert (tok, reqnum, pend) == (UNKNOWN, last_reqnum, None)
    assert b.port.session.token == UNKNOWN and r.settings.get("token") == UNKNOWN
    # who entered it is in the journal
    ev = [p for s, t, ts, p in r.acc.records(0) if t == R.R_AUDIT and p[0] == R.EV_TOKEN]
    assert len(ev) == 1 and ev[0][1] == 9
    # survives a reboot: no lock, the entered token, the next REQNUM
    r = b.boot()
    assert L.INVALID_TOKEN not in r.active_locks()
    assert b.port.session.token == UNKNOWN and r.settings.get("token") == UNKNOWN
    r.login(1, "1111", A.MODE_SALES)
    stored = len(b.memofd.stored)
    assert r.replay() == 1 and r.acc.unacked() == []
    assert b.sent[-1] == (UNKNOWN, last_reqnum + 1)
    assert len(b.memofd.stored) == stored + 1 and b.memofd.duplicates == 0
    assert not sell(r).offline and b.sent[-1] == (UNKNOWN + 1, last_reqnum + 2)
    r = b.boot()
    assert b.port.session.token == b.memofd.token and L.INVALID_TOKEN not in r.active_locks()


def test_kz_41_token_entry_rights_and_shift_open():
    b = _blocked_bench()
    r = b.reg
    # a cashier cannot program; the administrator may, with the shift open
    assert refused(r.login, 1, "1111", A.MODE_PROGRAMMING)[0] == L.E_NO_RIGHT
    assert r.shift_open
    assert _enter(b, UNKNOWN, 2, "2222") == ["token"]
    assert L.INVALID_TOKEN not in r.active_locks()
    r.login(1, "1111", A.MODE_SALES)
    assert r.replay() == 1


def test_kz_41_token_entered_with_a_request_pending_keeps_its_token_and_reqnum():
    # the OFD stores a sale and rotates its token, the answer is lost (the
    # request stays pending). The engineer enters the OFD's current token:
    # the pending request still goes with the TOKEN and REQNUM it was sent
    # with (the OFD answers it as a duplicate), the next one with the new
    # token and the next REQNUM
    b = _bench()
    r = b.reg
    sell(r)
    ofd = b.memofd
    orig = _watch(b)

    def stored_then_lost(data):
        orig(data)
        raise RuntimeError("answer lost")  # (an OSError would retry for 5 s)

    ofd.handle = stored_then_lost
    res = sell(r)
    assert res.offline and b.port.session.pending is not None
    ofd.handle = orig
    _watch(b)
    _enter(b, ofd.token)
    assert b.port.session.pending is not None and b.port.session.token == ofd.token
    r.login(1, "1111", A.MODE_SALES)
    stored = len(ofd.stored)
    assert r.replay() == 1 and ofd.duplicates == 1 and len(ofd.stored) == stored
    assert b.port.session.token == ofd.token
    reqnum = b.port.session.reqnum
    assert not sell(r).offline and b.sent[-1] == (ofd.token - 1, reqnum + 1)


def test_kz_41_power_cut_at_every_byte_of_the_token_entry():
    gc.collect()
    b = _blocked_bench()
    base = (b.log.snapshot(), b.fm.snapshot(), b.memofd.state())
    old = b.port.session.token

    def reset():
        b.log.restore(base[0])
        b.fm.restore(base[1])
        b.memofd.set_state(base[2])
        return b.boot()

    reset()
    p0 = b.log.bytes_programmed
    _enter(b, UNKNOWN)
    total = b.log.bytes_programmed - p0
    assert total > 0
    _power_off_after_cut(b.log)
    seen = {"old": 0, "new": 0}
    for n in range(0, total + 1):
        if n % 7 and n < total - 8:
            continue  # every 7th byte and the last ones
        gc.collect()
        r = reset()
        b.log.cut_after(n)
        try:
            _enter(b, UNKNOWN)
        except PowerCut:
            pass
        b.log.dead = False
        r = b.boot()
        c = b.port.session
        locked = L.INVALID_TOKEN in r.active_locks()
        # either the entry never happened (old token, still locked) or it
        # did, whole: the session and the settings hold it, no lock
        if c.token == old:
            assert locked and r.settings.get("token") != UNKNOWN, n
            seen["old"] += 1
            continue
        assert c.token == UNKNOWN and not locked and r.settings.get("token") == UNKNOWN, n
        assert unpack_session(r.ofd_session)[0] == UNKNOWN, n
        seen["new"] += 1
        r.login(1, "1111", A.MODE_SALES)
        assert r.replay() == 1 and r.acc.unacked() == [], n
        r = b.boot()  # and a second boot changes nothing
        assert b.port.session.token == b.memofd.token, n
    assert seen["old"] > 0 and seen["new"] > 0


class _BlockingOfd:
    # the in-memory OFD answering one fixed result code while `code` is set
    def __init__(self, ofd):
        self.ofd = ofd
        self.code = None
        self.orig = ofd.handle
        ofd.handle = self.handle

    def handle(self, data):
        if self.code is None:
            return self.orig(data)
        h, body = frame.split(data)
        cmd = codec.decode(S.Request, body)["command"]
        resp = {"command": cmd, "result": {"result_code": self.code}}
        return frame.build(codec.encode(S.Response, resp), KKM, h.token, h.reqnum)


def test_protocol_12_code_15_and_1_lock_until_a_result_0():
    # 15 (server block): OFD_SUSPEND; 1 (unknown id): DATA_MISMATCH; a
    # later result 0 (the probe of section 13) ends both, across a reboot
    b = _bench()
    r = b.reg
    blk = _BlockingOfd(b.memofd)
    for code, lock in ((15, L.OFD_SUSPEND), (1, L.DATA_MISMATCH)):
        blk.code = code
        assert sell(r).offline
        assert lock in r.active_locks()
        assert refused(sell, r)[0] == lock
        r = b.boot()
        assert lock in r.active_locks()
        r.login(1, "1111", A.MODE_SALES)
        blk.code = None
        out = run(b.port.probe())
        assert out.code == 0 and lock not in r.active_locks()
        assert r.replay() == 1
        r = b.boot()
        assert lock not in r.active_locks()
        r.login(1, "1111", A.MODE_SALES)
    assert not sell(r, [line()]).offline
