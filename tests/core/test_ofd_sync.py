# The OFD connection scheduler (ofd.sync; PROTOCOL.md section 13, KZ-2.4,
# KZ-29, KZ-30, R-81). The register, ofd.port and ofd.client run for real
# on the NOR emulator against the in-memory OFD of ofdkit; a broken link is
# an address that is gone (the client gives up at once, no 5 s wait), the
# schedule's time is the register's manual clock.
from kkm import auth as A
from kkm import locks as L
from ofd import client as cl
from ofd import codec
from ofd import frame
from ofd import schema as S
from ofd import sync as Y
from ofd.port import OfdPort
from ofdkit import KKM, MemOfd
from regkit import REG, fiscalised_bench, refused, sell

HOST = (REG["ofd_hosts"][0][0], REG["ofd_hosts"][0][1])
UNKNOWN = 424242


class Link(MemOfd):
    # the in-memory OFD behind a link that can break; `code` set: every
    # request is answered with that result code; log: (command, request)
    def __init__(self, token):
        MemOfd.__init__(self, token)
        self.addrs = {HOST: 1}  # client: a host without an address is skipped
        self.code = None
        self.log = []

    def cut(self):
        self.addrs.clear()

    def restore(self):
        self.addrs[HOST] = 1

    def handle(self, data):
        h, body = frame.split(data)
        req = codec.decode(S.Request, body)
        self.log.append((req["command"], req))
        if self.code is None:
            return MemOfd.handle(self, data)
        resp = {"command": req["command"], "result": {"result_code": self.code}}
        return frame.build(codec.encode(S.Response, resp), KKM, h.token, h.reqnum)

    def commands(self, since=0):
        return [c for c, r in self.log[since:]]


class FixedPort(OfdPort):
    # the change proposed for ofd.port: an unanswered request without a
    # document key (COMMAND_SYSTEM, an X report) does not hold back the
    # next probe; only an unanswered document must be resent first
    def _idle(self):
        p = self.client.pending
        return p is None or p[0] is None


def _bench(port_class=OfdPort):
    link = Link(REG["token"])

    def make(acc):
        return port_class(cl.OfdClient(link, [HOST], KKM, 1), acc)

    b = fiscalised_bench(log_blocks=12, make_ofd=make)
    b.link = link
    return b


def _online(port_class=OfdPort, **kw):
    # a register whose power-on test passed
    b = _bench(port_class)
    s = Y.OfdSync(b.reg, **kw)
    assert s.tick() == "test" and s.test == Y.TEST_OK
    b.sync = s
    return b, s


def _queue(b, n):
    # n sales issued offline (the link is down)
    b.link.cut()
    for _ in range(n):
        assert sell(b.reg).offline
    return list(b.reg.acc.unacked())


def test_protocol_13_retry_interval_at_least_60_s():
    b = _bench()
    for bad in (0, 59, -60, "60", 60.0):
        try:
            Y.OfdSync(b.reg, interval=bad)
        except ValueError as e:
            assert e.args == ("interval", bad)
        else:
            raise AssertionError(bad)
    for bad in (0, -1):
        try:
            Y.OfdSync(b.reg, batch=bad)
        except ValueError as e:
            assert e.args[0] == "batch"
        else:
            raise AssertionError(bad)
    assert Y.OfdSync(b.reg, interval=60).interval == 60
    assert Y.OfdSync(b.reg, interval=300).interval == 300


def test_kz_2_4_power_on_test_is_command_system():
    b = _bench()
    s = Y.OfdSync(b.reg)
    assert s.test is None and s.status()["next"] == 0
    assert s.tick() == "test"
    assert b.link.commands() == [S.COMMAND_SYSTEM]
    req = b.link.log[0][1]
    assert req["service"]["get_reg_info"] is True
    assert "offline_period" not in req["service"]  # nothing waits
    st = s.status()
    assert (s.test, s.test_code, st["mode"], st["queue"], st["next"]) == (Y.TEST_OK, 0, Y.ONLINE, 0, None)
    # later ticks send nothing while all is well
    for _ in range(3):
        b.clock.advance(600)
        assert s.tick() is None
    assert len(b.link.log) == 1


