# Core tests of ofd.messages: the register's documents as protocol 2.0.3
# requests (KZ-4, KZ-5, KZ-15, KZ-20..KZ-23, KZ-27, KZ-30.1, KZ-30.3).
# Runs under pytest and the MicroPython unix port.

import ofd
from compat import unix_from_civil
from kkm import counters as C
from kkm import document as D
from kkm import doccodec as DC
from kkm.tax import default_table
from ofd import codec
from ofd import messages as M
from ofd import schema as S

TS = unix_from_civil(2026, 3, 14, 9, 5, 7)  # local wall clock


def _line(name="Хлеб", price=15050, qty=2000, tax=1, **kw):
    return D.Line(name, price, qty, D.UNIT_PIECE, 1, tax, **kw)


def _sale():
    r = D.Receipt(D.OP_SELL, 7)
    r.add_line(_line(gtin="4870001000011"))
    r.add_line(D.Line("Сыр", 120000, 1500, D.UNIT_KG, 2, 1, discount=1000))
    r.add_line(D.Line("Вода", 20000, 1000, D.UNIT_PIECE, 3, 3, markup=500, ntin="0200000000011",
                      marks=["0104870001000011215abc\x1d91EE07"]))
    return r


def _roundtrip(msg_type, value):
    return codec.decode(msg_type, codec.encode(msg_type, value))


def _tiyn(m):
    return m["bills"] * 100 + m["coins"]


def test_date_time_local_wall_clock():
    dt = M.date_time(TS)
    assert dt == {"date": {"year": 2026, "month": 3, "day": 14}, "time": {"hour": 9, "minute": 5, "second": 7}}


def test_kz_5_ticket_items_quantities_prices_taxes():
    table = default_table()
    r = _sale()
    r.add_payment(D.Payment(D.PAY_CASH, r.total(), tendered=r.total() + 2000))
    t = M.ticket(r, table, TS, 4, 9, operator_name="Айгүл")
    assert t["operation"] == S.OPERATION_SELL
    assert t["operator"] == {"code": 7, "name": "Айгүл"}
    assert t["domain"] == {"type": S.DOMAIN_TRADING}
    assert t["fr_shift_number"] == 4 and t["shift_document_number"] == 9
    assert "offline_ticket_number" not in t and "parent_ticket" not in t
    items = t["items"]
    types = [it["type"] for it in items]
    assert types == [S.ITEM_TYPE_COMMODITY, S.ITEM_TYPE_COMMODITY, S.ITEM_TYPE_DISCOUNT,
                     S.ITEM_TYPE_COMMODITY, S.ITEM_TYPE_MARKUP]
    bread = items[0]["commodity"]
    assert bread["name"] == "Хлеб" and bread["section_code"] == "1"
    assert bread["quantity"] == 2000 and bread["measure_unit_code"] == "796"
    assert bread["price"] == {"bills": 150, "coins": 50} and bread["sum"] == {"bills": 301, "coins": 0}
    assert bread["barcode"] == "4870001000011"
    assert bread["taxes"] == [{"tax_type": 100, "percent": 16000, "sum": ofd.money(table.vat(1, 30100)),
                               "is_in_total_sum": True}]
    cheese = items[1]["commodity"]
    assert cheese["quantity"] == 1500 and cheese["measure_unit_code"] == "166"
    assert _tiyn(cheese["sum"]) == 180000  # before the discount
    assert _tiyn(cheese["taxes"][0]["sum"]) == table.vat(1, 179000)  # VAT of the final line sum
    assert _tiyn(items[2]["discount"]["sum"]) == 1000 and items[2]["discount"]["name"]
    water = items[3]["commodity"]
    assert "taxes" not in water  # exempt group
    assert water["ntin"] == "0200000000011"
    assert water["list_excise_stamp"] == ["0104870001000011215abc\x1d91EE07"]
    assert _tiyn(items[4]["markup"]["sum"]) == 500
    # the OFD's check: total = commodities - discounts + markups
    goods = _tiyn(bread["sum"]) + _tiyn(cheese["sum"]) + _tiyn(water["sum"])
    assert _tiyn(t["amounts"]["total"]) == goods - 1000 + 500 == r.total()
    assert _tiyn(t["amounts"]["taken"]) == r.total() + 2000
    assert _tiyn(t["amounts"]["change"]) == 2000
    assert t["payments"] == [{"type": S.PAYMENT_CASH, "sum": ofd.money(r.total())}]
    req = M.ticket_request(t, M.service(M.reg_info("600300012345", "SN1", 203539)))
    assert _roundtrip(S.Request, req) == req


