# The OFD scheduler (firmware/ofd/sync.py) in the simulated register against
# the real simulated OFD over TCP, with its faults: the power-on test, the
# retry after the interval (not before), the server block (15) probed then
# the queue sent in order, a refused document (13) not sent again until the
# operator's sync. PROTOCOL.md section 13; KZ-2.4, KZ-30, R-81.

import io
import os
import re
import sqlite3
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, ROOT)

from tools import sim_register as S  # noqa: E402


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
    sr = S.SimRegister(var, out)
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
    from kkm import register as R
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
    assert T.text(T.L_REFUSED, "ru") in body and R.autonomous_sign(S.FACTORY_NO, first) in body
    assert "Некорректные" in body and "injected" in body  # the OFD's text (wrapped)
    _run(sr, out, ["skip 1"])  # the next tick: the second sale goes out
    assert sr.acc.unacked() == [] and "mode online" in sr.sync_line()
    db = _db(sr.var_path)
    assert db.execute("SELECT offline_number FROM tickets").fetchall() == [(second,)]
    # the refused sale stays in the journal: its autonomous sign finds it
    from kkm import returns

    assert returns.find_original(sr.reg, R.autonomous_sign(S.FACTORY_NO, first)) == first
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
