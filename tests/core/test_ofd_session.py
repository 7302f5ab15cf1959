# The OFD session (token, request number, the request owed an answer) lives
# in the journal (R_SESSION records, checkpoint copy) and survives a power
# cut (R-79: the token of every answer is stored power-safe before it is
# used; PROTOCOL.md section 2; KZ-20). The register, ofd.port and
# ofd.client run for real on the NOR emulator against an in-memory OFD that
# rotates the token on every answer and answers a resend (same token,
# request number and command as its last exchange) with its stored answer
# (ofdkit.MemOfd).
import gc

from boards.sim.nor_flash import PowerCut
from kkm import auth as A
from kkm import records as R
from ofd import client as cl
from kkm.records import pack_session, unpack_session
from ofd.port import OfdPort
from ofdkit import link_client, KKM, MemOfd
from regkit import REG, fiscalised_bench, sell


def _bench(log_blocks=8):
    ofd = MemOfd(REG["token"])

    def make(acc):
        # a new client at every boot: nothing of its RAM survives
        return OfdPort(link_client(ofd, [("ofd", 7777)], KKM, 1), acc)

    b = fiscalised_bench(log_blocks=log_blocks, make_ofd=make)
    b.memofd = ofd
    return b


def _power_off_after_cut(dev):
    # after a cut nothing more reaches the flash (the power is gone), even
    # if the code above catches the exception and goes on
    dev.dead = False
    w = dev.writeblocks
    io = dev.ioctl

    def writeblocks(block, buf, offset=None):
        if dev.dead:
            raise PowerCut("off")
        try:
            if offset is None:
                return w(block, buf)
            return w(block, buf, offset)
        except PowerCut:
            dev.dead = True
            raise

    def ioctl(op, arg):
        if dev.dead and op == 6:
            raise PowerCut("off")
        return io(op, arg)

    dev.writeblocks = writeblocks
    dev.ioctl = ioctl


def test_session_record_round_trip():
    st = {"token": 0xFFFFFFFF, "reqnum": 65535, "pending_key": 77, "pending": (b"x", 1, 9, 5),
          "done": (70, 1, 8, 4)}
    b = pack_session(st, 0xFFFFFFFF)
    assert len(b) <= R.SESSION_ROOM
    assert unpack_session(b) == (0xFFFFFFFF, 65535, (77, 1, 9, 5), (70, 1, 8, 4), 0xFFFFFFFF)
    st = {"token": 5, "reqnum": 0, "pending_key": None, "pending": (b"", 3, 1, 5), "done": None}
    assert unpack_session(pack_session(st)) == (5, 0, (None, 3, 1, 5), None, None)


def test_r_79_session_restored_from_journal_and_checkpoint():
    b = _bench()
    r = b.reg
    assert r.ofd_session is None  # the first exchange uses the settings token
    res = sell(r)
    assert not res.offline and res.fiscal_sign == "5000000001"
    c = b.port.session
    assert c.token == b.memofd.token == REG["token"] + 1 and c.reqnum == 1
    r = b.boot()
    c = b.port.session
    assert (c.token, c.reqnum, c.pending) == (REG["token"] + 1, 1, None)
    # a Z writes a checkpoint with the session in it; the records before
    # it may be reused, the session is still there after a reboot
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    r.close_shift()
    tok = b.memofd.token
    assert r.ofd_session is not None
    r = b.boot()
    assert r.acc.last_checkpoint() > r.acc.z_last_seq
    assert b.port.session.token == tok and b.port.session.reqnum == 2
    r.login(1, "1111", A.MODE_SALES)
    assert not sell(r).offline and b.memofd.duplicates == 0


