# The OFD connection scheduler (ofd.sync; PROTOCOL.md section 13, KZ-2.4,
# KZ-29, KZ-30, R-81). The register, ofd.port and ofd.client run for real
# on the NOR emulator against the in-memory OFD of ofdkit (Link); a broken
# link is an address that is gone (the client gives up at once, no 5 s
# wait), the schedule's time is the register's manual clock.
from kkm import auth as A
from kkm import counters as C
from kkm import document as D
from kkm.counters import date_time
from kkm import locks as L
from ofd import client as cl
from ofd import schema as S
from ofd import sender as Y
from ofdkit import run, OfdSync, link_bench, online_bench, queue_offline
from regkit import line, refused, sell

UNKNOWN = 424242


def test_protocol_13_retry_interval_at_least_60_s():
    b = link_bench()
    for bad in (0, 59, -60, "60", 60.0):
        try:
            OfdSync(b.reg, interval=bad)
        except ValueError as e:
            assert e.args == ("interval", bad)
        else:
            raise AssertionError(bad)
    for bad in (0, -1):
        try:
            OfdSync(b.reg, batch=bad)
        except ValueError as e:
            assert e.args[0] == "batch"
        else:
            raise AssertionError(bad)
    assert OfdSync(b.reg, interval=60).interval == 60
    assert OfdSync(b.reg, interval=300).interval == 300


def test_kz_2_4_power_on_test_is_command_system():
    b = link_bench()
    s = OfdSync(b.reg)
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
    b = link_bench()
    r = b.reg
    before = r.active_locks()
    b.link.cut()
    s = OfdSync(r)
    assert s.tick() == "test"
    assert s.test == Y.TEST_FAILED and s.test_code is None
    assert r.active_locks() == before  # KZ-3 note: autonomous mode, no lock
    st = s.status()
    assert st["mode"] == Y.OFFLINE and st["next"] == 60
    res = sell(r)  # sales go on, offline (KZ-29.1)
    assert res.offline and L.N_OFFLINE in r.notices


def test_protocol_13_replay_not_before_the_interval_and_at_it():
    b, s = online_bench()
    r = b.reg
    queue_offline(b, 1)
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
    b, s = online_bench()
    queue_offline(b, 1)
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
    b, s = online_bench()
    r = b.reg
    seqs = queue_offline(b, 3)
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
    b, s = online_bench(batch=2)
    r = b.reg
    queue_offline(b, 5)
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


def test_the_queue_drains_while_a_receipt_is_entered():
    # the sender is its own task: nothing waits for the cashier; the receipt
    # paid after the queue emptied goes live (KZ-30.2)
    b, s = online_bench()
    r = b.reg
    queue_offline(b, 1)
    s.tick()
    b.link.restore()
    b.clock.advance(120)
    rc = r.open_receipt(D.OP_SELL)
    assert s.tick() == "replay" and r.acc.unacked() == []
    rc.add_line(line())
    res = r.pay(D.PAY_CASH, rc.total())
    assert not res.offline and r.acc.unacked() == []


def test_power_on_with_an_unanswered_document_resends_it_first():
    b = link_bench()
    r = b.reg
    assert OfdSync(r).tick() == "test"
    seqs = queue_offline(b, 2)
    r = b.boot()  # a power cut: the client owes the first sale an answer
    b.link.restore()
    s = OfdSync(r)
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
    b = link_bench()
    b.link.cut()
    s = OfdSync(b.reg)
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


def test_protocol_13_unanswered_probe_does_not_hold_back_the_next():
    # a probe (or X report) that got no answer is no document: the next
    # probe takes a new request number instead of waiting for a document
    # to go out; also after a reboot, which restores the session
    b = link_bench()
    b.link.cut()
    s = OfdSync(b.reg)
    assert s.tick() == "test" and s.test == Y.TEST_FAILED
    assert b.port.session.pending is not None  # the probe's request, unanswered
    b.link.restore()
    b.clock.advance(60)
    assert s.tick() == "probe" and b.link.commands() == [S.COMMAND_SYSTEM]
    assert s.status()["mode"] == Y.ONLINE and b.link.duplicates == 0
    # the same after a power cut with the unanswered probe in the journal
    b.link.cut()
    assert run(b.port.probe()).status == cl.RETRY
    n = b.port.session.reqnum
    b.link.restore()
    r = b.boot()
    s = OfdSync(r)
    assert s.tick() == "test" and s.test == Y.TEST_OK
    assert b.link.commands(1) == [S.COMMAND_SYSTEM] and b.port.session.reqnum == n + 1
    # an X report that got no answer holds nothing back either
    b.link.cut()
    assert run(r.ofd.report_x(r.counters.zx_report(C.REPORT_X, 1, b.clock.now(), b.clock.now()))).status == cl.RETRY
    b.link.restore()
    assert run(r.ofd.probe()).ok()


def test_protocol_13_idle_break_probe_carries_the_offline_period():
    # section 13: a break while idle is probed with COMMAND_SYSTEM carrying
    # the offline period, from the first failure to now
    b = link_bench()
    b.link.cut()
    s = OfdSync(b.reg)
    t0 = b.clock.now()
    assert s.tick() == "test" and s.test == Y.TEST_FAILED and s.status()["since"] == t0
    b.link.restore()
    b.clock.advance(60)
    assert s.tick() == "probe"
    svc = b.link.log[0][1]["service"]
    off = b.reg.settings.get("tz_offset")
    assert svc["offline_period"]["begin_time"] == date_time(t0 + off)
    assert svc["offline_period"]["end_time"] == date_time(t0 + 60 + off)
    assert b.reg.acc.unacked() == []
    # back online: the next probe (a connection test) has none
    s.retest()
    assert s.tick() == "test" and "offline_period" not in b.link.log[-1][1]["service"]
    # a sale that goes offline begins the next period: its own attempt
    b.link.cut()
    assert sell(b.reg).offline
    t1 = b.clock.now()
    b.clock.advance(30)
    period = b.port._service(True)["offline_period"]
    assert period["begin_time"] == date_time(t1 + off) and period["end_time"] == date_time(t1 + 30 + off)


