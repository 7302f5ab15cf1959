# The OFD scheduler (firmware/ofd/sender.py) in the simulated register against
# the real simulated OFD over TCP, with its faults: the power-on test, the
# retry after the interval (not before), the server block (15) probed then
# the queue sent in order, a refused document (13) not sent again until the
# operator's sync. PROTOCOL.md section 13; KZ-2.4, KZ-30, R-81.
# The register runs on a manual clock: the scheduler's time (register clock
# plus the seconds skipped) moves only by `skip`, so the "not before the
# interval" checks do not depend on how long the machine takes between two
# commands (on the real clock a second boundary crossed between the failure
# and `skip 59` made the attempt due one second early).

import io
import os
import re
import sqlite3
import sys
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, ROOT)

from kkm.clock import ManualClock  # noqa: E402
from tools import regshell as S  # noqa: E402


def _db(var):
    return sqlite3.connect(os.path.join(var, "ofd.sqlite"))


def _commands(var):
    # the commands the OFD answered, in order (0 SYSTEM, 1 TICKET, 2 CLOSE_SHIFT)
    return [r[0] for r in _db(var).execute("SELECT command FROM exchanges ORDER BY id")]


def _hits(sr):
    return sum(f["hits"] for f in sr.sim.call(sr.sim.server.faults.list))


@pytest.fixture()
def sim(tmp_path):
    var = str(tmp_path / "var")
    out = io.StringIO()
    sr = S.SimRegister(var, out, clock=ManualClock(int(time.time())))
    sr.var_path = var
    try:
        yield sr, out
    finally:
        sr.close()


def _run(sr, out, lines):
    n = S.run(sr, lines)
    assert n == 0, out.getvalue()


def test_power_on_test_then_retry_at_the_interval(sim):
    sr, out = sim
    _run(sr, out, ["login 1 1234"])  # the first tick: the connection test (KZ-2.4)
    assert "[ofd] connection test: ok" in out.getvalue()
    assert _commands(sr.var_path) == [0]
    _run(sr, out, ["fault refuse", "sale Нан 250 1", "pay cash 250"])
    seq = int(re.search(r"journal (\d+)\): offline", out.getvalue()).group(1))
    hits = _hits(sr)
    _run(sr, out, ["skip 59"])
    assert _hits(sr) == hits  # not before the interval: no connection at all
    assert "next attempt in 1 s" in out.getvalue().splitlines()[-1]
    _run(sr, out, ["fault clear", "skip 1"])
    assert "[ofd] retry: sent 1 of 1 waiting documents; mode online" in out.getvalue()
    db = _db(sr.var_path)
    assert db.execute("SELECT offline_number FROM tickets").fetchall() == [(seq,)]  # KZ-30.3
    assert db.execute("SELECT COUNT(*) FROM offline_periods").fetchone()[0] == 1  # KZ-30.1
    _run(sr, out, ["status"])
    assert out.getvalue().splitlines()[-1] == "OFD: mode online, queue 0, connection test ok"


def test_server_block_probe_then_queue_in_order(sim):
    sr, out = sim
    _run(sr, out, ["login 1 1234", "fault result code=15", "sale Нан 250 1", "pay cash 250", "z"])
    assert len(sr.acc.unacked()) == 2  # the sale and the Z wait (KZ-29.7)
    _run(sr, out, ["logout"])  # the next tick: the connection test of the Z (KZ-2), answered 15
    assert "[ofd] connection test: failed; mode server_blocked" in out.getvalue()
    before = _commands(sr.var_path)
    hits = _hits(sr)
    _run(sr, out, ["skip 59"])
    assert _hits(sr) == hits
    _run(sr, out, ["skip 1"])  # COMMAND_SYSTEM with reg_info, answered 15 again
    assert _hits(sr) == hits + 1 and "[ofd] probe: answered; mode server_blocked" in out.getvalue()
    _run(sr, out, ["fault clear", "skip 60"])  # result 0 ends the block, then the queue
    assert sr.acc.unacked() == [] and "mode online" in sr.sync_line()
    assert _commands(sr.var_path)[len(before):] == [0, 1, 2]  # probe, the sale, the Z: in order
    db = _db(sr.var_path)
    assert db.execute("SELECT COUNT(*) FROM tickets WHERE offline_number IS NOT NULL").fetchone()[0] == 1
    assert db.execute("SELECT offline FROM z_reports").fetchall() == [(1,)]


