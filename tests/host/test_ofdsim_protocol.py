"""Simulated OFD: protocol behaviour seen by a device (R-78..R-81, PROTOCOL.md §12, §15)."""

import sqlite3

import pytest

from tools.ofdsim import build, client
from tools.ofdsim.header import frame, parse_header, HEADER_SIZE
from tools.ofdsim.sign import fiscal_sign
from tools.ofdsim.testkit import BIN, RNM, Sim, at

DAY = (2026, 3, 2, 9, 0, 0)
LINE = [("Нан / Хлеб", 2000, 18000, "1")]


@pytest.fixture()
def sim():
    with Sim() as s:
        yield s


def test_r79_duplicate_resend_returns_stored_answer_and_stores_nothing(sim):
    ses = sim.session()
    req = build.ticket(at(9), LINE)
    data = frame(sim.kkm_id, ses.token, 1, req.SerializeToString())
    first = client.raw_exchange("127.0.0.1", sim.port, data)
    tickets = sim.store("count", "tickets")
    exchanges = sim.store("count", "exchanges")
    assert tickets == 1
    # Answer "lost": the device resends the same TOKEN and REQNUM.
    second = client.raw_exchange("127.0.0.1", sim.port, data)
    third = client.raw_exchange("127.0.0.1", sim.port, data)
    assert second == first and third == first
    assert sim.store("count", "tickets") == tickets
    assert sim.store("count", "exchanges") == exchanges
    assert sim.server.ofd.stats["duplicates"] == 2
    # Same REQNUM but other TOKEN -> 8; same REQNUM+TOKEN, other command -> 9.
    head = parse_header(first[:HEADER_SIZE])
    _, r = client.exchange("127.0.0.1", sim.port, sim.kkm_id, head.token, 1, build.system())
    assert r.result.result_code == 8
    _, r = client.exchange("127.0.0.1", sim.port, sim.kkm_id, 1000, 1, build.system())
    assert r.result.result_code == 9
    assert sim.store("count", "tickets") == 1


def test_r79_token_rotates_on_documented_commands_only(sim):
    ses = sim.session()
    t0 = ses.token
    h, r = ses.send(build.system())
    assert r.result.result_code == 0 and h.token == t0          # SYSTEM: never
    h, r = ses.send(build.ticket(at(9), LINE))
    assert r.result.result_code == 0 and h.token != t0          # TICKET: new token
    t1 = h.token
    h, r = ses.send(build.report("x", at(10)))
    assert h.token == t1                                         # REPORT: never
    h, r = ses.send(build.money_placement(at(10, 5), 100000))
    assert r.result.result_code == 0 and h.token != t1           # MONEY_PLACEMENT: new token
    t2 = h.token
    h, r = ses.send(build.close_shift(at(20)))
    assert r.result.result_code == 0 and h.token != t2           # CLOSE_SHIFT: new token
    assert sim.store("kkm", sim.kkm_id)["token"] == h.token      # kept for the next request
    # The old token no longer works: 2 INVALID_TOKEN, nothing stored.
    _, r = client.exchange("127.0.0.1", sim.port, sim.kkm_id, t2, ses.reqnum + 1, build.system())
    assert r.result.result_code == 2


def test_rotate_all_switch():
    with Sim(rotate_all=True) as sim:
        ses = sim.session()
        t0 = ses.token
        h, r = ses.send(build.system())
        assert r.result.result_code == 0 and h.token != t0


def test_header_echoes_id_and_reqnum_and_unknown_id_is_1(sim):
    ses = sim.session()
    h, r = ses.send(build.system(), reqnum=4242)
    assert (h.kkm_id, h.reqnum, h.version) == (sim.kkm_id, 4242, 203)
    _, r = client.exchange("127.0.0.1", sim.port, 999, 1, 1, build.system())
    assert r.result.result_code == 1


def test_reqnum_wraps_and_strict_mode():
    with Sim(strict_reqnum=True) as sim:
        ses = sim.session()
        ses.reqnum = 65534
        assert ses.send(build.system())[1].result.result_code == 0     # 65535
        assert ses.send(build.system())[1].result.result_code == 0     # wraps to 0
        _, r = ses.send(build.system(), reqnum=7)
        assert r.result.result_code == 8


