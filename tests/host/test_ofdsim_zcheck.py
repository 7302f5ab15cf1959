"""Simulated OFD: the register's own Z (CloseShiftRequest.z_report) is
compared with the Z the OFD forms from the documents it received
(PROTOCOL.md section 8, KZ-22): a real register day through the register
core and ofd.port ends with a Z that matches; hand-built Z requests with a
wrong cash sum or a lost ticket show "differs" with the exact fields; the
reject switch answers 13 and stores nothing; an old database still opens."""

import io
import json
import logging
import os
import re
import sqlite3
import subprocess
import sys

import pytest

from tools.ofdsim import build, zcheck
from tools.ofdsim.pbutil import pb as _pb, set_dt, set_money, tiyn
from tools.ofdsim.store import Store
from tools.ofdsim.testkit import Sim, register_sample, at, get_text as get, post_json as post

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SELL = 2


# ---------------------------------------------------------------- a day by hand

DEPOSIT = 10000
SALES = [  # (time, lines, payments) -- all sells
    (at(9), [("Нан / Хлеб", 2000, 18000, "1"), ("Сүт / Молоко", 1000, 54000, "2")], [(0, 90000)]),
    (at(10), [("Су / Вода", 3000, 12000, "1")], [(1, 36000)]),
    (at(11), [("Нан / Хлеб", 1000, 18000, "1")], [(0, 18000)]),
]


def vat16(line):
    return (line * 16 + 58) // 116


def sale_requests():
    return [build.ticket(t, lines, payments=pays) for t, lines, pays in SALES]


def device_z(tickets, close, deposit=DEPOSIT, opened=at(8), shift=1):
    """The Z a register would send after `deposit` and these ticket requests,
    counted here independently of the simulator's zx.py. Entries are put in
    an unusual order and zero entries are left out (absent = zero)."""
    p = _pb()
    ops = [0, 0]      # SELL: commodity lines, their sum
    secs = {}
    vat = [0, 0]      # turnover, tax
    total = cash = 0
    pays = {}
    for r in tickets:
        t = r.ticket
        for it in t.items:
            c = it.commodity
            ops[0] += 1
            ops[1] += tiyn(c.sum)
            s = secs.setdefault(c.section_code, [0, 0])
            s[0] += 1
            s[1] += tiyn(c.sum)
            vat[0] += tiyn(c.sum)
            vat[1] += sum(tiyn(x.sum) for x in c.taxes)
        total += tiyn(t.amounts.total)
        for pm in t.payments:
            a = pays.setdefault(int(pm.type), [0, 0])
            a[0] += tiyn(pm.sum)
            a[1] += 1
            if pm.type == 0:
                cash += tiyn(pm.sum)
    z = p.ZXReport()
    set_dt(z.date_time, close)
    z.shift_number = shift
    for code in sorted(secs, reverse=True):
        sec = z.sections.add(section_code=code)
        o = sec.operations.add(operation=SELL, count=secs[code][0])
        set_money(o.sum, secs[code][1])
    for field, count, amount in (("total_result", len(tickets), total), ("operations", ops[0], ops[1])):
        for op in (3, 2, 1, 0):  # reverse order: order must not matter
            o = getattr(z, field).add(operation=op, count=count if op == SELL else 0)
            set_money(o.sum, amount if op == SELL else 0)
    tx = z.taxes.add(tax_type=100, percent=16000)
    o = tx.operations.add(operation=SELL)
    set_money(o.turnover, vat[0])
    set_money(o.sum, vat[1])
    set_money(o.turnover_without_tax, vat[0] - vat[1])
    to = z.ticket_operations.add(operation=SELL, tickets_total_count=len(tickets), tickets_count=len(tickets),
                                 offline_count=0)
    set_money(to.tickets_sum, total)
    for k in sorted(pays, reverse=True):
        pm = to.payments.add(payment=k, count=pays[k][1])
        set_money(pm.sum, pays[k][0])
    if deposit:
        mp = z.money_placements.add(operation=0, operations_total_count=1, operations_count=1)
        set_money(mp.operations_sum, deposit)
    set_money(z.cash_sum, deposit + cash)
    set_money(z.revenue.sum, total)
    z.revenue.is_negative = False
    nn = z.non_nullable_sums.add(operation=SELL)
    set_money(nn.sum, total)
    set_dt(z.open_shift_time, opened)
    set_dt(z.close_shift_time, close)
    z.checksum = "not the simulator's algorithm"
    return z