def test_a_slow_machine_does_not_bring_the_retry_forward(sim):
    # a second of real time passes between the failed connection test and
    # `skip 59` (a loaded machine): the retry is still due at 60 s, not 59
    sr, out = sim
    _run(sr, out, ["login 1 1234", "fault result code=15", "sale Нан 250 1", "pay cash 250", "z", "logout"])
    hits = _hits(sr)
    time.sleep(1.0)
    _run(sr, out, ["skip 59"])
    assert _hits(sr) == hits and "next attempt in 1 s" in out.getvalue().splitlines()[-1]
    _run(sr, out, ["skip 1"])
    assert _hits(sr) == hits + 1


def test_refused_document_waits_for_the_operator(sim):
    sr, out = sim
    _run(sr, out, ["login 1 1234", "fault result code=13", "sale Нан 250 1", "pay cash 250"])
    hits = _hits(sr)
    assert hits == 1
    for _ in range(5):
        _run(sr, out, ["skip 600"])
    assert _hits(sr) == hits  # no retry storm
    assert "mode blocked" in sr.sync_line() and "refused (code 13)" in sr.sync_line()
    _run(sr, out, ["fault clear", "skip 600"])
    assert len(sr.acc.unacked()) == 1  # still waiting for the operator
    _run(sr, out, ["sync"])  # after analysis: send now
    assert "sent 1 of 1" in out.getvalue() and sr.acc.unacked() == []


def test_protocol_13_refused_document_set_aside_by_the_service_engineer(sim):
    # the OFD refuses a sale with 13 (with its text); the next sale queues
    # behind it; the cashier may not set it aside, the service engineer
    # does (the slip is printed), and the queue goes on at the next tick
    from kkm import records as R
    from kkm import returns
    from kkm import texts as T

    sr, out = sim
    _run(sr, out, ["login 1 1234", "fault result code=13 count=1", "sale Нан 250 1", "pay cash 250"])
    first = int(re.search(r"journal (\d+)\): offline", out.getvalue()).group(1))
    text = "Сұрау деректері қате / Некорректные данные запроса: injected"  # the simulator's text
    assert sr.port.refusal == (first, 13, text)
    _run(sr, out, ["sale Сүт 300 1", "pay cash 300", "status"])
    second = sr.acc.unacked()[-1]
    assert sr.acc.unacked() == [first, second] and "mode blocked" in sr.sync_line()
    assert "OFD refused journal %d: code 13: %s" % (first, text) in out.getvalue().splitlines()
    assert S.run(sr, ["aside"]) == 1  # the cashier: no right
    assert out.getvalue().splitlines()[-1] == "error: %s (404)" % T.text(404, "ru")
    n = len(out.getvalue())
    _run(sr, out, ["login 9 9999 service", "aside"])
    said = out.getvalue()[n:]
    assert "journal %d set aside (refused by the OFD, code 13); 1 documents wait" % first in said
    slip = sr.printer.pages[-1]
    body = "\n".join(t for st, t in slip)
    assert T.text(T.L_REFUSED, "ru") in body and R.autonomous_sign(first) in body
    assert "Некорректные" in body and "injected" in body  # the OFD's text (wrapped)
    _run(sr, out, ["skip 1"])  # the next tick: the second sale goes out
    assert sr.acc.unacked() == [] and "mode online" in sr.sync_line()
    db = _db(sr.var_path)
    assert db.execute("SELECT offline_number FROM tickets").fetchall() == [(second,)]
    # the refused sale stays in the journal, found by the autonomous sign on its paper
    assert returns.find_original(sr.reg, R.autonomous_sign(first)) == first
    assert sr.port.refusal is None
    n = len(out.getvalue())
    _run(sr, out, ["status"])
    assert "OFD refused" not in out.getvalue()[n:]


def test_wait_idles_and_retry_below_60_s_is_refused(sim):
    sr, out = sim
    _run(sr, out, ["wait 1"])
    assert "[ofd] connection test: ok" in out.getvalue()
    assert out.getvalue().splitlines()[-1] == "[ofd] mode online, queue 0"
    assert S.run(sr, ["wait x", "skip 0"]) == 2
    with pytest.raises(SystemExit) as e:
        S.main(["--retry", "59"])
    assert e.value.code == 2


def _post(sr, path, body):
    import json
    import urllib.request

    req = urllib.request.Request("http://127.0.0.1:%d%s" % (sr.sim.http_port, path),
                                 data=json.dumps(body).encode("utf-8"),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read().decode("utf-8"))