def test_strict_reqnum_counts_requests_answered_with_an_error_too():
    # In strict mode the next number follows the last request the OFD
    # answered, stored or not: after a 15 (blocked), 2 (bad token) or 3 the
    # device's next request (+1) is accepted, and so is a resend of the
    # refused one (same number); a real jump still gets 8.
    with Sim(strict_reqnum=True) as sim:
        ses = sim.session()
        assert ses.send(build.system())[1].result.result_code == 0             # 1
        sim.store("set_blocked", sim.kkm_id, True, "")
        assert ses.send(build.system())[1].result.result_code == 15            # 2, not stored
        sim.store("set_blocked", sim.kkm_id, False, "")
        assert ses.send(build.system())[1].result.result_code == 0             # 3
        good = ses.token
        _, r = ses.send(build.system(), token=good + 1)                        # 4, wrong token
        assert r.result.result_code == 2
        ses.token = good
        assert ses.send(build.system())[1].result.result_code == 0             # 5
        sim.store("set_blocked", sim.kkm_id, True, "")
        assert ses.send(build.ticket(at(9), LINE))[1].result.result_code == 15  # 6
        sim.store("set_blocked", sim.kkm_id, False, "")
        _, r = ses.send(build.ticket(at(9), LINE), reqnum=6)                   # 6 again: processed now
        assert r.result.result_code == 0 and sim.store("count", "tickets") == 1
        _, r = ses.send(build.system(), reqnum=9)                             # jump
        assert r.result.result_code == 8
        _, r = ses.send(build.system(), reqnum=7)
        assert r.result.result_code == 0


def test_r80_fiscal_signs_differ_and_are_reproducible_from_data_and_secret(sim):
    ses = sim.session()
    signs = []
    for i in range(5):
        # identical content, even the same second: the signs must still differ
        _, r = ses.send(build.ticket(at(9), LINE))
        assert r.result.result_code == 0
        signs.append(r.ticket.ticket_number)
    assert len(set(signs)) == 5
    assert all(len(s) == 10 and s.isdigit() for s in signs)
    secret = sim.call(lambda: sim.server.store.secret)
    rows = sim.store("tickets", sim.kkm_id)
    for row, s in zip(rows, signs):
        assert fiscal_sign(secret, sim.kkm_id, row["seq"], row["request"]) == s
        assert row["fiscal_sign"] == s
    assert fiscal_sign(b"other secret", sim.kkm_id, rows[0]["seq"], rows[0]["request"]) != signs[0]


def test_kz35_qr_payload_follows_the_mask(sim):
    ses = sim.session()
    _, r = ses.send(build.ticket((2026, 6, 29, 17, 9, 16), [("Сүт / Молоко", 1000, 69690, "1")]))
    qr = r.ticket.qr_code.decode("utf-8")
    assert qr == "%s/check?i=%s&f=%s&s=696.90&t=20260629T170916" % (sim.http, r.ticket.ticket_number, RNM)


def test_r81_offline_replay_in_order_with_offline_period(sim):
    ses = sim.session()
    period = (at(9), at(12))
    for n, t in ((1, at(9, 30)), (2, at(10)), (3, at(11))):
        _, r = ses.send(build.ticket(t, LINE, offline_number=n, offline_period=period))
        assert r.result.result_code == 0, r
        assert len(r.ticket.ticket_number) == 10
    assert len(sim.store("offline_periods", sim.kkm_id)) == 3
    # out of order (older than the last received document) -> 13, nothing stored
    _, r = ses.send(build.ticket(at(9, 45), LINE, offline_number=4, offline_period=period))
    assert r.result.result_code == 13
    # the same offline number twice -> 13
    _, r = ses.send(build.ticket(at(11, 30), LINE, offline_number=3, offline_period=period))
    assert r.result.result_code == 13
    # offline ticket without the offline period -> 13
    _, r = ses.send(build.ticket(at(11, 40), LINE, offline_number=5))
    assert r.result.result_code == 13
    rows = sim.store("tickets", sim.kkm_id)
    assert [t["offline_number"] for t in rows] == [1, 2, 3]
    # X counts them as offline
    _, r = ses.send(build.report("x", at(12)))
    sell = [t for t in r.report.zx_report.ticket_operations if t.operation == 2][0]
    assert (sell.tickets_count, sell.offline_count) == (3, 3)


def test_kz14_shift_over_24h_answers_11_until_closed_offline_exempt(sim):
    ses = sim.session()
    assert ses.send(build.ticket(at(9), LINE))[1].result.result_code == 0
    assert ses.send(build.ticket(at(9, 0, 0, day=3), LINE))[1].result.result_code == 0   # exactly 24 h
    _, r = ses.send(build.ticket(at(9, 0, 1, day=3), LINE))
    assert r.result.result_code == 11
    _, r = ses.send(build.money_placement(at(10, day=3), 1000))
    assert r.result.result_code == 11
    # offline replay is not refused
    _, r = ses.send(build.ticket(at(9, 30, day=3), LINE, offline_number=1, offline_period=(at(9, day=3), at(10, day=3))))
    assert r.result.result_code == 0
    _, r = ses.send(build.close_shift(at(11, day=3)))
    assert r.result.result_code == 0 and r.report.report == 0
    assert r.report.zx_report.shift_number == 1
    assert ses.send(build.ticket(at(11, 5, day=3), LINE))[1].result.result_code == 0