def run_day(sim, tickets):
    ses = sim.session()
    assert ses.send(build.money_placement(at(8), DEPOSIT))[1].result.result_code == 0
    for r in tickets:
        assert ses.send(r)[1].result.result_code == 0
    return ses


def z_rows(sim):
    return [dict(r) for r in sim.store("z_reports", sim.kkm_id)]


# ---------------------------------------------------------------- unit level

def test_normalise_order_free_absent_is_zero_and_duplicates_count():
    p = _pb()
    a, b = p.ZXReport(), p.ZXReport()
    for z in (a, b):
        set_dt(z.date_time, at(20))
        z.shift_number = 3
        set_money(z.cash_sum, 500)
        set_money(z.revenue.sum, 0)
    set_money(a.operations.add(operation=2, count=1).sum, 500)
    set_money(a.operations.add(operation=0, count=0).sum, 0)       # zero entry sent
    set_money(a.revenue.sum, 0)
    a.revenue.is_negative = True                                   # -0 == 0
    set_money(b.operations.add(operation=2, count=1).sum, 500)     # zero entry absent
    t = b.ticket_operations.add(operation=2, tickets_total_count=0, tickets_count=0)
    set_money(t.tickets_sum, 0)                                    # optional fields 6..9 absent
    assert zcheck.compare(a, b) == []
    set_money(b.operations.add(operation=2, count=1).sum, 500)     # the same key twice
    assert zcheck.compare(a, b) == [["operations[SELL].count", 1, 2], ["operations[SELL].duplicates", 0, 1],
                                    ["operations[SELL].sum", 500, 1000]]
    a.checksum, b.checksum = "00000000", "f" * 64                  # algorithm unspecified: ignored
    set_dt(b.date_time, at(21))                                    # the server has no own reading
    assert [d[0] for d in zcheck.compare(a, b)] == ["operations[SELL].count", "operations[SELL].duplicates",
                                                    "operations[SELL].sum"]
    r = zcheck.check(a, b, fr_shift_number=4)
    assert r["status"] == "differs" and r["differences"][-1] == ["close_shift.fr_shift_number", 4, 3]
    assert zcheck.check(None, b)["status"] == "absent"


# ---------------------------------------------------------------- hand-built requests

def test_kz22_hand_built_z_that_agrees_matches_in_any_order():
    with Sim() as sim:
        tickets = sale_requests()
        ses = run_day(sim, tickets)
        _, r = ses.send(build.close_shift(at(20), z_report=device_z(tickets, at(20)), fr_shift_number=1))
        assert r.result.result_code == 0 and r.report.zx_report.shift_number == 1
        (z,) = z_rows(sim)
        assert z["zcheck_status"] == "matches"
        assert json.loads(z["zcheck"]) == {"status": "matches", "count": 0, "differences": []}
        assert sim.server.ofd.stats["z_matches"] == 1


