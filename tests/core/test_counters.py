# Shift counters vs PROTOCOL.md §8 (ZXReport shape and counter rules),
# KZ-31.2 cashier report, KZ-31.3 section report, KZ-31.4/31.5 offline X/Z
# from the register's own counters, never-reset totals across shifts.
from compat import unix_from_civil
from kkm import document as D
from kkm import doccodec as DC
from kkm import tax
from kkm.counters import ShiftCounters, REPORT_X, REPORT_Z, decode_z_summary, cash_delta, report_checksum
from kkm.document import Line, Payment, Parent, Receipt, Placement

TABLE = tax.default_table()
T0 = unix_from_civil(2026, 3, 2, 9, 0, 0)


def _r(op, cashier=1, lines=((100000, 1000, 1, 1, 0, 0),), pays=None, tendered=None, table=TABLE):
    r = Receipt(op, cashier)
    for price, qty, section, tax_code, disc, mark in lines:
        r.add_line(Line("Тауар", price, qty, D.UNIT_PIECE if qty % 1000 == 0 else D.UNIT_KG, section, tax_code,
                        discount=disc, markup=mark))
    if pays is None:
        r.add_payment(Payment(D.PAY_CASH, r.total(), tendered))
    else:
        for kind, amount in pays:
            r.add_payment(Payment(kind, amount))
    if D.is_return(op):
        r.set_parent(Parent("123", T0 - 100, 10 ** 9, False, "010101234567"))
    r.validate(table, None, "Айгүл", 5 * 3600)  # stamps the rates of `table` in the receipt
    return r