def test_blocked_register_gets_15_with_info_text_until_unblocked(sim):
    ses = sim.session()
    sim.store("set_blocked", sim.kkm_id, True, "ОФД-ға хабарласыңыз / Обратитесь в ОФД")
    for req in (build.system(get_reg_info=True), build.ticket(at(9), LINE)):
        _, r = ses.send(req)
        assert r.result.result_code == 15
        infos = [a for a in r.service.ticket_ads if a.info.type == 4]
        assert infos and "Обратитесь в ОФД" in infos[0].text
    assert sim.store("count", "tickets") == 0
    sim.store("set_blocked", sim.kkm_id, False, "")
    assert ses.send(build.system(get_reg_info=True))[1].result.result_code == 0


def test_nomenclature_by_barcode_and_version_and_18_for_unknown(sim):
    ses = sim.session()
    _, r = ses.send(build.nomenclature(version=0))
    n = r.nomenclature
    assert r.result.result_code == 0 and n.result == 0
    items = [e for e in n.elements if e.type == 1]
    assert len(items) == 20
    assert any(e.item.is_markedeac for e in items) and any(e.item.measure_fractional for e in items)
    assert any(e.item.ntin and not e.item.barcode for e in items)
    assert all(e.title and e.title_kk for e in n.elements)
    _, r = ses.send(build.nomenclature(version=n.version))
    assert r.nomenclature.result == 1 and not r.nomenclature.elements
    gtin = items[0].item.barcode
    _, r = ses.send(build.nomenclature(barcode=gtin))
    assert r.result.result_code == 0 and r.nomenclature.elements[0].item.barcode == gtin
    _, r = ses.send(build.nomenclature(barcode="4600000000000"))
    assert r.result.result_code == 18 and r.nomenclature.result == 3


def test_system_connection_test_reg_info_and_messages(sim):
    ses = sim.session()
    _, r = ses.send(build.system())
    assert r.result.result_code == 0 and not r.service.ticket_ads
    v1 = sim.store("add_ad", sim.kkm_id, 4, "Сәлем! / Привет!")
    sim.store("add_ad", None, 0, "ОФД жарнамасы / Реклама ОФД")
    _, r = ses.send(build.system(get_reg_info=True))
    assert r.service.reg_info.kkm.fns_kkm_id == RNM
    assert r.service.reg_info.kkm.kkm_id == str(sim.kkm_id)
    assert r.service.reg_info.org.inn == BIN
    assert sorted(a.info.type for a in r.service.ticket_ads) == [0, 4]
    # the device already holds version v1 of the INFO text: only the OFD one comes back
    _, r = ses.send(build.system(ad_versions={4: v1}))
    assert [a.info.type for a in r.service.ticket_ads] == [0]


def test_money_placement_and_14_not_enough_cash(sim):
    ses = sim.session()
    assert ses.send(build.money_placement(at(9), 50000))[1].result.result_code == 0
    assert ses.send(build.ticket(at(9, 5), LINE))[1].result.result_code == 0     # +360.00 cash
    _, r = ses.send(build.money_placement(at(9, 10), 86001, withdrawal=True))
    assert r.result.result_code == 14
    assert ses.send(build.money_placement(at(9, 11), 86000, withdrawal=True))[1].result.result_code == 0
    # a cash sell return with no cash left
    parent = ("1234567890", at(9, 5), RNM, 36000)
    _, r = ses.send(build.ticket(at(9, 20), LINE, operation=3, parent=parent))
    assert r.result.result_code == 14


