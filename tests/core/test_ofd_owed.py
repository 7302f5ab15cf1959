# A document owed an answer by the OFD (sent, no answer) keeps the session:
# its resend with the same TOKEN and REQNUM is the only request the port
# may send (duplicate detection, PROTOCOL.md sections 2, 13, 15). These
# tests check that the scheduler (ofd.sync) and the register never leave
# such a document waiting while they try something the port will not send.
# The register, ofd.port and ofd.client run for real on the NOR emulator
# against the in-memory OFD of ofdkit behind a link that can break (Link).
from kkm import auth as A
from kkm import locks as L
from ofd import schema as S
from ofd import sender as Y
from ofdkit import run, online_bench
from regkit import sell


def test_protocol_13_server_block_z_owed_an_answer_is_resent_not_left_waiting():
    # KZ-16, KZ-29.7: under the server block (result 15) the shift can still
    # be closed; the Z goes to the OFD at once (nothing queued) and its
    # answer is lost. The port will not send the block's COMMAND_SYSTEM
    # probe while the Z is owed an answer, so the scheduler must resend the
    # Z itself (section 13: the last unanswered command first): otherwise
    # the Z waits, and the block stays on, until the next power-on.
    b, s = online_bench()
    r = b.reg
    assert not sell(r).offline
    b.link.code = 15
    assert run(b.port.probe()).code == 15 and r.locks.is_set(L.OFD_SUSPEND)
    s.note()
    r.login(2, "2222", A.MODE_SHIFT_CLOSE)
    b.link.cut()
    r.close_shift()
    z = r.acc.unacked()
    assert len(z) == 1 and b.port.session.pending[0] == z[0]
    s.note()
    # the block is over and the link is back
    b.link.code = None
    b.link.restore()
    n = len(b.link.commands())
    for _ in range(3):
        b.clock.advance(s.interval)
        s.tick()
    assert b.link.commands()[n] == S.COMMAND_CLOSE_SHIFT  # the Z first, as it was sent
    assert r.acc.unacked() == [] and not r.locks.is_set(L.OFD_SUSPEND)
    assert s.status()["mode"] == Y.ONLINE
    # stored once
    assert len([c for c in b.link.commands() if c == S.COMMAND_CLOSE_SHIFT]) == 1 + b.link.duplicates


def test_protocol_13_server_block_continues_while_the_owed_z_is_refused():
    # the Z's resend is answered 15 again: the block goes on with probes
    # (the Z no longer holds the session), and ends with a result 0
    b, s = online_bench()
    r = b.reg
    sell(r)
    b.link.code = 15
    run(b.port.probe())
    s.note()
    r.login(2, "2222", A.MODE_SHIFT_CLOSE)
    b.link.cut()
    r.close_shift()
    s.note()
    b.link.restore()
    n = len(b.link.commands())
    b.clock.advance(s.interval)
    s.tick()
    assert b.link.commands()[n:] == [S.COMMAND_CLOSE_SHIFT] and b.port.session.pending is None
    assert r.locks.is_set(L.OFD_SUSPEND) and len(r.acc.unacked()) == 1
    b.clock.advance(s.interval)
    assert s.tick() == "probe" and b.link.commands()[-1] == S.COMMAND_SYSTEM
    b.link.code = None
    b.clock.advance(s.interval)
    assert s.tick() == "probe" and not r.locks.is_set(L.OFD_SUSPEND)
    s.tick()
    assert r.acc.unacked() == [] and b.link.commands()[-1] == S.COMMAND_CLOSE_SHIFT


def test_kz_41_old_token_refused_for_the_owed_document_then_sent_with_the_entered_one():
    # a sale's answer is lost (it is owed one, with the token of then); the
    # OFD's token changes and the engineer enters the new one. The resend
    # keeps the old TOKEN and REQNUM (a duplicate if the OFD stored it);
    # the OFD refuses that token (code 2). That refusal is of the old
    # token, not of the document and not of the entered token (no lock):
    # the document goes again at once with the entered token, and is not
    # left as a refused document until someone kicks the scheduler
    b, s = online_bench()
    r = b.reg
    b.link.cut()
    res = sell(r)
    assert res.offline and b.port.session.pending is not None
    s.note()
    b.link.token = 424242  # moved while the register was offline
    r.login(9, "9999", A.MODE_PROGRAMMING)
    r.change_settings({"token": 424242})
    r.login(1, "1111", A.MODE_SALES)
    b.link.restore()
    stored = len(b.link.stored)
    for _ in range(3):
        b.clock.advance(s.interval)
        s.tick()
    assert b.link.commands()[-2:] == [S.COMMAND_TICKET, S.COMMAND_TICKET]
    assert r.acc.unacked() == [] and len(b.link.stored) == stored + 1
    assert not r.locks.is_set(L.INVALID_TOKEN) and s.status()["mode"] == Y.ONLINE
