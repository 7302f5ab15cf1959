# A document the OFD refuses (PROTOCOL.md sections 12 and 13: "any answer
# other than 0/254/255 -> BLOCKED until the offending message is removed
# after analysis"): the port keeps the refusal, the service engineer sets
# the queue's head aside (Register.set_aside), the queue goes on. The
# register, ofd.port, ofd.client and ofd.sync run for real on the NOR
# emulator against ofdkit's Link; power cut at every byte of the set-aside.
import gc
import struct

from boards.sim.nor_flash import PowerCut
from journal import ACK
from kkm import auth as A
from kkm import locks as L
from kkm import records as R
from kkm import texts as T
from ofd import schema as S
from ofd import sender as Y
from ofdkit import OfdSync, link_bench, online_bench, queue_offline
from regkit import REG, refused, sell

INCORRECT = S.RESULT_TYPE_INCORRECT_REQUEST_DATA  # 13


def _refuse_head(b, s, code=INCORRECT):
    # the link is back, the OFD refuses the queue's head with `code`
    b.link.restore()
    b.link.code = code
    b.clock.advance(60)
    assert s.tick() == "replay"


def _service(r):
    r.login(9, "9999", A.MODE_SERVICE)


def _text(lines):
    return "\n".join(t for st, t in lines)


def _asides(acc, since):
    # the EV_SET_ASIDE audit records after seq `since`: (user, doc seq, code)
    out = []
    for seq, rtype, ts, p in acc.records(since + 1):
        if rtype == R.R_AUDIT and p[0] == R.EV_SET_ASIDE:
            out.append((p[1],) + struct.unpack_from("<IH", p, 2))
    return out


def _ack_of(acc, doc):
    # the ACK payload of document `doc` (after its seq), or None
    s = doc + 1
    while s <= acc.last_seq:
        rtype, ts, p = acc.read(s)
        if rtype == ACK and struct.unpack_from("<I", p, 0)[0] == doc:
            return bytes(p[4:])
        s += 1
    return None


def test_protocol_13_refused_head_set_aside_then_the_next_goes_out():
    b, s = online_bench()
    r = b.reg
    seqs = queue_offline(b, 1)
    b.clock.advance(3600)
    seqs = queue_offline(b, 1)
    s.tick()
    _refuse_head(b, s)
    st = s.status()
    assert (st["mode"], st["stuck"], st["code"]) == (Y.BLOCKED, seqs[0], 13)
    assert b.port.refusal == (seqs[0], 13, None) and st["refusal"] == b.port.refusal
    counters = r.counters.encode()
    doc_no = r.doc_no
    _service(r)
    n = len(b.printer.printed)
    lines = r.set_aside(seqs[0], "ru")
    # the service slip: not fiscal, the document, its autonomous sign, the code
    assert b.printer.printed[n:] == [lines]
    text = _text(lines)
    sign = R.autonomous_sign(seqs[0])
    assert T.text(T.L_NOT_FISCAL, "ru") in text and T.text(T.L_REFUSED, "ru") in text
    assert sign in text and T.text(T.L_RESULT_CODE, "ru") + ":" in text and text.count(" 13") >= 1
    # journalled: the ACK says refused, the counters did not move
    assert _ack_of(r.acc, seqs[0]) == b"refused:13:9"
    assert r.acc.unacked() == seqs[1:]
    assert r.counters.encode() == counters and r.doc_no == doc_no
    assert b.port.refusal is None
    # the queue goes on with the next document at the next tick (the head
    # changed: no kick needed); the 72 h clock runs from it
    st = s.status()
    assert st["stuck"] is None and st["mode"] == Y.OFFLINE
    assert st["oldest"] == r.acc.read(seqs[1])[1]
    assert st["lock_in"] == L.SECONDS_72H - (b.clock.now() - st["oldest"])
    b.link.code = None
    n = len(b.link.log)
    assert s.tick() == "replay"
    assert b.link.commands(n) == [S.COMMAND_TICKET]
    assert b.link.log[n][1]["ticket"]["offline_ticket_number"] == seqs[1]
    assert r.acc.unacked() == [] and s.status()["mode"] == Y.ONLINE


def test_kz_29_6_set_aside_ends_the_72_h_lock_of_the_refused_document():
    b, s = online_bench()
    r = b.reg
    seqs = queue_offline(b, 1)
    s.tick()
    _refuse_head(b, s)
    b.clock.advance(L.SECONDS_72H)
    assert L.OFFLINE_72H in r.active_locks()
    _service(r)
    r.set_aside(seqs[0])  # allowed under the lock: it is the way out
    assert L.OFFLINE_72H not in r.active_locks()
    assert s.status()["lock_in"] is None and s.status()["stuck"] is None


