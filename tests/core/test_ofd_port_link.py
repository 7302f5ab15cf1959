# What ofd.port builds from the journal and takes from the settings and the
# answers, on the in-memory OFD of ofdkit (Link): the Z's open_shift_time
# from the Z record (KZ-22), the total transaction time of the settings
# (PROTOCOL.md section 13), the OFD's X printed when online (KZ-31.4), and a
# document's request number kept until its answer is journalled.
from kkm import auth as A
from kkm import counters as C
from kkm import document as D
from kkm import doccodec as DC
from kkm import layout
from kkm import records as R
from kkm.counters import date_time
from kkm import locks as L
from ofd import client as cl
from ofd import schema as S
from ofd import sender as Y
from ofd.port import OfdPort
from ofdkit import link_client, run, OfdSync, HOST, KKM, Link, link_bench, online_bench, queue_offline
from regkit import REG, refused, sell


# --- the Z's open_shift_time (PROTOCOL.md section 8, KZ-22) -------------------

def _z_request(b, n):
    zs = [req for c, req in b.link.log[n:] if c == S.COMMAND_CLOSE_SHIFT]
    assert len(zs) == 1
    return zs[0]["close_shift"]


def test_kz_22_z_sent_from_the_queue_carries_the_shift_open_time():
    # a shift closed offline whose Z goes out later from the queue: its
    # open_shift_time is the shift's first document, not the close time,
    # whether the shift began online (documents acknowledged before the
    # break) or offline, and after a reboot as well (the register no longer
    # has the shift open; the request is a pure function of the record)
    b, s = online_bench()
    r = b.reg
    off = r.settings.get("tz_offset")
    for first_online in (True, False):
        r.login(1, "1111", A.MODE_SALES)
        t_open = b.clock.now()
        if first_online:
            b.link.restore()
            assert not sell(r).offline
            b.clock.advance(600)
        b.link.cut()
        assert sell(r).offline
        b.clock.advance(600)
        r.login(1, "1111", A.MODE_SHIFT_CLOSE)
        r.close_shift()
        t_close = b.clock.now()
        assert len(r.acc.unacked()) == 2  # the offline sale and the Z
        r = b.boot()
        s = OfdSync(r)
        s.test = Y.TEST_FAILED  # (the power-on test is not what this checks)
        s.failing = True
        b.link.restore()
        n = len(b.link.log)
        b.clock.advance(60)
        assert s.tick() == "replay" and r.acc.unacked() == []
        cs = _z_request(b, n)
        z = cs["z_report"]
        assert z["open_shift_time"] == date_time(t_open + off), first_online
        assert z["close_shift_time"] == date_time(t_close + off) and cs["is_offline"] is True
        b.clock.advance(600)


def test_kz_22_z_record_stamp():
    # the Z record carries the open time (records.z_body); a body without
    # it is no Z record
    body = DC.encode_z(b"\x01", 1, "A", 18000)
    assert R.split_z(R.z_body(1234567, body)) == (1234567, body)
    try:
        R.split_z(body)
    except ValueError:
        pass
    else:
        raise AssertionError("a body without the open time")


# --- settings that reach the link (PROTOCOL.md section 13) --------------------

def test_protocol_13_total_transaction_time_of_the_settings_reaches_the_client():
    b = link_bench()
    r = b.reg
    assert r.settings.get("timeout_s") == 5 and b.port.budget_ms() == 5000
    r.login(2, "2222", A.MODE_PROGRAMMING)
    assert refused(r.change_settings, {"timeout_s": 4}) == (L.E_BAD_SETTING, "timeout_s")
    r.change_settings({"timeout_s": 12})
    assert b.port.budget_ms() == 12000  # on change
    r = b.boot()
    assert b.port.budget_ms() == 12000  # at boot (port.bind)
    # a CONNECTION setting: not while a shift is open
    r.login(1, "1111", A.MODE_SALES)
    sell(r)
    r.login(2, "2222", A.MODE_PROGRAMMING)
    assert refused(r.change_settings, {"timeout_s": 8}) == (L.E_SHIFT_OPEN, "timeout_s")
    assert b.port.budget_ms() == 12000