def test_kz_2_4_failed_power_on_test_is_not_a_lock():
    b = _bench()
    r = b.reg
    before = r.active_locks()
    b.link.cut()
    s = Y.OfdSync(r)
    assert s.tick() == "test"
    assert s.test == Y.TEST_FAILED and s.test_code is None
    assert r.active_locks() == before  # KZ-3 note: autonomous mode, no lock
    st = s.status()
    assert st["mode"] == Y.OFFLINE and st["next"] == 60
    res = sell(r)  # sales go on, offline (KZ-29.1)
    assert res.offline and L.N_OFFLINE in r.notices


def test_protocol_13_replay_not_before_the_interval_and_at_it():
    b, s = _online()
    r = b.reg
    _queue(b, 1)
    assert s.tick() is None  # sees the failure: the retry clock starts now
    st = s.status()
    assert st["mode"] == Y.OFFLINE and st["queue"] == 1 and st["next"] == 60
    assert st["since"] == b.clock.now()
    b.link.restore()
    n = len(b.link.log)
    b.clock.advance(59)
    assert s.tick() is None and len(b.link.log) == n  # not before the interval
    assert s.status()["next"] == 1
    b.clock.advance(1)
    assert s.tick() == "replay"  # at it
    assert b.link.commands(n) == [S.COMMAND_TICKET] and r.acc.unacked() == []
    st = s.status()
    assert st["mode"] == Y.ONLINE and st["since"] is None and st["oldest"] is None and st["lock_in"] is None
    assert L.N_OFFLINE not in r.notices


def test_protocol_13_every_interval_after_a_failed_attempt():
    b, s = _online()
    _queue(b, 1)
    assert s.tick() is None
    first = s.status()["since"]
    sent = 0
    for k in range(3):
        b.clock.advance(30)
        assert s.tick() is None  # half an interval: nothing
        b.clock.advance(30)
        assert s.tick() == "replay"  # the link is still down: fails again
        sent += 1
        assert s.status()["next"] == 60 and s.status()["since"] == first
    assert b.link.commands(1) == []  # no answer ever reached the OFD
    b.link.restore()
    b.clock.advance(60)
    assert s.tick() == "replay" and b.reg.acc.unacked() == []


def test_kz_30_2_queue_in_order_new_documents_behind_it():
    b, s = _online()
    r = b.reg
    seqs = _queue(b, 3)
    s.tick()
    b.link.restore()
    n = len(b.link.log)
    # the link is back but the queue is not empty: a new sale joins the
    # queue instead of going to the OFD (section 13), with an autonomous sign
    res = sell(r)
    assert res.offline and len(b.link.log) == n
    assert r.acc.unacked() == seqs + [res.seq]
    b.clock.advance(60)
    assert s.tick() == "replay"  # batch 4: all four
    assert r.acc.unacked() == []
    tickets = [req["ticket"] for c, req in b.link.log[n:]]
    assert [t["offline_ticket_number"] for t in tickets] == seqs + [res.seq]  # KZ-30.2, KZ-30.3
    for c, req in b.link.log[n:]:
        assert "offline_period" in req["service"]  # KZ-30.1
    assert not sell(r).offline  # the queue is empty: online again


def test_bounded_work_per_tick():
    b, s = _online(batch=2)
    r = b.reg
    _queue(b, 5)
    s.tick()
    b.link.restore()
    b.clock.advance(60)
    n = len(b.link.log)
    sizes = []
    while True:
        what = s.tick()
        if what is None:
            break
        assert what == "replay"
        sizes.append(len(b.link.log) - n)
        n = len(b.link.log)
    assert sizes == [2, 2, 1]  # the rest goes on the next ticks, no waiting
    assert r.acc.unacked() == [] and s.status()["mode"] == Y.ONLINE


def test_no_exchange_while_a_receipt_is_entered():
    b, s = _online()
    r = b.reg
    _queue(b, 1)
    s.tick()
    b.link.restore()
    b.clock.advance(120)
    r.open_receipt(1)
    n = len(b.link.log)
    assert s.tick() is None and len(b.link.log) == n
    r.abandon()
    assert s.tick() == "replay" and r.acc.unacked() == []


def test_power_on_with_an_unanswered_document_resends_it_first():
    b = _bench()
    r = b.reg
    assert Y.OfdSync(r).tick() == "test"
    seqs = _queue(b, 2)
    r = b.boot()  # a power cut: the client owes the first sale an answer
    b.link.restore()
    s = Y.OfdSync(r)
    n = len(b.link.log)
    assert s.tick() == "test" and s.test == Y.TEST_OK
    # section 13: the unanswered document (with the offline period) is the test
    assert b.link.commands(n) == [S.COMMAND_TICKET]
    assert b.link.log[n][1]["ticket"]["offline_ticket_number"] == seqs[0]
    assert s.tick() == "replay" and r.acc.unacked() == []
    assert b.link.duplicates == 0 and len(b.link.stored) == 3  # the first test + 2 sales, once each


