"""Simulated OFD: a REPORT X request carries the register's X
(ReportRequest.zx_report, PROTOCOL.md section 8); the OFD compares it with
its own X of the open shift (zcheck.check_x: the Z check's normalisation,
without the fields only a Z has), logs a warning line on a difference,
keeps the last X check per register (admin API, register page) and never
refuses an X for a difference. The register page shows differing money in
tenge and counts as counts, checked in headless Chromium too."""

import io
import json
import logging
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tools.ofdsim import browser, build, zcheck
from tools.ofdsim.pbutil import pb, set_dt, set_money, tiyn
from tools.ofdsim.testkit import Sim, at, get_text as get

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
needs_chromium = pytest.mark.skipif(browser.chromium() is None,
                                    reason="chromium not installed (make setup runs tools/setup_system.sh)")
LINE = [("Нан / Хлеб", 2000, 18000, "1")]      # 360.00 in cash
DEPOSIT = 10000


def x_request(when, zx):
    r = build.report("x", when)
    r.report.zx_report.CopyFrom(zx)
    return r


def server_x(ses, when):
    """The OFD's X now, as a register that counted the same would send it (an X has no close time)."""
    _, r = ses.send(build.report("x", when))
    z = pb().ZXReport()
    z.CopyFrom(r.report.zx_report)
    z.checksum = "a register's own checksum"
    return z


def day(sim):
    ses = sim.session()
    assert ses.send(build.money_placement(at(8), DEPOSIT))[1].result.result_code == 0
    assert ses.send(build.ticket(at(9), LINE))[1].result.result_code == 0
    return ses


def xcheck(sim):
    return json.loads(get(sim.http + "/admin/registers/%d/xcheck" % sim.kkm_id))


# ---------------------------------------------------------------- unit level

def test_check_x_skips_what_only_a_z_has_and_compares_the_rest():
    p = pb()
    a, b = p.ZXReport(), p.ZXReport()
    for z in (a, b):
        set_dt(z.date_time, at(12))
        z.shift_number = 2
        set_money(z.cash_sum, 46000)
        set_money(z.revenue.sum, 36000)
        set_dt(z.open_shift_time, at(8))
    set_dt(a.close_shift_time, at(12))             # only a Z has it: not compared for an X
    a.checksum, b.checksum = "1234abcd", "f" * 64
    set_dt(b.date_time, at(12, 1))
    assert zcheck.check_x(a, b) == {"status": "matches", "count": 0, "differences": []}
    # the Z check does compare the close time
    assert zcheck.compare(a, b) == [["close_shift_time", "2026-03-02T12:00:00", None]]
    set_money(a.cash_sum, 146000)
    b.ticket_operations.add(operation=2, tickets_total_count=1, tickets_count=1)
    set_money(b.ticket_operations[0].tickets_sum, 36000)
    r = zcheck.check_x(a, b)
    assert r == {"status": "differs", "count": 4, "differences": [
        ["cash_sum", 146000, 46000], ["ticket_operations[SELL].tickets_count", 0, 1],
        ["ticket_operations[SELL].tickets_sum", 0, 36000], ["ticket_operations[SELL].tickets_total_count", 0, 1]]}
    assert zcheck.check_x(None, b)["status"] == "absent"


def test_values_for_people_money_in_tenge_counts_as_counts():
    assert zcheck.tenge(119000) == "1 190.00" and zcheck.tenge(5) == "0.05" and zcheck.tenge(0) == "0.00"
    assert zcheck.tenge(-123456789) == "-1 234 567.89" and zcheck.tenge(100000000) == "1 000 000.00"
    assert zcheck.display("cash_sum", 119000) == "1 190.00"
    assert zcheck.display("revenue", -500) == "-5.00"
    assert zcheck.display("taxes[100/16000].operations[SELL].turnover_without_tax", 100) == "1.00"
    assert zcheck.display("sections[1.5].operations[SELL].sum", 2500) == "25.00"
    assert zcheck.display("money_placements[DEPOSIT].operations_sum", 1000000) == "10 000.00"
    assert zcheck.display("ticket_operations[SELL].payments[CASH].count", 1200) == "1200"
    assert zcheck.display("ticket_operations[SELL].tickets_total_count", 3) == "3"
    assert zcheck.display("operations[SELL].duplicates", 1) == "1"
    assert zcheck.display("close_shift.fr_shift_number", 4) == "4"
    assert zcheck.display("open_shift_time", "2026-03-02T08:00:00") == "2026-03-02T08:00:00"
    assert zcheck.display("open_shift_time", None) is None


# ---------------------------------------------------------------- hand-built requests