def test_kz22_wrong_cash_sum_is_accepted_and_shows_differs_with_the_field(caplog):
    caplog.set_level(logging.WARNING, logger="ofdsim")
    with Sim() as sim:
        tickets = sale_requests()
        ses = run_day(sim, tickets)
        dz = device_z(tickets, at(20))
        set_money(dz.cash_sum, tiyn(dz.cash_sum) + 1000)
        _, r = ses.send(build.close_shift(at(20), z_report=dz, fr_shift_number=1))
        # a real OFD accepts it and answers with its own Z
        assert r.result.result_code == 0 and tiyn(r.report.zx_report.cash_sum) == DEPOSIT + 90000 + 18000
        (z,) = z_rows(sim)
        assert z["zcheck_status"] == "differs"
        assert json.loads(z["zcheck"])["differences"] == [["cash_sum", 119000, 118000]]
        # the admin API (JSON) and the register page show it
        api = json.loads(get(sim.http + "/admin/registers/%d/zreports" % sim.kkm_id))
        assert [(a["shift_number"], a["zcheck"], a["differences"]) for a in api] == \
            [(1, "differs", [["cash_sum", 119000, 118000]])]
        page = get(sim.http + "/registers/%d" % sim.kkm_id)
        row = re.search(r'<tr data-shift="1">.*?</table></td></tr>', page, re.S).group(0)
        assert 'data-zcheck="differs"' in row and '<tr data-path="cash_sum"><td>cash_sum</td>' in row
        # money in tenge on the page (the admin API keeps tiyn)
        assert "<td class=\"num\">1 190.00</td><td class=\"num\">1 180.00</td>" in row
        index = get(sim.http + "/")
        assert 'data-z="1" data-z-differs="1"' in index
        assert sim.server.ofd.stats["z_differs"] == 1
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert lines == ["kkm 203539 shift 1: the register's Z differs from the OFD's in 1 field(s): "
                     "cash_sum device=119000 server=118000"]


def test_kz22_lost_ticket_shows_every_counter_it_touches():
    # the register counted three sales, the OFD received two (the 11:00 one was lost)
    with Sim() as sim:
        tickets = sale_requests()
        ses = run_day(sim, tickets[:2])
        _, r = ses.send(build.close_shift(at(20), z_report=device_z(tickets, at(20))))
        assert r.result.result_code == 0
        (z,) = z_rows(sim)
        diffs = json.loads(z["zcheck"])["differences"]
        assert z["zcheck_status"] == "differs"
        lost = 18000
        vat = [vat16(v) for v in (36000, 54000, 36000, lost)]  # the lines' VAT as build.ticket sends it
        assert diffs == [
            ["cash_sum", DEPOSIT + 90000 + lost, DEPOSIT + 90000],
            ["non_nullable_sums[SELL].sum", 144000, 126000],
            ["operations[SELL].count", 4, 3],
            ["operations[SELL].sum", 144000, 126000],
            ["revenue", 144000, 126000],
            ["sections[1].operations[SELL].count", 3, 2],
            ["sections[1].operations[SELL].sum", 90000, 72000],
            ["taxes[100/16000].operations[SELL].sum", sum(vat), sum(vat[:3])],
            ["taxes[100/16000].operations[SELL].turnover", 144000, 126000],
            ["taxes[100/16000].operations[SELL].turnover_without_tax", 144000 - sum(vat), 126000 - sum(vat[:3])],
            ["ticket_operations[SELL].payments[CASH].count", 2, 1],
            ["ticket_operations[SELL].payments[CASH].sum", 108000, 90000],
            ["ticket_operations[SELL].tickets_count", 3, 2],
            ["ticket_operations[SELL].tickets_sum", 144000, 126000],
            ["ticket_operations[SELL].tickets_total_count", 3, 2],
            ["total_result[SELL].count", 3, 2],
            ["total_result[SELL].sum", 144000, 126000],
        ]