def test_idle_break_probes_every_interval():
    # the last exchange failed with nothing queued (here the power-on test):
    # COMMAND_SYSTEM every interval until it is answered
    b = _bench(FixedPort)
    b.link.cut()
    s = Y.OfdSync(b.reg)
    assert s.tick() == "test" and s.test == Y.TEST_FAILED
    for _ in range(2):
        b.clock.advance(59)
        assert s.tick() is None
        b.clock.advance(1)
        assert s.tick() == "probe" and s.status()["mode"] == Y.OFFLINE
    assert b.link.log == []
    b.link.restore()
    b.clock.advance(60)
    assert s.tick() == "probe"
    assert b.link.commands() == [S.COMMAND_SYSTEM] and s.status()["mode"] == Y.ONLINE
    b.clock.advance(600)
    assert s.tick() is None and len(b.link.log) == 1


def test_idle_break_with_todays_port_never_spins():
    # today ofd.port sends no probe while an earlier probe is unanswered
    # (client.pending without a key): the scheduler waits an interval
    # between the refusals instead of asking on every tick, and the next
    # live document (a new request) brings it back online
    b = _bench()
    b.link.cut()
    s = Y.OfdSync(b.reg)
    assert s.tick() == "test" and s.test == Y.TEST_FAILED
    b.link.restore()
    b.clock.advance(60)
    assert s.tick() is None and b.link.log == []  # the port declined
    assert s.status()["next"] == 60
    b.clock.advance(30)
    assert s.tick() is None
    assert not sell(b.reg).offline
    assert s.tick() is None and s.status()["mode"] == Y.ONLINE


def test_protocol_13_server_block_probes_then_flushes_in_order():
    b, s = _online()
    r = b.reg
    seqs = _queue(b, 2)
    s.tick()
    b.link.restore()
    b.link.code = S.RESULT_TYPE_BLOCKED  # 15
    b.clock.advance(60)
    assert s.tick() == "replay"
    assert L.OFD_SUSPEND in r.active_locks()
    st = s.status()
    assert (st["mode"], st["lock"], st["code"], st["next"]) == (Y.SERVER_BLOCKED, L.OFD_SUSPEND, 15, 60)
    assert refused(sell, r)[0] == L.OFD_SUSPEND  # no work allowed
    n = len(b.link.log)
    b.clock.advance(59)
    assert s.tick() is None and len(b.link.log) == n
    b.clock.advance(1)
    assert s.tick() == "probe"  # COMMAND_SYSTEM with reg_info, still 15
    assert b.link.commands(n) == [S.COMMAND_SYSTEM]
    svc = b.link.log[n][1]["service"]
    assert svc["get_reg_info"] is True and "reg_info" in svc and "offline_period" in svc
    assert s.status()["mode"] == Y.SERVER_BLOCKED
    b.link.code = None
    b.clock.advance(60)
    assert s.tick() == "probe"  # result 0: the port ends the lock
    assert L.OFD_SUSPEND not in r.active_locks()
    n = len(b.link.log)
    assert s.tick() == "replay"  # then the queue, in order
    assert [req["ticket"]["offline_ticket_number"] for c, req in b.link.log[n:]] == seqs
    assert r.acc.unacked() == [] and s.status()["mode"] == Y.ONLINE


def test_protocol_13_refused_document_is_not_hammered():
    b, s = _online()
    r = b.reg
    seqs = _queue(b, 1)
    s.tick()
    b.link.restore()
    b.link.code = S.RESULT_TYPE_INCORRECT_REQUEST_DATA  # 13: fix before going on
    b.clock.advance(60)
    assert s.tick() == "replay"
    st = s.status()
    assert (st["mode"], st["stuck"], st["code"], st["next"]) == (Y.BLOCKED, seqs[0], 13, None)
    n = len(b.link.log)
    for _ in range(20):
        b.clock.advance(600)
        assert s.tick() is None
    assert len(b.link.log) == n  # no retry storm
    res = sell(r)  # new documents wait behind it (72 h clock runs)
    assert res.offline and len(b.link.log) == n and r.acc.unacked() == seqs + [res.seq]
    assert s.status()["lock_in"] == L.SECONDS_72H - (b.clock.now() - r.acc.oldest_unacked_ts())
    # after analysis (kick: an operator's "send now", a setting fixed)
    b.link.code = None
    s.kick()
    assert s.tick() == "replay" and r.acc.unacked() == []
    assert s.status()["mode"] == Y.ONLINE and s.status()["stuck"] is None


