# The simulated register (tools/regshell.py) end to end: register core,
# journal on file-backed NOR flash, the real OFD client over TCP and the
# simulated OFD started in-process. Requirements: KZ-5, KZ-21, KZ-22,
# KZ-23, KZ-24, KZ-29, KZ-30.2.

import io
import os
import re
import sqlite3
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, ROOT)

from kkm import returns  # noqa: E402
from kkm import texts as T  # noqa: E402
from tools import regshell as S  # noqa: E402

SCRIPT = """\
login 1 1234
sale 4870001000011 180 2
sale 4870001000066 650.50 1.5
discount 50
pay cash 2000
deposit 1000
x
z
"""


def _db(var):
    db = sqlite3.connect(os.path.join(var, "ofd.sqlite"))
    db.row_factory = sqlite3.Row
    return db


def test_script_sale_x_z_end_to_end(tmp_path):
    var = str(tmp_path / "var")
    script = tmp_path / "demo.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    paper = tmp_path / "paper.txt"
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "regshell.py"), "--var", var,
                        "--script", str(script), "--print-file", str(paper)],
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert p.returncode == 0, p.stdout + p.stderr
    out = p.stdout
    m = re.search(r"document 1 \(journal \d+\): fiscal sign (\d{10})", out)
    assert m, out
    sign = m.group(1)
    db = _db(var)
    rows = db.execute("SELECT * FROM tickets").fetchall()
    assert len(rows) == 1
    assert rows[0]["fiscal_sign"] == sign and rows[0]["total"] == 128575
    assert rows[0]["offline_number"] is None
    # the printed receipt carries the OFD's sign and a QR URL of the check page
    text = paper.read_text(encoding="utf-8")
    assert sign in text
    qr = re.search(r"http://127\.0\.0\.1:\d+/check\?i=" + sign, text.replace("|\n|", ""))
    assert qr, text
    assert db.execute("SELECT COUNT(*) FROM money_placements").fetchone()[0] == 1
    assert db.execute("SELECT COUNT(*) FROM z_reports").fetchone()[0] == 1
    assert "X report sent to the OFD" in out and "shift 1 closed" in out
    # the token the register keeps in its journal is the one the OFD issued
    # last: the latest R_SESSION record
    token, reqnum, pending, done = _journal_session(var)[:4]
    assert token == db.execute("SELECT token FROM kkms").fetchone()[0]
    assert pending is None and reqnum >= 4


def _journal_session(var):
    from boards.sim.nor_flash import NorFlash
    from journal import Accumulator
    from kkm.records import R_SESSION
    from kkm.records import unpack_session

    with open(os.path.join(var, "device.key"), "rb") as f:
        key = f.read()
    acc = Accumulator(NorFlash.load(os.path.join(var, "journal.img"), S.LOG_BLOCKS),
                      NorFlash.load(os.path.join(var, "fiscal_memory.img"), S.FM_BLOCKS), key)
    last = None
    for seq, rtype, ts, payload in acc.records(1):
        if rtype == R_SESSION:
            last = payload
    assert last is not None
    return unpack_session(last)


def test_offline_sale_then_sync_and_restart(tmp_path):
    var = str(tmp_path / "var")
    out = io.StringIO()
    sr = S.SimRegister(var, out)
    try:
        fails = S.run(sr, ["login 1 1234", "fault refuse", "sale Нан 250 1", "pay cash 250"])
        assert fails == 0, out.getvalue()
        text = out.getvalue()
        m = re.search(r"journal (\d+)\): offline, autonomous fiscal sign (\d+)", text)
        assert m, text
        seq = int(m.group(1))
        assert m.group(2) == "%d" % seq  # KZ-29.3: the journal sequence
        assert len(sr.acc.unacked()) == 1
        db = _db(var)
        assert db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 0
        # while the queue is not empty a new sale is queued too (nothing overtakes)
        assert S.run(sr, ["sale Сүт 540 1", "pay card 540"]) == 0
        assert len(sr.acc.unacked()) == 2
        # KZ-29.7: the shift closes offline; the Z joins the queue
        assert S.run(sr, ["z"]) == 0, out.getvalue()
        assert len(sr.acc.unacked()) == 3
        assert db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 0
    finally:
        sr.close()
    # a restart of the register (and of its OFD, without the fault): the
    # queue is in the journal, the session in its file
    out2 = io.StringIO()
    sr = S.SimRegister(var, out2)
    try:
        assert len(sr.acc.unacked()) == 3
        assert S.run(sr, ["sync"]) == 0, out2.getvalue()
        assert "sent 3 of 3" in out2.getvalue()
        assert sr.acc.unacked() == []
        db = _db(var)
        rows = db.execute("SELECT * FROM tickets ORDER BY seq").fetchall()
        nums = [r["offline_number"] for r in rows]
        assert nums[0] == seq and nums[1] is not None and nums[1] > seq  # KZ-30.3
        # KZ-30.1: the whole replay, after the restart, reports one period
        # from the first failed attempt
        periods = db.execute("SELECT DISTINCT begin_time FROM offline_periods").fetchall()
        assert [p[0] for p in periods] == [rows[0]["date_time"]]
        z = db.execute("SELECT shift_number, offline FROM z_reports").fetchall()
        assert [(r[0], r[1]) for r in z] == [(1, 1)]
        # KZ-30.1: each replayed message carries the offline period
        assert db.execute("SELECT COUNT(*) FROM offline_periods").fetchone()[0] == 3
    finally:
        sr.close()