def test_protocol_13_idle_break_period_goes_with_the_first_answered_request():
    # the break came while idle (the power-on test got no answer); before
    # the next probe a sale goes out live: it carries the offline period,
    # the request after it does not
    b = link_bench()
    b.link.cut()
    s = OfdSync(b.reg)
    t0 = b.clock.now()
    assert s.tick() == "test" and s.test == Y.TEST_FAILED and b.port.offline_since == t0
    b.link.restore()
    b.clock.advance(20)
    n = len(b.link.log)
    assert not sell(b.reg).offline
    off = b.reg.settings.get("tz_offset")
    svc = b.link.log[n][1]["service"]
    assert b.link.log[n][0] == S.COMMAND_TICKET
    assert svc["offline_period"]["begin_time"] == date_time(t0 + off)
    assert svc["offline_period"]["end_time"] == date_time(t0 + 20 + off)
    assert b.port.offline_since is None
    assert not sell(b.reg).offline and "offline_period" not in b.link.log[-1][1]["service"]


def test_protocol_13_server_block_probes_then_flushes_in_order():
    b, s = online_bench()
    r = b.reg
    seqs = queue_offline(b, 2)
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
    b, s = online_bench()
    r = b.reg
    seqs = queue_offline(b, 1)
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


def test_protocol_12_codes_8_9_11_are_no_verdict_on_the_document():
    # 8, 9: the session's request number or token; 11: the shift's time:
    # the document goes again after the retry interval, never stuck
    b, s = online_bench()
    r = b.reg
    seqs = queue_offline(b, 1)
    s.tick()
    b.link.restore()
    for code in (8, 9, 11):
        b.link.code = code
        b.clock.advance(60)
        assert s.tick() == "replay" and r.acc.unacked() == seqs
        st = s.status()
        assert (st["mode"], st["stuck"], st["code"], st["next"]) == (Y.OFFLINE, None, code, 60)
        b.clock.advance(59)
        assert s.tick() is None  # not before the interval
    b.link.code = None
    b.clock.advance(1)
    assert s.tick() == "replay" and r.acc.unacked() == []
    assert s.status()["mode"] == Y.ONLINE


def test_refused_document_one_attempt_per_boot():
    b, s = online_bench()
    queue_offline(b, 1)
    s.tick()
    b.link.restore()
    b.link.code = S.RESULT_TYPE_INCORRECT_REQUEST_DATA
    b.clock.advance(60)
    s.tick()
    n = len(b.link.log)
    r = b.boot()
    s = OfdSync(r)
    assert s.tick() == "test"  # the probe gets 13 as well: no document stuck by it
    assert s.status()["stuck"] is None
    assert s.tick() == "replay" and s.status()["mode"] == Y.BLOCKED
    for _ in range(5):
        b.clock.advance(600)
        assert s.tick() is None
    assert b.link.commands(n) == [S.COMMAND_SYSTEM, S.COMMAND_TICKET]


def test_invalid_token_waits_for_a_token_entry():
    b, s = online_bench()
    r = b.reg
    seqs = queue_offline(b, 1)
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
    b, s = online_bench()
    r = b.reg
    t0 = b.clock.now()
    queue_offline(b, 1)
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
    b, s = online_bench()
    r = b.reg
    b.link.cut()
    b.link.log = []
    # an X report that fails (queue empty): the idle break starts
    assert run(r.ofd.report_x(r.x_report())).status == cl.RETRY
    assert s.tick() is None and s.status()["mode"] == Y.OFFLINE
    b.link.restore()
    assert not sell(r).offline  # a new request: the port sends it
    assert s.tick() is None and s.status()["mode"] == Y.ONLINE


def test_schedule_survives_the_clock_going_back():
    b, s = online_bench()
    queue_offline(b, 1)
    s.tick()
    b.clock.t -= 3600  # the RTC was set back: the next attempt is one interval away
    assert s.tick() is None and s.status()["next"] == 60
    b.link.restore()
    b.clock.advance(60)
    assert s.tick() == "replay" and b.reg.acc.unacked() == []


def test_kz_2_connection_test_again_at_the_z_report():
    b, s = online_bench()
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


def test_protocol_13_retry_interval_of_the_settings():
    b, s = online_bench()
    r = b.reg
    assert r.settings.get("retry_s") == 60 and s.interval == 60 and s.fixed is None
    r.login(2, "2222", A.MODE_PROGRAMMING)
    for bad in (59, 0, "120", 3601, True):
        assert refused(r.change_settings, {"retry_s": bad}) == (L.E_BAD_SETTING, "retry_s")
    r.change_settings({"retry_s": 180})
    r.login(1, "1111", A.MODE_SALES)
    queue_offline(b, 1)
    assert s.tick() is None and s.interval == 180  # picked up at the next tick
    assert s.status()["next"] == 180
    b.link.restore()
    b.clock.advance(179)
    assert s.tick() is None
    b.clock.advance(1)
    assert s.tick() == "replay" and r.acc.unacked() == []
    # an interval given to the scheduler wins over the setting
    assert OfdSync(r, interval=300).interval == 300
    # a CONNECTION setting: not while a shift is open
    r.login(2, "2222", A.MODE_PROGRAMMING)
    assert refused(r.change_settings, {"retry_s": 60}) == (L.E_SHIFT_OPEN, "retry_s")