def test_texts_and_status_lock_messages(sim):
    # KZ-17: `texts` lists the OFD's texts not shown yet and acknowledges
    # them; `status` shows each lock with the cashier's message, the server
    # block (OFD_SUSPEND) with the OFD's reason
    from kkm import locks as L

    sr, out = sim
    _run(sr, out, ["texts"])
    assert out.getvalue().splitlines()[-1] == "no new texts from the OFD"
    _post(sr, "/admin/registers/%d/messages" % sr.kkm_id, {"type": "ORG", "text": "Акция / Скидка 10 %"})
    reason = "ОФД-ға хабарласыңыз / Обратитесь в ОФД"
    _post(sr, "/admin/registers/%d/block" % sr.kkm_id, {"reason": reason})
    _run(sr, out, ["probe", "texts"])
    lines = out.getvalue().splitlines()
    listed = [ln for ln in lines if ln.startswith("text ")]
    assert listed[0] == "text ORG (type 1, version %d): Акция / Скидка 10 %%" % sr.reg.ofd_texts.ver[1], listed
    assert listed[1].startswith("text INFO (type 4, version ") and listed[1].endswith(reason) and len(listed) == 2
    n = len(lines)
    _run(sr, out, ["texts"])  # acknowledged: not listed again
    assert out.getvalue().splitlines()[n:] == ["no new texts from the OFD"]
    _run(sr, out, ["status"])
    msg = L.message(L.OFD_SUSPEND, "ru")
    assert "lock %d: %s / %s" % (L.OFD_SUSPEND, msg, reason) in out.getvalue().splitlines()
    # unblocked: no lock line, nothing new to read
    _post(sr, "/admin/registers/%d/unblock" % sr.kkm_id, {})
    n = len(out.getvalue().splitlines())
    _run(sr, out, ["probe", "status", "texts"])
    new = out.getvalue().splitlines()[n:]
    assert not [ln for ln in new if ln.startswith("lock ")] and new[-1] == "no new texts from the OFD", new


def test_kz_31_4_x_is_the_ofds_online_the_registers_offline(sim):
    sr, out = sim
    _run(sr, out, ["login 1 1234", "sale Нан 250 2", "pay cash 500", "x"])
    assert "X report sent to the OFD; the OFD's X printed (OFD shift 1)" in out.getvalue()
    assert sr.reg.x_source == "ofd"
    _run(sr, out, ["fault refuse", "x"])
    assert out.getvalue().splitlines()[-1] == "X report of the register printed (no X from the OFD)"
    assert sr.reg.x_source == "own"


def test_retry_interval_from_the_registers_setting(sim):
    # without --retry the scheduler takes retry_s of the settings (CONNECTION:
    # with the shift closed), and a change applies from the next tick
    sr, out = sim
    assert sr.sync.fixed is None and sr.sync.interval == 60
    _run(sr, out, ["login 2 2222 prog"])
    sr.reg.change_settings({"retry_s": 120})
    _run(sr, out, ["login 1 1234", "fault refuse", "sale Нан 250 1", "pay cash 250", "skip 60"])
    assert sr.sync.interval == 120
    assert "next attempt in 60 s" in out.getvalue().splitlines()[-1]


def _check(url):
    # the check page the receipt's QR code opens: (HTTP status, page)
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_kz_29_3_r_82_offline_receipt_qr_verifies_after_the_replay(sim):
    # one autonomous number: printed, in the QR code (i=) and sent as
    # offline_ticket_number; the check page finds it once the OFD has it
    from kkm import layout

    sr, out = sim
    _run(sr, out, ["login 1 1234", "fault refuse", "sale Нан 250 1", "pay cash 250"])
    seq = int(re.search(r"journal (\d+)\): offline", out.getvalue()).group(1))
    page = sr.printer.pages[-1]
    qr = [t for st, t in page if st & layout.QR][0]
    sign = re.search(r"[?&]i=(\d+)&", qr).group(1)
    assert any(sign in t for st, t in page if not st & layout.QR)  # printed on its own line too
    status, body = _check(qr)
    assert status == 404 and 'id="autonomous"' in body  # not sent yet: the page says when it will be found
    _run(sr, out, ["fault clear", "skip 60"])
    assert sr.acc.unacked() == []
    db = _db(sr.var_path)
    assert db.execute("SELECT offline_number FROM tickets").fetchall() == [(int(sign),)]
    assert int(sign) == seq
    status, body = _check(qr)
    assert status == 200 and 'data-status="mismatch"' not in body and 'id="offline"' in body