def _parent(row):
    # the parent_ticket of a stored return request
    from ofd import codec
    from ofd import schema

    return codec.decode(schema.Request, row["request"])["ticket"]["parent_ticket"]


def test_return_refers_to_the_sale(tmp_path):
    # the return finds the sale by what the paper shows (shift and
    # receipt number, the fiscal sign, the autonomous number of an offline
    # receipt) and never returns more than was sold, also after a restart
    var = str(tmp_path / "var")
    out = io.StringIO()
    sr = S.SimRegister(var, out)
    try:
        assert S.run(sr, ["login 1 1234", "sale Нан 250 2", "pay cash 500"]) == 0, out.getvalue()
        sign = re.search(r"document 1 \(journal \d+\): fiscal sign (\d+)", out.getvalue()).group(1)
        assert S.run(sr, ["return 1/1 1 1"]) == 0, out.getvalue()  # "Чек №: 1" of shift 1: one loaf
        assert S.run(sr, ["return %s" % sign]) == 0, out.getvalue()  # the other one
        rows = _db(var).execute("SELECT operation, total FROM tickets ORDER BY seq").fetchall()
        assert [(r[0], r[1]) for r in rows] == [(2, 50000), (3, 25000), (3, 25000)]
        assert S.run(sr, ["bogus", "return 99999", "return %s" % sign, "pay cash 10"]) == 4
        assert "error: " + T.text(returns.E_RETURNED, "ru") in out.getvalue()
    finally:
        sr.close()
    out = io.StringIO()
    sr = S.SimRegister(var, out)
    try:
        # after a restart the journal still says the sale is returned
        assert S.run(sr, ["login 1 1234", "return %s" % sign]) == 1
        # a card sale issued offline: refunded to the card, its parent is
        # the number the OFD received with it
        assert S.run(sr, ["fault refuse", "sale Сүт 540 1", "pay card 540", "fault clear", "sync"]) == 0, \
            out.getvalue()
        paper = re.search(r"offline, autonomous fiscal sign (\d+)", out.getvalue()).group(1)
        assert S.run(sr, ["return %s" % paper]) == 0, out.getvalue()
        db = _db(var)
        orig, ret = db.execute("SELECT * FROM tickets ORDER BY seq").fetchall()[-2:]
        assert (ret["operation"], ret["total"], ret["cash"]) == (3, 54000, 0)
        pt = _parent(ret)
        assert pt["parent_ticket_is_offline"] is True
        assert pt["parent_ticket_number"] == str(orig["offline_number"])
    finally:
        sr.close()


def test_piece_goods_in_whole_units_and_pay_again_after_a_failed_payment(tmp_path):
    from kkm import locks as L
    from kkm import texts as T

    var = str(tmp_path / "var")
    out = io.StringIO()
    sr = S.SimRegister(var, out)
    try:
        # a loaf (catalogue unit 796, pieces) is not sold by the kilogram
        assert S.run(sr, ["login 1 1234", "sale 4870001000011 180 1.5"]) == 1
        assert out.getvalue().splitlines()[-1] == "error: %s (%d)" % (T.text(T.E_QTY_WHOLE, "ru"), T.E_QTY_WHOLE)
        assert S.run(sr, ["sale 4870001000011 180 2", "pay cash 200"]) == 0
        assert out.getvalue().splitlines()[-1] == "due: 160.00"
        sr.printer.state = "no_paper"
        assert S.run(sr, ["pay cash 500"]) == 1
        assert out.getvalue().splitlines()[-1] == "error: %s (%d)" % (L.message(L.NO_PAPER, "ru"), L.NO_PAPER)
        sr.printer.state = "ok"
        assert S.run(sr, ["pay cash 500"]) == 0, out.getvalue()
        assert "change: 340.00" in out.getvalue()
        rows = _db(var).execute("SELECT total FROM tickets").fetchall()
        assert [r[0] for r in rows] == [36000]
    finally:
        sr.close()


def test_copy_after_a_restart_carries_the_fiscal_sign_and_qr(tmp_path):
    from kkm import texts as T

    var = str(tmp_path / "var")
    out = io.StringIO()
    sr = S.SimRegister(var, out)
    try:
        assert S.run(sr, ["login 1 1234", "sale Нан 250 1", "pay cash 250"]) == 0, out.getvalue()
        sign = re.search(r"fiscal sign (\d+)", out.getvalue()).group(1)
    finally:
        sr.close()
    out2 = io.StringIO()
    sr = S.SimRegister(var, out2)
    try:
        assert S.run(sr, ["copy"]) == 0, out2.getvalue()
        page = out2.getvalue()
        assert T.text(T.L_COPY, "ru") in page and T.text(T.L_NOT_FISCAL, "ru") not in page
        assert sign in page and "[QR]" in page and "i=" + sign in page.replace("|\n|", "")
    finally:
        sr.close()