def test_kz_24_card_mobile_payments_and_buyer():
    r = D.Receipt(D.OP_SELL, 3)
    r.add_line(_line(price=100000, qty=1000))
    r.add_payment(D.Payment(D.PAY_CARD, 60000, terminal="T-0042", auth_code="123456", rrn="401234567890"))
    r.add_payment(D.Payment(D.PAY_MOBILE, 40000, qr_id="KASPI-77"))
    r.set_buyer(iin="900101300017", email="a@b.kz",
                phone="+77011234567")
    t = M.ticket(r, default_table(), TS, 1, 1)
    card, mob = t["payments"]
    assert card["type"] == S.PAYMENT_CARD and _tiyn(card["sum"]) == 60000
    assert card["card_payment_fields"] == {"pos_terminal_id": "T-0042", "pos_autorization_code": 123456,
                                           "pos_rrn": 401234567890}
    assert mob["type"] == S.PAYMENT_MOBILE and mob["mobile_payment_fields"] == {"qr_id": "KASPI-77"}
    ext = t["extension_options"]
    assert ext["customer_email"] == "a@b.kz" and ext["customer_phone"] == "+77011234567"
    assert ext["customer_iin_or_bin"] == "900101300017"
    assert _tiyn(t["amounts"]["change"]) == 0 and _tiyn(t["amounts"]["taken"]) == 100000
    req = M.ticket_request(t)
    assert _roundtrip(S.Request, req) == req


def test_kz_15_return_carries_parent_ticket():
    r = D.Receipt(D.OP_SELL_RETURN, 7)
    r.add_line(_line(price=10000, qty=1000))
    parent_utc = unix_from_civil(2026, 3, 13, 12, 0, 0)
    r.set_parent(D.Parent("4228143549", parent_utc, 50000, False, "600300012345"))
    r.add_payment(D.Payment(D.PAY_CASH, 10000))
    t = M.ticket(r, default_table(), TS, 2, 1, utc_offset=5 * 3600)
    assert t["operation"] == S.OPERATION_SELL_RETURN
    p = t["parent_ticket"]
    assert p["parent_ticket_number"] == "4228143549" and p["kgd_kkm_id"] == "600300012345"
    assert p["parent_ticket_data_time"]["time"]["hour"] == 17  # UTC 12:00 + 5 h
    assert _tiyn(p["parent_ticket_total"]) == 50000 and p["parent_ticket_is_offline"] is False
    req = M.ticket_request(t)
    assert _roundtrip(S.Request, req) == req


def test_kz_30_3_offline_ticket_number_and_period():
    r = _sale()
    r.add_payment(D.Payment(D.PAY_CASH, r.total()))
    t = M.ticket(r, default_table(), TS, 1, 2, offline_number=123456)
    assert t["offline_ticket_number"] == 123456
    svc = M.service(M.reg_info("600300012345", "SN1", 5), TS - 3600, TS)
    assert svc["offline_period"]["begin_time"]["time"]["hour"] == 8
    assert svc["offline_period"]["end_time"] == M.date_time(TS)
    assert svc["get_reg_info"] is False
    req = M.ticket_request(t, svc)
    assert _roundtrip(S.Request, req) == req


def test_offline_period_must_not_run_backwards():
    try:
        M.service(None, TS, TS - 1)
        assert False
    except ofd.ProtocolError as e:
        assert e.args[0] == "bad offline period"


def test_kz_21_money_placement():
    p = D.Placement(D.WITHDRAWAL, 150000, 4)
    mp = M.money_placement(p, TS, 3, 11, offline=True, operator_name="Ерлан")
    assert mp["operation"] == S.MONEY_PLACEMENT_WITHDRAWAL and _tiyn(mp["sum"]) == 150000
    assert mp["is_offline"] is True and mp["fr_shift_number"] == 3 and mp["printed_document_number"] == 11
    assert mp["operator"] == {"code": 4, "name": "Ерлан"} and mp["datetime"] == M.date_time(TS)
    req = M.placement_request(mp)
    assert req["command"] == S.COMMAND_MONEY_PLACEMENT
    assert _roundtrip(S.Request, req) == req


def _counters():
    c = C.ShiftCounters()
    table = default_table()
    r = _sale()
    r.add_payment(D.Payment(D.PAY_CASH, r.total()))
    r.validate(table)
    c.add_receipt(r, False, table)
    c.add_placement(D.Placement(D.DEPOSIT, 500000, 7), False)
    return c


def test_kz_22_close_shift_carries_z_report():
    zx = _counters().zx_report(C.REPORT_Z, 5, TS, TS - 7200, TS)
    cs = M.close_shift(zx, TS, 5, 7, operator_name="Айгүл")
    assert cs["z_report"] is zx and cs["fr_shift_number"] == 5 and cs["is_offline"] is False
    assert cs["operator"]["code"] == 7 and cs["close_time"] == M.date_time(TS)
    req = M.close_shift_request(cs, M.service(M.reg_info("600300012345", "SN1", 5)))
    assert req["command"] == S.COMMAND_CLOSE_SHIFT and "service" in req
    back = _roundtrip(S.Request, req)
    assert back["close_shift"]["z_report"]["shift_number"] == 5
    assert back["close_shift"]["z_report"]["checksum"] == zx["checksum"]
    assert back["close_shift"]["z_report"]["cash_sum"] == zx["cash_sum"]