def test_kz22_reject_switch_answers_13_and_stores_nothing_new():
    with Sim(reject_z_mismatch=True) as sim:
        tickets = sale_requests()
        ses = run_day(sim, tickets)
        counts = {t: sim.store("count", t) for t in ("tickets", "money_placements", "z_reports")}
        token = ses.token
        dz = device_z(tickets, at(20))
        set_money(dz.cash_sum, 1)
        # withdraw_money too: the OFD's Z counts the withdrawal it makes (118000, the drawer is
        # empty after it), this register's Z does not; the withdrawal is rolled back with the Z
        h, r = ses.send(build.close_shift(at(20), withdraw_money=True, z_report=dz))
        assert r.result.result_code == 13
        assert r.result.result_text.endswith(
            ": Z differs: cash_sum device=1 server=0; money_placements[WITHDRAWAL].operations_count device=0 server=1;"
            " money_placements[WITHDRAWAL].operations_sum device=0 server=118000;"
            " money_placements[WITHDRAWAL].operations_total_count device=0 server=1")
        assert h.token == token and not r.HasField("report")
        assert {t: sim.store("count", t) for t in counts} == counts
        assert sim.store("current_shift", sim.kkm_id)[0] == 1 and sim.store("cash", sim.kkm_id) == 118000
        assert sim.server.ofd.stats["z_rejected"] == 1
        # the register's resend (same TOKEN and REQNUM) gets the same 13, still nothing stored
        h2, r2 = ses.send(build.close_shift(at(20), withdraw_money=True, z_report=dz), reqnum=ses.reqnum)
        assert r2.result.result_code == 13 and sim.store("count", "z_reports") == 0
        # a right Z passes; the switch can be turned off through the admin API
        _, r = ses.send(build.close_shift(at(20), z_report=device_z(tickets, at(20))))
        assert r.result.result_code == 0 and z_rows(sim)[0]["zcheck_status"] == "matches"
        assert post(sim.http + "/admin/settings", {"reject_z_mismatch": False}) == {"reject_z_mismatch": False}
        assert sim.server.ofd.reject_z_mismatch is False
        ses.send(build.ticket(at(9, day=3), SALES[2][1]))
        # a Z that forgets the first shift's tickets in its never-reset counters now passes, stored as differs
        bad = device_z([tickets[2]], at(20, day=3), deposit=0, opened=at(9, day=3), shift=2)
        _, r = ses.send(build.close_shift(at(20, day=3), z_report=bad))
        assert r.result.result_code == 0
        diffs = json.loads(z_rows(sim)[1]["zcheck"])["differences"]
        assert ["ticket_operations[SELL].tickets_total_count", 1, 4] in diffs


def test_close_shift_without_z_report_is_stored_as_absent():
    with Sim(reject_z_mismatch=True) as sim:
        ses = run_day(sim, sale_requests()[:1])
        assert ses.send(build.close_shift(at(20)))[1].result.result_code == 0
        assert z_rows(sim)[0]["zcheck_status"] == "absent"
        assert 'data-zcheck="absent"' in get(sim.http + "/registers/%d" % sim.kkm_id)


# ---------------------------------------------------------------- old database

OLD_Z_TABLE = """
CREATE TABLE z_reports (
  id INTEGER PRIMARY KEY,
  kkm_id INTEGER NOT NULL,
  exchange_id INTEGER NOT NULL,
  shift_number INTEGER NOT NULL,
  opened_at TEXT NOT NULL,
  closed_at TEXT NOT NULL,
  offline INTEGER NOT NULL,
  report BLOB NOT NULL,
  received_at TEXT NOT NULL,
  retain_until TEXT NOT NULL,
  UNIQUE (kkm_id, shift_number)
);
CREATE TRIGGER no_update_z_reports BEFORE UPDATE ON z_reports BEGIN SELECT RAISE(ABORT, 'no update'); END;
"""