def test_z_formed_on_server_from_the_shift_tickets(sim):
    ses = sim.session()
    ses.send(build.money_placement(at(8), 10000))
    ses.send(build.ticket(at(9), [("A", 1000, 10000, "1"), ("B", 2000, 5000, "2")]))
    ses.send(build.ticket(at(10), [("C", 1000, 30000, "1")], payments=[(1, 30000)]))
    ses.send(build.ticket(at(11), [("D", 1000, 20000, "1")], discount=2000))
    _, r = ses.send(build.close_shift(at(20), withdraw_money=True))
    z = r.report.zx_report
    assert r.report.report == 0 and z.shift_number == 1
    sell = {o.operation: o for o in z.total_result}[2]
    assert sell.count == 3 and sell.sum.bills == 200 + 300 + 180
    assert {o.operation: o.sum.bills for o in z.discounts}[2] == 20
    top = {t.operation: t for t in z.ticket_operations}[2]
    pays = {p.payment: p.sum.bills for p in top.payments}
    assert pays == {0: 380, 1: 300}
    assert z.cash_sum.bills == 0                    # withdrawn at close
    wd = {m.operation: m for m in z.money_placements}[1]
    assert wd.operations_count == 1 and wd.operations_sum.bills == 100 + 380
    assert not z.revenue.is_negative and z.revenue.sum.bills == 680
    assert {s.section_code for s in z.sections} == {"1", "2"}
    assert len(z.checksum) == 64
    assert z.HasField("close_shift_time") and z.open_shift_time.time.hour == 8
    # next shift: number 2, start non-nullable sums carry on
    ses.send(build.ticket(at(9, day=3), LINE))
    _, r = ses.send(build.report("x", at(10, day=3)))
    x = r.report.zx_report
    assert x.shift_number == 2 and not x.HasField("close_shift_time")
    assert {n.operation: n.sum.bills for n in x.start_shift_non_nullable_sums}[2] == 680
    assert {n.operation: n.sum.bills for n in x.non_nullable_sums}[2] == 680 + 360
    assert {t.operation: t for t in x.ticket_operations}[2].tickets_total_count == 4
    # REPORT Z returns the last Z; INFO returns X while a shift is open
    _, r = ses.send(build.report("z", at(10, day=3)))
    assert r.report.report == 0 and r.report.zx_report.shift_number == 1
    _, r = ses.send(build.info())
    assert r.report.report == 1 and r.report.zx_report.shift_number == 2


def test_z_request_before_any_z_is_empty_with_shift_0(sim):
    _, r = sim.session().send(build.report("z", at(9)))
    assert r.result.result_code == 0 and r.report.zx_report.shift_number == 0


def test_incorrect_data_13_and_same_taxpayer_17(sim):
    ses = sim.session()
    bad = build.ticket(at(9), LINE)
    bad.ticket.amounts.total.bills += 1
    assert ses.send(bad)[1].result.result_code == 13
    _, r = ses.send(build.ticket(at(9), LINE, operation=3))        # return without parent ticket
    assert r.result.result_code == 13
    _, r = ses.send(build.ticket(at(9), LINE, customer_bin=BIN))
    assert r.result.result_code == 17
    assert sim.store("count", "tickets") == 0


def test_protocol_errors_3_4_5(sim):
    ses = sim.session()
    # wrong version -> 3
    data = frame(sim.kkm_id, ses.token, 1, build.system().SerializeToString(), version=124)
    head = parse_header(client.raw_exchange("127.0.0.1", sim.port, data)[:HEADER_SIZE])
    assert head.reqnum == 1
    _, r = client.exchange("127.0.0.1", sim.port, sim.kkm_id, ses.token, 2, b"\x08\x01\x12\x02\xff\xff")
    assert r.result.result_code == 3
    _, r = client.exchange("127.0.0.1", sim.port, sim.kkm_id, ses.token, 3, b"\x08\x2a")
    assert r.result.result_code == 4
    _, r = client.exchange("127.0.0.1", sim.port, sim.kkm_id, ses.token, 4, b"\x08\x07")
    assert r.result.result_code == 5


def test_every_result_code_can_be_produced_on_purpose(sim):
    ses = sim.session()
    for code in list(range(19)) + [254, 255]:
        sim.call(sim.server.add_fault, {"kind": "result", "code": code, "count": 1})
        h, r = ses.send(build.ticket(at(9), LINE))
        assert r.result.result_code == code
        assert h.token == ses.token
    assert sim.store("count", "tickets") == 0
    assert ses.send(build.ticket(at(9), LINE))[1].result.result_code == 0


def test_r79_fiscal_tables_have_no_update_or_delete_path(sim):
    ses = sim.session()
    ses.send(build.money_placement(at(8), 1000))
    ses.send(build.ticket(at(9), LINE))
    ses.send(build.close_shift(at(20)))
    db = sqlite3.connect(sim.db_path)
    try:
        for stmt in ("DELETE FROM tickets", "UPDATE tickets SET total=0", "DELETE FROM exchanges",
                     "UPDATE z_reports SET report=x''", "DELETE FROM money_placements"):
            with pytest.raises(sqlite3.DatabaseError):
                db.execute(stmt)
        row = db.execute("SELECT received_at, retain_until FROM tickets").fetchone()
        assert int(row[1][:4]) - int(row[0][:4]) == 5
    finally:
        db.close()
    assert sim.store("count", "tickets") == 1