def test_r_79_unanswered_request_resent_after_reboot():
    # the OFD stores the sale, then the power fails before its answer is
    # read; after the reboot the queued sale goes with the same TOKEN and
    # REQNUM and gets the stored answer (one document at the OFD)
    b = _bench()
    r = b.reg
    sell(r)
    ofd = b.memofd
    orig = ofd.handle
    _power_off_after_cut(b.log)

    def stored_then_power_fails(data):
        orig(data)
        b.log.dead = True
        raise PowerCut("answer lost")

    ofd.handle = stored_then_power_fails
    try:
        sell(r)
        raise AssertionError("no power cut")
    except PowerCut:
        pass
    ofd.handle = orig
    b.log.dead = False
    r = b.boot()
    p = b.port.session.pending
    assert p is not None and p[0] == r.acc.unacked()[0]
    assert len(ofd.stored) == 2 and ofd.duplicates == 0
    r.login(1, "1111", A.MODE_SALES)
    assert r.replay() == 1 and r.acc.unacked() == []
    assert len(ofd.stored) == 2 and ofd.duplicates == 1 and b.port.session.token == ofd.token
    assert r.counters.tickets_count() == 2


def test_r_79_answer_not_journalled_is_asked_again_as_duplicate():
    # the OFD answered, but the ACK could not be written: the document is
    # completed offline and the replay sends the same request again
    from journal import JournalFull

    b = _bench()
    r = b.reg
    sell(r)
    ofd = b.memofd
    acc = r.acc
    real = acc.ack

    def full_once(seq, payload, ts):
        acc.ack = real
        raise JournalFull("log")

    acc.ack = full_once
    res = sell(r)
    assert res.offline and len(ofd.stored) == 2 and r.acc.unacked() == [res.seq]
    assert r.replay() == 1 and r.acc.unacked() == []
    assert len(ofd.stored) == 2 and ofd.duplicates == 1 and b.port.session.token == ofd.token


def _session_writes(b, op):
    # run op, return [(bytes programmed before, length)] of R_SESSION writes
    log = b.log
    w = log.writeblocks
    seen = []

    def spy(block, buf, offset=None):
        if offset is not None and len(buf) > 2 and buf[0] == 0xA5 and buf[1] == R.R_SESSION:
            seen.append((log.bytes_programmed, len(buf)))
        return w(block, buf) if offset is None else w(block, buf, offset)

    log.writeblocks = spy
    try:
        op()
    finally:
        log.writeblocks = w
    return seen


def test_r_79_power_cut_at_every_byte_of_the_session_records():
    gc.collect()
    b = _bench()
    r = b.reg
    sell(r)  # a session exists
    base = (b.log.snapshot(), b.fm.snapshot(), b.memofd.state())
    old_token = b.memofd.token

    def reset():
        b.printer.printed = []
        b.log.restore(base[0])
        b.fm.restore(base[1])
        b.memofd.set_state(base[2])
        r = b.boot()
        r.login(1, "1111", A.MODE_SALES)
        return r

    r = reset()
    p0 = b.log.bytes_programmed
    writes = _session_writes(b, lambda: sell(r))
    total = b.log.bytes_programmed - p0
    assert len(writes) == 2 and not r.last.offline  # write-ahead, then the new token
    cuts = []
    for start, ln in writes:
        for k in range(ln + 1):
            cuts.append(start - p0 + k)
    for k in range(0, total, 37):  # and a few elsewhere in the sale
        if k not in cuts:
            cuts.append(k)
    _power_off_after_cut(b.log)
    seen = {"old": 0, "new": 0}
    for n in cuts:
        gc.collect()
        r = reset()
        b.log.cut_after(n)
        try:
            sell(r)
            done = True
        except PowerCut:
            done = False
        b.log.dead = False
        r = b.boot()
        c = b.port.session
        # never a lost token: the one sent with the request or the answer's
        assert c.token in (old_token, old_token + 1), (n, c.token)
        seen["old" if c.token == old_token else "new"] += 1
        r.login(1, "1111", A.MODE_SALES)
        if not done:
            r.replay()
        assert r.acc.unacked() == [], n
        # the OFD holds the sale exactly once if the journal has it (never
        # if the cut fell before its record), and the register's token is
        # the OFD's current one
        exists = r.counters.tickets_count() - 1
        assert exists in (0, 1) and (done or n >= writes[0][0] - p0 or not exists), n
        assert len(b.memofd.stored) == len(base[2][2]) + exists, n
        assert c.token == b.memofd.token, n
        assert not sell(r).offline, n  # and the next sale goes online
    assert seen["old"] > 0 and seen["new"] > 0