def _money(tiyn):
    return {"bills": tiyn // 100, "coins": tiyn % 100}


def _shift():
    c = ShiftCounters()
    c.add_placement(Placement(D.DEPOSIT, 1000000, 1), False)  # 10 000.00 float
    c.add_receipt(_r(D.OP_SELL, 1, ((100000, 2000, 1, 1, 5000, 0), (123456, 333, 2, 2, 0, 0)),
                     tendered=300000), False, TABLE)
    c.add_receipt(_r(D.OP_SELL, 2, ((50000, 1000, 2, 1, 0, 1000),),
                     pays=((D.PAY_CARD, 30000), (D.PAY_MOBILE, 21000))), True, TABLE)
    c.add_receipt(_r(D.OP_SELL_RETURN, 1, ((50000, 1000, 1, 1, 0, 0),)), False, TABLE)
    c.add_receipt(_r(D.OP_BUY, 2, ((70000, 1000, 3, 3, 0, 0),)), False, TABLE)
    c.add_receipt(_r(D.OP_BUY_RETURN, 2, ((20000, 1000, 3, 3, 0, 0),)), True, TABLE)
    c.add_placement(Placement(D.WITHDRAWAL, 300000, 2), True)
    return c


def test_operations_discounts_markups_total_result_n4():
    c = _shift()
    z = c.zx_report(REPORT_X, 5, T0 + 3600, T0)
    for key in ("operations", "discounts", "markups", "total_result", "ticket_operations",
                "start_shift_non_nullable_sums", "non_nullable_sums"):
        assert [e["operation"] for e in z[key]] == [0, 1, 2, 3], key
    ops = z["operations"]
    assert ops[2] == {"operation": 2, "count": 3, "sum": _money(200000 + 41111 + 50000)}
    assert ops[3] == {"operation": 3, "count": 1, "sum": _money(50000)}
    assert ops[0]["count"] == 1 and ops[1]["count"] == 1
    assert z["discounts"][2] == {"operation": 2, "count": 1, "sum": _money(5000)}
    assert z["markups"][2] == {"operation": 2, "count": 1, "sum": _money(1000)}
    # total_result = operations - discounts + markups, count = receipts
    assert z["total_result"][2] == {"operation": 2, "count": 2, "sum": _money(291111 - 5000 + 1000)}
    assert z["money_placements"] == [
        {"operation": 0, "operations_total_count": 1, "operations_count": 1, "operations_sum": _money(1000000),
         "offline_count": 0},
        {"operation": 1, "operations_total_count": 1, "operations_count": 1, "operations_sum": _money(300000),
         "offline_count": 1}]


def test_ticket_operations_payments_change_offline():
    c = _shift()
    tk = c.zx_report(REPORT_X, 5, T0 + 60, T0)["ticket_operations"]
    sell = tk[2]
    assert sell["tickets_total_count"] == 2 and sell["tickets_count"] == 2
    assert sell["tickets_sum"] == _money(236111 + 51000)
    assert sell["payments"] == [{"payment": 0, "sum": _money(236111), "count": 1},
                                {"payment": 1, "sum": _money(30000), "count": 1},
                                {"payment": 4, "sum": _money(21000), "count": 1}]
    assert sell["offline_count"] == 1
    assert sell["discount_sum"] == _money(5000) and sell["markup_sum"] == _money(1000)
    assert sell["change_sum"] == _money(300000 - 236111)
    assert tk[1]["offline_count"] == 1 and tk[0]["offline_count"] == 0
    assert c.offline_count() == 3


def test_cash_in_drawer_and_revenue():
    c = _shift()
    # deposit + cash sale - cash sell return - cash buy + cash buy return - withdrawal
    cash = 1000000 + 236111 - 50000 - 70000 + 20000 - 300000
    assert c.cash == cash
    z = c.zx_report(REPORT_X, 5, T0, T0)
    assert z["cash_sum"] == _money(cash)
    rev = 236111 + 51000 - 50000 - 70000 + 20000
    assert c.revenue == rev
    assert z["revenue"] == {"sum": _money(rev), "is_negative": False}
    d = ShiftCounters()
    d.add_receipt(_r(D.OP_BUY), False, TABLE)
    assert d.zx_report(REPORT_X, 1, T0, T0)["revenue"] == {"sum": _money(100000), "is_negative": True}
    assert cash_delta(Placement(D.WITHDRAWAL, 5, 1)) == -5


def test_taxes_per_percent_with_turnover():
    c = _shift()
    taxes = c.zx_report(REPORT_X, 5, T0, T0)["taxes"]
    assert [t["percent"] for t in taxes] == [5000, 16000]  # exempt group 3 is not a VAT entry
    t16 = taxes[1]
    assert t16["tax_type"] == 100
    sell = t16["operations"][2]
    # lines 195 000 (1 950.00 -> VAT 268.97) and 51 000 (510.00 -> 70.34)
    assert sell == {"operation": 2, "turnover": _money(246000), "sum": _money(26897 + 7034),
                    "turnover_without_tax": _money(246000 - 26897 - 7034)}
    assert taxes[0]["operations"][2]["sum"] == _money(1958)
    groups = dict(c.by_tax_group())
    assert groups[3][0] == (70000, 0)


def test_non_vat_payer_reports_no_taxes():
    c = ShiftCounters()
    nonpayer = tax.default_table(vat_payer=False)
    c.add_receipt(_r(D.OP_SELL, table=nonpayer), False)
    assert c.zx_report(REPORT_X, 1, T0, T0)["taxes"] == []


def test_kz_43_2_counters_use_the_rates_stamped_in_the_receipt():
    # the receipt was fiscalised at 5 % (medicines, 2026); the table given
    # now says 10 % (2027, or re-programmed groups): the stamp wins
    r = _r(D.OP_SELL, lines=((10500, 1000, 1, 2, 0, 0),))
    assert [ln.percent for ln in r.lines] == [5000] and r.vat_payer is True
    c = ShiftCounters()
    c.add_receipt(DC.decode_receipt(DC.encode_receipt(r)), False, tax.default_table(year=2027))
    assert c.taxes == {5000: [[0, 0], [0, 0], [10500, 500], [0, 0]]}


def test_kz_31_2_and_31_3_cashier_and_section_reports():
    c = _shift()
    cashiers = c.by_cashier()
    assert [row[0] for row in cashiers] == [1, 2]
    assert cashiers[0][1][2] == (1, 236111) and cashiers[0][1][3] == (1, 50000)
    assert cashiers[0][2] == [(1, 1000000), (0, 0)]
    assert cashiers[1][1][2] == (1, 51000) and cashiers[1][2] == [(0, 0), (1, 300000)]
    sections = c.by_section()
    assert [row[0] for row in sections] == [1, 2, 3]
    assert sections[0][1][2] == (1, 200000) and sections[0][1][3] == (1, 50000)
    assert sections[1][1][2] == (2, 41111 + 50000)
    z = c.zx_report(REPORT_X, 5, T0, T0)
    assert [s["section_code"] for s in z["sections"]] == ["1", "2", "3"]
    assert z["sections"][2]["operations"] == [{"operation": 0, "count": 1, "sum": _money(70000)},
                                              {"operation": 1, "count": 1, "sum": _money(20000)}]


def test_x_and_z_dates_and_checksum():
    c = _shift()
    x = c.zx_report(REPORT_X, 5, unix_from_civil(2026, 3, 2, 23, 59, 59), T0)
    assert "close_shift_time" not in x
    assert x["date_time"] == {"date": {"year": 2026, "month": 3, "day": 2},
                              "time": {"hour": 23, "minute": 59, "second": 59}}
    assert x["open_shift_time"]["time"] == {"hour": 9, "minute": 0, "second": 0}
    z = c.zx_report(REPORT_Z, 5, unix_from_civil(2026, 3, 3, 0, 0, 0), T0)
    assert z["close_shift_time"] == {"date": {"year": 2026, "month": 3, "day": 3},
                                     "time": {"hour": 0, "minute": 0, "second": 0}}
    assert z["shift_number"] == 5
    assert len(z["checksum"]) == 8 and z["checksum"] == report_checksum(z)
    z2 = c.zx_report(REPORT_Z, 5, unix_from_civil(2026, 3, 3, 0, 0, 0), T0)
    assert z2["checksum"] == z["checksum"]
    z2["cash_sum"]["coins"] += 1
    assert report_checksum(z2) != z["checksum"]


def test_never_reset_totals_carry_into_next_shift():
    c = _shift()
    nn = list(c.nn)
    n = c.next_shift()
    z = n.zx_report(REPORT_X, 6, T0 + 86400, T0 + 86400)
    assert [e["sum"] for e in z["start_shift_non_nullable_sums"]] == [_money(v) for v in nn]
    assert [e["sum"] for e in z["non_nullable_sums"]] == [_money(v) for v in nn]
    assert z["ticket_operations"][2]["tickets_count"] == 0
    assert z["ticket_operations"][2]["tickets_total_count"] == 2
    assert z["money_placements"][0]["operations_total_count"] == 1
    assert z["money_placements"][0]["operations_count"] == 0
    assert z["operations"][2]["count"] == 0 and z["sections"] == [] and z["taxes"] == []
    assert n.cash == c.cash and n.cash_start == c.cash  # drawer cash stays
    n.add_receipt(_r(D.OP_SELL), False, TABLE)
    assert n.nn[2] == nn[2] + 100000
    for op in range(4):
        assert n.nn[op] >= nn[op]


def test_encode_decode_checkpoint_round_trip():
    c = _shift()
    b = c.encode()
    d = ShiftCounters.decode(b)
    assert d == c
    assert d.zx_report(REPORT_Z, 5, T0 + 9, T0) == c.zx_report(REPORT_Z, 5, T0 + 9, T0)
    assert ShiftCounters.decode(ShiftCounters().encode()) == ShiftCounters()
    for bad in (b[:-1], b + b"\x00", b"\x09" + b[1:]):
        try:
            ShiftCounters.decode(bad)
        except ValueError:
            pass
        else:
            raise AssertionError("damaged counters accepted")
    # negative revenue and cash survive the round trip
    e = ShiftCounters()
    e.add_receipt(_r(D.OP_BUY), False, TABLE)
    assert ShiftCounters.decode(e.encode()).revenue == -100000
    assert ShiftCounters.decode(e.encode()).cash == -100000


def test_z_summary_is_small_and_decodes():
    c = _shift()
    for i in range(40):
        c.add_receipt(_r(D.OP_SELL, 3, ((9999999999, 1000, 1, 1, 0, 0),)), False, TABLE)
    b = c.z_summary(123456, T0 + 7200)
    assert len(b) <= 256
    s = decode_z_summary(b)
    assert s["shift_no"] == 123456 and s["close_ts"] == T0 + 7200
    assert s["tickets"][2] == (42, 287111 + 40 * 9999999999, c.nn[2])
    assert s["placements"] == [(1, 1000000), (1, 300000)]
    assert s["cash"] == c.cash and s["revenue"] == c.revenue and s["offline"] == 3


def test_z_totals_equal_sum_of_documents():
    c = ShiftCounters()
    docs = []
    for i in range(12):
        op = D.OPS[i % 4]
        r = _r(op, 1 + i % 3, ((1000 + 37 * i, 1000 + 1000 * (i % 2), 1 + i % 4, 1 + i % 3, 0, 0),))
        c.add_receipt(r, i % 5 == 0, TABLE)
        docs.append(r)
    z = c.zx_report(REPORT_Z, 1, T0, T0)
    for op in range(4):
        total = sum([r.total() for r in docs if r.op == op])
        assert z["total_result"][op]["sum"] == _money(total)
        assert z["ticket_operations"][op]["tickets_sum"] == _money(total)