def test_kz_31_5_online_z_prints_the_z_the_ofd_formed(sim):
    # the simulated OFD answers the shift close with its own Z (with its
    # checksum); that Z is printed, and it agrees with the register's
    sr, out = sim
    _run(sr, out, ["login 1 1234", "sale Нан 250 2", "pay cash 500", "deposit 100", "z"])
    assert "shift 1 closed; the OFD's Z printed" in out.getvalue() and "differs" not in out.getvalue()
    assert sr.reg.z_source == "ofd"
    from tools.pb import load

    ans = load().Response()
    ans.ParseFromString(_db(sr.var_path).execute(
        "SELECT answer FROM exchanges WHERE command=2 ORDER BY id DESC").fetchone()[0])
    page = "".join(t.strip() for st, t in sr.printer.pages[-1])  # the checksum wraps
    assert ans.report.zx_report.checksum and ans.report.zx_report.checksum in page


def test_lost_answer_the_ofd_counts_the_document_as_the_register_printed_it(sim):
    # the OFD stores the sale but every answer is lost for the whole budget:
    # the register prints and counts it autonomous; the resend (same TOKEN
    # and REQNUM) gets the stored sign and tells the OFD the autonomous
    # number; the check page finds it and both Z reports agree (KZ-30.3,
    # KZ-31.5, R-82)
    from kkm import layout

    sr, out = sim
    _run(sr, out, ["login 1 1234", "fault garbage bytes=64", "sale Нан 250 1", "pay cash 250"])
    assert re.search(r"journal \d+\): offline", out.getvalue())
    qr = [t for st, t in sr.printer.pages[-1] if st & layout.QR][0]
    sign = re.search(r"[?&]i=(\d+)&", qr).group(1)
    db = _db(sr.var_path)
    assert db.execute("SELECT COUNT(*), MAX(offline_number) FROM tickets").fetchone() == (1, None)  # stored online
    _run(sr, out, ["fault clear", "skip 60"])
    assert sr.acc.unacked() == []
    assert db.execute("SELECT offline_number FROM tickets_seen").fetchall() == [(int(sign),)]
    status, body = _check(qr)
    assert status == 200 and 'id="offline"' in body
    _run(sr, out, ["sale Сүт 300 1", "pay cash 300", "z"])
    assert "shift 1 closed; the OFD's Z printed" in out.getvalue() and "differs" not in out.getvalue()
    assert db.execute("SELECT zcheck_status FROM z_reports").fetchall() == [("matches",)]


def test_lost_answer_of_a_placement_counted_offline_on_both_sides(sim):
    sr, out = sim
    _run(sr, out, ["login 1 1234", "fault garbage bytes=64", "deposit 100"])
    _run(sr, out, ["fault clear", "skip 60", "z"])
    db = _db(sr.var_path)
    assert db.execute("SELECT offline FROM money_placements_seen").fetchall() == [(1,)]
    assert db.execute("SELECT zcheck_status FROM z_reports").fetchall() == [("matches",)]


def test_power_cut_between_the_answer_and_its_acknowledgement(tmp_path):
    # the OFD stored and answered the sale, the power fails before the
    # register journals the answer; the boot completes the sale as
    # autonomous (its copy prints the autonomous number), the resend gets
    # the stored sign and tells the OFD: one ticket, found by the number on
    # the copy, and both Z reports agree
    from boards.sim.nor_flash import PowerCut
    from kkm import layout

    var = str(tmp_path / "var")
    out = io.StringIO()
    sr = S.SimRegister(var, out)
    try:
        _run(sr, out, ["login 1 1234"])

        def cut(seq, payload, ts):
            raise PowerCut("off")

        sr.reg.acc.ack = cut
        with pytest.raises(PowerCut):
            S.run(sr, ["sale Нан 250 1", "pay cash 250"])
    finally:
        sr.close()
    out = io.StringIO()
    sr = S.SimRegister(var, out)
    try:
        res = sr.reg.last
        assert res.offline and len(sr.acc.unacked()) == 1
        lines = sr.reg.copy_last()
        qr = [t for st, t in lines.lines if st & layout.QR][0]
        assert re.search(r"[?&]i=(\d+)&", qr).group(1) == res.fiscal_sign
        _run(sr, out, ["login 1 1234", "skip 60", "sale Сүт 300 1", "pay cash 300", "z"])
        assert sr.acc.unacked() == []
        db = _db(var)
        assert db.execute("SELECT offline_number FROM tickets_seen ORDER BY seq").fetchall() == \
            [(int(res.fiscal_sign),), (None,)]
        assert db.execute("SELECT zcheck_status FROM z_reports").fetchall() == [("matches",)]
        status, body = _check(qr)
        assert status == 200
    finally:
        sr.close()