def test_refused_document_one_attempt_per_boot():
    b, s = _online()
    _queue(b, 1)
    s.tick()
    b.link.restore()
    b.link.code = S.RESULT_TYPE_INCORRECT_REQUEST_DATA
    b.clock.advance(60)
    s.tick()
    n = len(b.link.log)
    r = b.boot()
    s = Y.OfdSync(r)
    assert s.tick() == "test"  # the probe gets 13 as well: no document stuck by it
    assert s.status()["stuck"] is None
    assert s.tick() == "replay" and s.status()["mode"] == Y.BLOCKED
    for _ in range(5):
        b.clock.advance(600)
        assert s.tick() is None
    assert b.link.commands(n) == [S.COMMAND_SYSTEM, S.COMMAND_TICKET]


def test_invalid_token_waits_for_a_token_entry():
    b, s = _online()
    r = b.reg
    seqs = _queue(b, 1)
    s.tick()
    b.link.restore()
    b.link.token = UNKNOWN  # the OFD refuses the device's token: result 2
    b.clock.advance(60)
    assert s.tick() == "replay"
    assert L.INVALID_TOKEN in r.active_locks()
    st = s.status()
    assert (st["mode"], st["lock"], st["next"]) == (Y.BLOCKED, L.INVALID_TOKEN, None)
    n = len(b.link.log)
    for _ in range(5):
        b.clock.advance(600)
        assert s.tick() is None
    assert len(b.link.log) == n
    r.login(9, "9999", A.MODE_PROGRAMMING)
    r.change_settings({"token": UNKNOWN})
    r.logout()
    assert s.tick() == "replay"  # the situation changed: at once
    assert r.acc.unacked() == [] and b.link.log[n][1]["ticket"]["offline_ticket_number"] == seqs[0]
    assert s.status()["mode"] == Y.ONLINE


def test_kz_29_6_status_counts_down_to_the_72_h_lock():
    b, s = _online()
    r = b.reg
    t0 = b.clock.now()
    _queue(b, 1)
    s.tick()
    b.clock.advance(10 * 3600)
    st = s.status()
    assert st["oldest"] == t0 and st["lock_in"] == L.SECONDS_72H - 10 * 3600 and st["since"] == t0
    b.clock.advance(L.SECONDS_72H)
    assert s.status()["lock_in"] == 0 and L.OFFLINE_72H in r.active_locks()
    b.link.restore()
    assert s.tick() == "replay"  # the lock does not stop the queue
    assert L.OFFLINE_72H not in r.active_locks() and s.status()["lock_in"] is None


def test_a_live_document_answered_brings_the_mode_back():
    b, s = _online()
    r = b.reg
    b.link.cut()
    b.link.log = []
    # an X report that fails (queue empty): the idle break starts
    assert r.ofd.report_x(r.x_report()).status == cl.RETRY
    assert s.tick() is None and s.status()["mode"] == Y.OFFLINE
    b.link.restore()
    assert not sell(r).offline  # a new request: the port sends it
    assert s.tick() is None and s.status()["mode"] == Y.ONLINE


def test_schedule_survives_the_clock_going_back():
    b, s = _online()
    _queue(b, 1)
    s.tick()
    b.clock.t -= 3600  # the RTC was set back: the next attempt is one interval away
    assert s.tick() is None and s.status()["next"] == 60
    b.link.restore()
    b.clock.advance(60)
    assert s.tick() == "replay" and b.reg.acc.unacked() == []


def test_kz_2_connection_test_again_at_the_z_report():
    b, s = _online()
    r = b.reg
    sell(r)
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    r.close_shift()
    s.retest()  # KZ-2: the self-test runs when the Z report is taken too
    assert s.status()["test"] is None and s.status()["next"] == 0
    n = len(b.link.log)
    assert s.tick() == "test" and s.test == Y.TEST_OK
    assert b.link.commands(n) == [S.COMMAND_SYSTEM]
    assert s.tick() is None  # once
    s.retest()
    b.link.cut()
    before = r.active_locks()
    assert s.tick() == "test" and s.test == Y.TEST_FAILED and r.active_locks() == before