def test_x_that_differs_is_answered_logged_kept_and_shown(caplog):
    caplog.set_level(logging.WARNING, logger="ofdsim")
    with Sim(reject_z_mismatch=True) as sim:       # the Z switch does not touch an X
        ses = day(sim)
        assert xcheck(sim) is None
        assert 'data-xcheck="none"' in get(sim.http + "/registers/%d" % sim.kkm_id)
        x = server_x(ses, at(12))                   # sent without the register's X: "absent"
        assert xcheck(sim)["xcheck"] == "absent"
        set_money(x.cash_sum, tiyn(x.cash_sum) + 100000)
        to = {t.operation: t for t in x.ticket_operations}[2]
        to.tickets_count += 1
        h, r = ses.send(x_request(at(12, 30), x))
        assert r.result.result_code == 0 and r.report.report == 1
        assert tiyn(r.report.zx_report.cash_sum) == DEPOSIT + 36000   # the OFD's own X
        c = xcheck(sim)
        assert (c["shift_number"], c["report_time"], c["xcheck"], c["count"]) == (1, "2026-03-02T12:30:00",
                                                                                  "differs", 2)
        assert c["differences"] == [["cash_sum", 146000, 46000], ["ticket_operations[SELL].tickets_count", 2, 1]]
        page = get(sim.http + "/registers/%d" % sim.kkm_id)
        sec = re.search(r'<table id="xcheck">.*?</table></td></tr></table>', page, re.S).group(0)
        assert 'data-xcheck="differs"' in sec and "2026-03-02 12:30:00" in sec
        assert ('<tr data-path="cash_sum"><td>cash_sum</td><td class="num">1 460.00</td>'
                '<td class="num">460.00</td></tr>') in sec
        assert ('<tr data-path="ticket_operations[SELL].tickets_count"><td>ticket_operations[SELL].tickets_count'
                '</td><td class="num">2</td><td class="num">1</td></tr>') in sec
        assert sim.server.ofd.stats["x_differs"] == 1 and sim.store("count", "z_reports") == 0
        # a later X that agrees replaces the check: only the last one is kept
        _, r = ses.send(x_request(at(13), server_x(ses, at(13))))
        assert r.result.result_code == 0
        c = xcheck(sim)
        assert (c["report_time"], c["xcheck"], c["differences"]) == ("2026-03-02T13:00:00", "matches", [])
        assert 'data-xcheck="matches"' in get(sim.http + "/registers/%d" % sim.kkm_id)
        assert sim.server.ofd.stats["x_matches"] == 1
        # the CLI wraps the admin API
        p = subprocess.run([sys.executable, "-m", "tools.ofdsim", "xcheck", "--kkm-id", str(sim.kkm_id),
                            "--admin", sim.http], cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert p.returncode == 0 and json.loads(p.stdout)["xcheck"] == "matches"
        assert json.loads(get(sim.http + "/admin/status"))["stats"]["x_differs"] == 1
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert lines == ["kkm 203539 shift 1: the register's X differs from the OFD's in 2 field(s): "
                     "cash_sum device=146000 server=46000; ticket_operations[SELL].tickets_count device=2 server=1"]


def test_x_of_another_register_or_shift_and_the_404():
    with Sim() as sim:
        ses = day(sim)
        x = server_x(ses, at(12))
        x.shift_number = 7
        assert ses.send(x_request(at(12), x))[1].result.result_code == 0
        assert xcheck(sim)["differences"] == [["shift_number", 7, 1]]
        with pytest.raises(urllib.error.HTTPError) as e:
            get(sim.http + "/admin/registers/999/xcheck")
        assert e.value.code == 404


# ---------------------------------------------------------------- the real register

def test_real_register_x_reports_match_in_two_shifts(tmp_path):
    # the register core, its counters and ofd.port over TCP: each X it sends
    # agrees with the OFD's, before any sale, after sales and placements,
    # and in the next shift (counters that run over shifts)
    sys.path.insert(0, ROOT)
    from tools import regshell as S
    out = io.StringIO()
    sr = S.SimRegister(str(tmp_path / "var"), out)
    try:
        http = "http://127.0.0.1:%d" % sr.sim.http_port
        seen = []
        for lines in (["login 1 1234", "x"],
                      ["deposit 5000", "sale Нан 250 2", "pay cash 600", "sale Яблоки 650.50 1.5", "discount 50",
                       "pay cash 2000", "withdraw 100", "sale Су 120 3", "pay card 360", "x"],
                      ["z", "login 1 1234", "sale Нан 250 4", "discount 100", "pay cash 1000", "x"]):
            assert S.run(sr, lines) == 0, out.getvalue()[-3000:]
            c = json.loads(get(http + "/admin/registers/%d/xcheck" % sr.kkm_id))
            assert c["xcheck"] == "matches", c["differences"]
            seen.append((c["exchange_id"], c["shift_number"]))
        assert len(set(seen)) == 3 and [s for _, s in seen] == [1, 1, 2]
        assert 'data-xcheck="matches"' in get(http + "/registers/%d" % sr.kkm_id)
    finally:
        sr.close()


# ---------------------------------------------------------------- in Chromium

@needs_chromium
def test_register_page_in_chromium_shows_differences_in_tenge():
    with Sim() as sim:
        ses = day(sim)
        x = server_x(ses, at(12))
        z = server_x(ses, at(20))                   # (each kept as an "absent" X check)
        set_money(x.cash_sum, 119000)
        assert ses.send(x_request(at(12), x))[1].result.result_code == 0
        z.close_shift_time.CopyFrom(z.date_time)
        z.non_nullable_sums[2].sum.bills += 10000   # +10 000.00 tenge
        assert ses.send(build.close_shift(at(20), z_report=z))[1].result.result_code == 0
        dom = browser.dump_dom(sim.http + "/registers/%d" % sim.kkm_id)
        x_sec = dom[dom.index('<table id="xcheck">'):]
        assert 'data-xcheck="differs"' in x_sec
        assert re.search(r'<tr data-path="cash_sum"><td>cash_sum</td><td class="num">1 190\.00</td>'
                         r'<td class="num">460\.00</td></tr>', x_sec)
        z_sec = dom[dom.index('<table id="zreports">'):dom.index('<table id="xcheck">')]
        assert 'data-zcheck="differs"' in z_sec
        assert ('<td class="num">10 360.00</td><td class="num">360.00</td>' in z_sec), z_sec
        assert "119000" not in dom and "1036000" not in dom