def test_refusal_with_254_or_a_cut_link_or_a_lock_code_cannot_be_set_aside():
    b, s = online_bench()
    r = b.reg
    seqs = queue_offline(b, 1)
    s.tick()
    _service(r)
    # no answer at all
    b.clock.advance(60)
    assert s.tick() == "replay" and b.port.refusal is None
    assert refused(r.set_aside, seqs[0]) == (T.E_NOT_REFUSED, seqs[0])
    # 254, 255: retried, no verdict
    for code in (254, 255):
        _refuse_head(b, s, code)
        assert b.port.refusal is None
        assert refused(r.set_aside, seqs[0]) == (T.E_NOT_REFUSED, seqs[0])
    # 15, 1: the server block ends by itself; 2: a token is entered; 8, 9:
    # the session's numbers; 11: the shift's time (sent again)
    for code in (15, 1, 2, 8, 9, 11):
        b.link.code = code
        s.kick()
        r.replay(1)
        assert b.port.refusal[:2] == (seqs[0], code)
        assert refused(r.set_aside, seqs[0]) == (T.E_NOT_REFUSED, seqs[0])
        for lk in (L.OFD_SUSPEND, L.DATA_MISMATCH, L.INVALID_TOKEN):
            r.locks.clear(lk)
    # refused with 13, then (kicked) no answer: the OFD may hold the resend
    b.link.code = INCORRECT
    r.replay(1)
    assert b.port.refusal == (seqs[0], 13, None)
    b.link.cut()
    r.replay(1)
    assert b.port.refusal is None
    assert refused(r.set_aside, seqs[0]) == (T.E_NOT_REFUSED, seqs[0])
    assert r.acc.unacked() == seqs and _asides(r.acc, seqs[0]) == []


def test_refusal_of_another_code_replaces_it_and_an_answer_clears_it():
    b, s = online_bench()
    r = b.reg
    seqs = queue_offline(b, 1)
    s.tick()
    _refuse_head(b, s, 18)
    assert b.port.refusal == (seqs[0], 18, None)
    b.link.code = 11
    r.replay(1)
    assert b.port.refusal == (seqs[0], 11, None)
    b.link.code = None
    r.replay(1)
    assert b.port.refusal is None and r.acc.unacked() == []


def test_refusal_text_is_kept_short_and_without_printer_commands():
    b, s = online_bench()
    r = b.reg
    seqs = queue_offline(b, 1)
    s.tick()
    b.link.text = "Неверные\x1b@ данные\x7f\n" + "ы" * 300
    _refuse_head(b, s)
    seq, code, text = b.port.refusal
    assert (seq, code) == (seqs[0], 13) and len(text) == 160
    assert text.startswith("Неверные @ данные  ы") and text == text.replace("\x1b", "").replace("\x7f", "")


def test_only_the_head_can_be_set_aside():
    b, s = online_bench()
    r = b.reg
    seqs = queue_offline(b, 2)
    s.tick()
    _refuse_head(b, s)
    _service(r)
    assert refused(r.set_aside, seqs[1]) == (T.E_NOT_REFUSED, seqs[1])
    b.port.refusal = (seqs[1], 13, None)  # even if a refusal named it
    assert refused(r.set_aside, seqs[1]) == (T.E_NOT_REFUSED, seqs[1])
    assert refused(r.set_aside, seqs[0]) == (T.E_NOT_REFUSED, seqs[0])
    assert r.acc.unacked() == seqs and _asides(r.acc, seqs[0]) == []


def test_kz_10_only_the_service_engineer_sets_aside():
    b, s = online_bench()
    r = b.reg
    seqs = queue_offline(b, 1)
    s.tick()
    _refuse_head(b, s)
    # the cashier (sales) and the administrator (programming)
    assert refused(r.set_aside, seqs[0]) == (L.E_NO_RIGHT, A.MODE_SERVICE)
    r.login(2, "2222", A.MODE_PROGRAMMING)
    assert refused(r.set_aside, seqs[0]) == (L.E_NO_RIGHT, A.MODE_SERVICE)
    r.logout()
    assert refused(r.set_aside, seqs[0])[0] in (L.E_NOT_LOGGED_IN, L.E_NO_RIGHT)
    assert r.acc.unacked() == seqs
    _service(r)
    r.set_aside(seqs[0])
    assert r.acc.unacked() == []


def test_audit_record_names_the_user_the_document_and_the_code():
    b, s = online_bench()
    r = b.reg
    seqs = queue_offline(b, 1)
    s.tick()
    _refuse_head(b, s, 17)
    _service(r)
    r.set_aside(seqs[0])
    assert _asides(r.acc, seqs[0]) == [(9, seqs[0], 17)]
    last = r.acc.last_seq
    assert r.acc.read(last)[0] == R.R_AUDIT and r.acc.read(last - 1)[0] == ACK  # the ACK decides, first
    assert _ack_of(r.acc, seqs[0]) == b"refused:17:9"


def test_slip_not_printed_without_paper_but_the_document_is_set_aside():
    b, s = online_bench()
    r = b.reg
    seqs = queue_offline(b, 1)
    s.tick()
    _refuse_head(b, s)
    _service(r)
    b.printer.state = "no_paper"
    n = len(b.printer.printed)
    assert r.set_aside(seqs[0]) is None and len(b.printer.printed) == n
    assert r.acc.unacked() == [] and _ack_of(r.acc, seqs[0]) == b"refused:13:9"