def test_protocol_13_timeout_at_fiscalisation():
    link = Link(REG["token"])
    from regkit import Bench

    b = Bench(log_blocks=12, make_ofd=lambda acc: OfdPort(link_client(link, [HOST], KKM, 1), acc))
    r = b.boot()
    r.set_user(9, "Service", A.ROLE_SERVICE, "9999")
    r.login(9, "9999", A.MODE_SERVICE)
    r.fiscalise_kkm(dict(REG, timeout_s=20))
    assert b.port.budget_ms() == 20000




# --- KZ-31.4: the X report, the OFD's when online --------------------------------

def test_kz_31_4_x_report_is_the_ofds_when_online_the_registers_offline():
    b, s = online_bench()
    r = b.reg
    sell(r)
    lang = r.settings.get("lang")
    # the OFD's X differs from the register's (here: the cash sum) and leaves
    # out what is zero (proto2): sections, zero operations, optional fields
    own = r.counters.zx_report(C.REPORT_X, 1, b.clock.now(), b.clock.now())
    srv = dict(own)
    srv["cash_sum"] = {"bills": 777, "coins": 50}
    del srv["sections"]
    del srv["checksum"]
    srv["operations"] = [e for e in own["operations"] if e["count"]]
    srv["ticket_operations"] = [{"operation": t["operation"], "tickets_total_count": t["tickets_total_count"],
                                 "tickets_count": t["tickets_count"], "tickets_sum": t["tickets_sum"]}
                                for t in own["ticket_operations"] if t["tickets_count"]]
    b.link.x = srv
    n = len(b.printer.printed)
    n_log = len(b.link.log)
    zx = r.x_report()
    assert b.link.commands(n_log) == [S.COMMAND_REPORT]
    assert r.x_source == "ofd" and zx["cash_sum"] == {"bills": 777, "coins": 50}
    assert [t["operation"] for t in zx["ticket_operations"]] == [0, 1, 2, 3]
    assert zx["ticket_operations"][0]["tickets_count"] == 0 and zx["ticket_operations"][0]["payments"] == []
    assert zx["sections"] == [] and "close_shift_time" not in zx
    assert b.printer.printed[n:] == [layout.report_lines(zx, lang)]
    assert any("777" in text for style, text in b.printer.printed[n])
    # offline: the register's own X
    b.link.cut()
    n = len(b.printer.printed)
    zx = r.x_report()
    assert r.x_source == "own" and zx["cash_sum"] == {"bills": r.counters.cash // 100, "coins": r.counters.cash % 100}
    assert b.printer.printed[n:] == [layout.report_lines(zx, lang)]
    # documents queued: the OFD lacks them, nothing is sent, the register's own
    b.link.restore()
    s.tick()
    queue_offline(b, 1)
    b.link.restore()
    n_log = len(b.link.log)
    zx = r.x_report()
    assert r.x_source == "own" and len(b.link.log) == n_log
    # an answer without a report: the register's own
    b.clock.advance(60)
    assert s.tick() == "replay" and r.acc.unacked() == []
    b.link.x = None
    zx = r.x_report()
    assert r.x_source == "own" and b.link.commands(n_log)[-1] == S.COMMAND_REPORT


def test_answered_but_unacknowledged_document_keeps_its_request_number():
    # a document the OFD answered whose answer is not in the journal yet (its
    # ACK failed) is resent with the same TOKEN and REQNUM: a probe or an X
    # report in between would take that place (the client remembers only
    # the last answered request), so the port sends neither until then
    b, s = online_bench()
    r = b.reg
    seqs = queue_offline(b, 1)
    b.link.restore()
    rtype, ts, payload = r.acc.read(seqs[0])
    out = run(b.port.send("receipt", seqs[0], payload))  # answered, not acknowledged
    assert out.status == cl.OK and r.acc.unacked() == seqs
    stored = len(b.link.stored)
    assert run(b.port.probe()) is None
    assert run(b.port.report_x(r.counters.zx_report(C.REPORT_X, 1, ts, ts))) is None
    assert r.replay() == 1 and r.acc.unacked() == []
    assert b.link.duplicates == 1 and len(b.link.stored) == stored  # stored once
    assert run(b.port.probe()).ok()