def test_old_database_without_the_new_columns_opens_and_keeps_working(tmp_path):
    db_path = str(tmp_path / "old.sqlite")
    # a database made before the comparison existed: z_reports without its columns, one Z in it
    old = sqlite3.connect(db_path)
    old.executescript(OLD_Z_TABLE)
    old.execute("INSERT INTO z_reports(kkm_id, exchange_id, shift_number, opened_at, closed_at, offline, report,"
                " received_at, retain_until) VALUES (203539, 1, 1, '2026-03-01T09:00:00', '2026-03-01T20:00:00',"
                " 0, x'', '2026-03-01T15:00:00Z', '2031-03-01')")
    old.commit()
    old.close()
    st = Store(db_path)
    try:
        register_sample(st)
        cols = {r[1] for r in st.db.execute("PRAGMA table_info(z_reports)")}
        assert {"zcheck_status", "zcheck"} <= cols
        (row,) = st.z_reports(203539)
        assert Store.zcheck_of(row) is None and row["shift_number"] == 1
        assert st.z_checks(203539) == [{"shift_number": 1, "opened_at": "2026-03-01T09:00:00",
                                        "closed_at": "2026-03-01T20:00:00", "offline": False, "exchange_id": 1,
                                        "zcheck": "not checked", "count": 0, "differences": []}]
        with pytest.raises(sqlite3.DatabaseError):
            st.db.execute("UPDATE z_reports SET zcheck='x'")   # still append-only
    finally:
        st.close()
    # opening it again changes nothing; a running simulator serves it and checks the next Z
    Store(db_path).close()
    with Sim(db_path=db_path) as sim:
        page = get(sim.http + "/registers/%d" % sim.kkm_id)
        assert 'data-zcheck="not-checked"' in page
        tickets = [build.ticket(at(9), SALES[2][1])]
        ses = sim.session()
        ses.send(tickets[0])
        _, r = ses.send(build.close_shift(at(20), z_report=device_z(tickets, at(20), deposit=0, opened=at(9),
                                                                      shift=2)))
        assert r.result.result_code == 0
        rows = z_rows(sim)
        assert [(z["shift_number"], z["zcheck_status"]) for z in rows] == [(1, None), (2, "matches")]
        page = get(sim.http + "/registers/%d" % sim.kkm_id)
        assert 'data-zcheck="not-checked"' in page and 'data-zcheck="matches"' in page


# ---------------------------------------------------------------- CLI