def test_live_receipt_refused_set_aside_copy_and_return_keep_its_autonomous_sign():
    b, s = online_bench()
    r = b.reg
    b.link.code = INCORRECT
    res = sell(r)  # the OFD refuses the live receipt: offline, autonomous sign
    assert res.offline and res.fiscal_sign == R.autonomous_sign(res.seq)
    assert b.port.refusal == (res.seq, 13, None)
    s.tick()
    assert s.status()["stuck"] == res.seq
    _service(r)
    r.set_aside(res.seq)
    b.link.code = None
    r.login(1, "1111", A.MODE_SALES)
    # a copy prints the autonomous sign, never the ACK's text
    again = r.copy_last()
    text = _text(again.lines)
    assert res.fiscal_sign in text and "refused" not in text
    # and after a reboot (recovery rebuilds the last document)
    r = b.boot()
    assert r.acc.unacked() == []
    assert r.last.seq == res.seq and r.last.fiscal_sign == res.fiscal_sign and r.last.offline
    r.login(1, "1111", A.MODE_SALES)
    text = _text(r.copy_last().lines)
    assert res.fiscal_sign in text and "refused" not in text
    # a return of it, found by the autonomous sign on its paper, names it
    # by its offline number (offline)
    r.open_return(res.fiscal_sign)
    r.return_line(0)
    r.refund()
    ret = r.fiscalise()
    assert not ret.offline
    pt = b.link.log[-1][1]["ticket"]["parent_ticket"]
    assert pt["parent_ticket_number"] == res.fiscal_sign and pt["parent_ticket_is_offline"] is True


def test_z_counts_the_set_aside_document():
    b, s = online_bench()
    r = b.reg
    seqs = queue_offline(b, 1)
    s.tick()
    _refuse_head(b, s)
    cash = r.counters.cash
    _service(r)
    r.set_aside(seqs[0])
    b.link.code = None
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    zx = r.close_shift()
    assert r.counters.cash == cash  # the sale's cash stays in the drawer
    assert zx["ticket_operations"] and r.acc.unacked() == []  # the Z went online
    assert b.link.commands()[-1] == S.COMMAND_CLOSE_SHIFT


def test_refused_z_set_aside_has_no_sign_on_the_slip():
    b, s = online_bench()
    r = b.reg
    sell(r)
    b.link.code = INCORRECT
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    r.close_shift()
    z = r.acc.first_unacked()
    assert r.acc.read(z)[0] == R.R_ZDOC and b.port.refusal == (z, 13, None)
    _service(r)
    text = _text(r.set_aside(z, "kk"))
    assert T.text(T.L_REFUSED, "kk") in text and T.text(T.L_OFFLINE_SIGN, "kk") not in text
    assert r.acc.unacked() == [] and r.acc.z_count() == 1


def test_power_cut_at_every_byte_of_a_set_aside():
    gc.collect()
    b = link_bench()
    r = b.reg
    OfdSync(r).tick()
    seqs = queue_offline(b, 2)
    b.link.restore()
    b.link.code = INCORRECT
    base = (b.log.snapshot(), b.fm.snapshot(), b.link.state())

    def boot():
        b.printer.printed = []
        b.link.log = []
        return b.boot()

    def reset():
        b.log.restore(base[0])
        b.fm.restore(base[1])
        b.link.set_state(base[2])
        r = boot()
        r.replay(1)  # refused again (the refusal is the port's RAM)
        assert b.port.refusal == (seqs[0], 13, None)
        _service(r)
        return r

    def state(r):
        return (r.counters.encode(), r.doc_no, r.acc.unacked(), _asides(r.acc, seqs[0]), _ack_of(r.acc, seqs[0]))

    r = reset()
    before = state(r)
    p0 = b.log.bytes_programmed
    r.set_aside(seqs[0])
    total = b.log.bytes_programmed - p0
    after = state(r)
    assert total > 0 and after[2] == seqs[1:] and after[3] == [(9, seqs[0], 13)] and after[4] == b"refused:13:9"
    assert before[:2] == after[:2]
    seen = [0, 0, 0]
    for n in range(total + 1):
        gc.collect()
        r = reset()
        b.log.cut_after(n)
        try:
            r.set_aside(seqs[0])
            done = True
        except PowerCut:
            done = False
        r2 = boot()
        st = state(r2)
        if st == before:
            assert not done, n
            seen[0] += 1
        elif st[3] == []:
            # cut inside the audit record: the ACK (who and why) is there
            assert not done and st[:3] == after[:3] and st[4] == after[4], n
            seen[2] += 1
        else:
            assert st == after, n  # never the audit without the ACK, nor twice
            seen[1] += 1
        r3 = boot()  # a second boot changes nothing
        assert state(r3) == st
    assert seen[0] > 0 and seen[1] > 0 and seen[2] > 0
    # the last run was not cut: the register works on with the next document
    b.link.code = None
    assert r3.replay() == 1 and r3.acc.unacked() == []