def test_x_report_request():
    zx = _counters().zx_report(C.REPORT_X, 5, TS, TS - 60)
    rr = M.report(S.REPORT_X, zx, TS)
    assert rr["report"] == S.REPORT_X and rr["zx_report"] is zx
    req = M.report_request(rr, M.service(None))
    back = _roundtrip(S.Request, req)
    assert back["report"]["report"] == S.REPORT_X and "close_shift_time" not in back["report"]["zx_report"]
    try:
        M.report(7, zx, TS)
        assert False
    except ofd.ProtocolError as e:
        assert e.args == ("bad enum value", "report")


def test_kz_20_service_reg_info_and_software():
    ri = M.reg_info("600300012345", "SN-0001", 203539, "ТОО Дүкен", "Алматы, Абая 1", "123456789012")
    assert ri["kkm"] == {"fns_kkm_id": "600300012345", "serial_number": "SN-0001", "kkm_id": "203539"}
    assert ri["org"] == {"title": "ТОО Дүкен", "address": "Алматы, Абая 1", "inn": "123456789012"}
    sw = M.software("0.1.0", model="KKM-ESP32", runtime="1.29")
    assert sw["module_infos"][0]["version"] == "0.1.0" and sw["runtime_version"] == "1.29"
    svc = M.service(ri, soft=sw, get_reg_info=True)
    req = M.system_request(svc)
    assert req == {"command": S.COMMAND_SYSTEM, "service": svc}
    assert _roundtrip(S.Request, req) == req


def test_long_card_codes_are_left_out():
    # a code that does not fit its uint32/uint64 field is not sent
    r = D.Receipt(D.OP_SELL, 3)
    r.add_line(_line(price=1000, qty=1000))
    r.add_payment(D.Payment(D.PAY_CARD, 1000, auth_code="99999999999", rrn="1" * 25))
    t = M.ticket(r, default_table(), TS, 1, 1)
    assert "card_payment_fields" not in t["payments"][0]


def test_card_code_limits_are_the_codecs():
    # the largest values the codec accepts for uint32/uint64 fields are sent
    assert M.MAX_U64 == codec.MAX_U64 and M.MAX_U32 == 2147483647
    r = D.Receipt(D.OP_SELL, 3)
    r.add_line(_line(price=1000, qty=1000))
    r.add_payment(D.Payment(D.PAY_CARD, 1000, auth_code=str(M.MAX_U32), rrn=str(codec.MAX_U64)))
    t = M.ticket(r, default_table(), TS, 1, 1)
    card = t["payments"][0]["card_payment_fields"]
    assert card["pos_autorization_code"] == M.MAX_U32 and card["pos_rrn"] == codec.MAX_U64
    assert _roundtrip(S.TicketRequest, t) == t
    r2 = D.Receipt(D.OP_SELL, 3)
    r2.add_line(_line(price=1000, qty=1000))
    r2.add_payment(D.Payment(D.PAY_CARD, 1000, auth_code=str(M.MAX_U32 + 1), rrn="1"))
    assert "pos_autorization_code" not in M.ticket(r2, default_table(), TS, 1, 1)["payments"][0][
        "card_payment_fields"]


def test_kz_43_2_ticket_carries_the_rates_stamped_in_the_receipt():
    # a validated receipt carries its own rates: the table given later (the
    # 2027 rates, a non-payer) changes nothing; an unstamped one (an old
    # journal record) takes the table it is given
    r = D.Receipt(D.OP_SELL, 7)
    r.add_line(_line("Парацетамол", 10500, 1000, tax=2))
    r.add_line(_line("Нан", 25000, 1000, tax=1))
    r.add_payment(D.Payment(D.PAY_CASH, r.total()))
    r.validate(default_table(year=2026), None, "Айгүл", 5 * 3600)
    d = DC.decode_receipt(DC.encode_receipt(r))

    def taxes(t):
        return [it["commodity"]["taxes"][0]["percent"] for it in t["items"]]

    want = M.ticket(d, None, TS, 1, 1)
    assert taxes(want) == [5000, 16000]
    for table in (default_table(year=2027), default_table(vat_payer=False)):
        assert M.ticket(d, table, TS, 1, 1) == want
    u = D.Receipt(D.OP_SELL, 7)
    u.add_line(_line("Парацетамол", 11000, 1000, tax=2))
    t = M.ticket(u, default_table(year=2027), TS, 1, 1)
    assert t["items"][0]["commodity"]["taxes"][0] == {"tax_type": 100, "percent": 10000,
                                                       "sum": {"bills": 10, "coins": 0}, "is_in_total_sum": True}