def test_cli_reject_flag_settings_and_zreports(tmp_path):
    db = str(tmp_path / "ofd.sqlite")
    p = subprocess.Popen([sys.executable, "-m", "tools.ofdsim", "--db", db, "--port", "0", "--http", "0",
                          "--reject-z-mismatch"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        m = re.search(r"web http://\S+:(\d+)/", line)
        assert m, line + p.stderr.read()
        admin = "http://127.0.0.1:%s" % m.group(1)

        def cli(*args):
            r = subprocess.run([sys.executable, "-m", "tools.ofdsim"] + list(args) + ["--admin", admin], cwd=ROOT,
                               capture_output=True, text=True, timeout=30)
            return r.returncode, json.loads(r.stdout)

        assert cli("settings") == (0, {"reject_z_mismatch": True})
        assert cli("settings", "--reject-z-mismatch", "off") == (0, {"reject_z_mismatch": False})
        assert json.loads(get(admin + "/admin/status"))["settings"] == {"reject_z_mismatch": False}
        post(admin + "/admin/registers", {"kkm_id": 7, "rnm": "010100000007", "serial": "SN7", "title": "T",
                                          "bin": "123456789012", "address": "A", "token": 5})
        assert cli("zreports", "--kkm-id", "7") == (0, [])
        rc, _ = cli("zreports", "--kkm-id", "8")
        assert rc == 1
    finally:
        p.terminate()
        p.wait(20)


# ---------------------------------------------------------------- the real register

def _sim_register(tmp_path):
    sys.path.insert(0, ROOT)
    from tools import regshell as S
    out = io.StringIO()
    return S, S.SimRegister(str(tmp_path / "var"), out), out


def _run(S, sr, out, lines):
    assert S.run(sr, lines) == 0, out.getvalue()[-3000:]


def test_kz22_real_register_day_ends_with_a_z_that_matches(tmp_path):
    # the register core, its journal and counters, ofd.port and the real
    # client over TCP against the simulator: every counter of the Z it sends
    # agrees with what the OFD received
    S, sr, out = _sim_register(tmp_path)
    try:
        _run(S, sr, out, ["login 1 1234", "deposit 5000",
                          "sale 4870001000011 180 2", "sale Яблоки 650.50 1.5", "discount 50", "pay cash 2000",
                          "sale Нан 250 2", "sale Сүт 540 1", "pay card 500", "pay cash 600",
                          "sale Су 120 3", "pay mobile 360"])
        sign = re.findall(r"journal \d+\): fiscal sign (\d+)", out.getvalue())[0]
        _run(S, sr, out, ["return %s" % sign, "withdraw 300", "x", "z",
                          "login 1 1234", "sale Нан 250 4", "discount 100", "pay cash 1000", "z"])
        http = "http://127.0.0.1:%d" % sr.sim.http_port
        api = json.loads(get(http + "/admin/registers/%d/zreports" % sr.kkm_id))
        assert [(z["shift_number"], z["zcheck"], z["differences"]) for z in api] == \
            [(1, "matches", []), (2, "matches", [])]
        page = get(http + "/registers/%d" % sr.kkm_id)
        assert page.count('data-zcheck="matches"') == 2 and 'data-zcheck="differs"' not in page
        db = sqlite3.connect(os.path.join(str(tmp_path / "var"), "ofd.sqlite"))
        ops = [r[0] for r in db.execute("SELECT operation FROM tickets ORDER BY seq")]
        db.close()
        assert ops == [2, 2, 2, 3, 2]   # sells, the return, the next shift's sale
    finally:
        sr.close()


def _offline_shift(tmp_path):
    S, sr, out = _sim_register(tmp_path)
    try:
        _run(S, sr, out, ["login 1 1234", "sale Нан 250 2", "pay cash 500", "z",
                          "login 1 1234", "fault refuse", "sale Нан 250 4", "discount 100", "pay cash 1000",
                          "deposit 100", "z", "fault clear", "sync"])
        assert sr.acc.unacked() == []
        http = "http://127.0.0.1:%d" % sr.sim.http_port
        return json.loads(get(http + "/admin/registers/%d/zreports" % sr.kkm_id))
    finally:
        sr.close()


def test_kz22_offline_closed_shift_replayed_counters_match(tmp_path):
    api = _offline_shift(tmp_path)
    assert [(z["shift_number"], z["offline"]) for z in api] == [(1, False), (2, True)]
    assert api[0]["zcheck"] == "matches"
    # every counter of the replayed Z agrees (the opening time too: next test)
    assert [d for d in api[1]["differences"] if d[0] != "open_shift_time"] == []


def test_kz22_offline_closed_shift_replayed_z_matches_entirely(tmp_path):
    # the Z record carries the shift's open time (kkm.records.z_body): the
    # Z sent from the queue after the shift's documents were acknowledged
    # has the same open_shift_time as the OFD's
    api = _offline_shift(tmp_path)
    assert api[1]["zcheck"] == "matches", api[1]["differences"]


def test_register_text_in_field_paths_cannot_forge_or_flood_log_lines(caplog):
    # section codes are the register's text: a line break in one must not
    # start a forged log line, and a long one must not make a huge line
    caplog.set_level(logging.WARNING, logger="ofdsim")
    forged = "1\n2026-03-02 20:00:00 kkm 203539 shift 1: the register's Z matches\r"
    with Sim() as sim:
        tickets = sale_requests()
        ses = run_day(sim, tickets)
        dz = device_z(tickets, at(20))
        for code in (forged, "7" * 5000):
            o = dz.sections.add(section_code=code).operations.add(operation=SELL, count=1)
            set_money(o.sum, 100)
        _, r = ses.send(build.close_shift(at(20), z_report=dz))
        assert r.result.result_code == 0
        stored = json.loads(z_rows(sim)[0]["zcheck"])["differences"]
        assert ["sections[%s].operations[SELL].count" % forged, 1, 0] in stored   # kept as sent
        page = get(sim.http + "/registers/%d" % sim.kkm_id)
        assert "<tr data-path=\"sections[1\n2026" in page                        # escaped, not cut
    (line,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "\n" not in line and "\r" not in line and len(line) < 2000, line[:300]
    assert "sections[1\\n2026-03-02" in line
