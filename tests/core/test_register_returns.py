# Returns against their original receipt (R-30, KZ-15): the register finds
# the original in its journal by what the buyer brings, the return names it
# as the OFD knows it, and never returns more than is left of it, per line
# and per payment type, also after a reboot.
from kkm import auth as A
from kkm import document as D
from kkm import layout
from kkm import locks as L
from kkm import records as R
from kkm import returns
from kkm import texts as T
from ofdkit import online_bench, queue_offline
from regkit import REG, T0, fiscalised_bench, line, refused, sell


def _return(r, key, number=None, qty=None):
    # a return of the original's lines (all that is left, or qty of line
    # 0), refunded by the original's payment types
    rc = r.open_return(key, number)
    if qty is None:
        r.return_line()
    else:
        r.return_line(0, qty)
    r.refund()
    return r.fiscalise(), rc


def test_r_30_returnable_lines_of_the_same_goods_count_as_one():
    # the original: two pieces, then one more of the same bread, then 0.333 kg
    # of another good; card 1 000.00, the rest cash
    o = D.Receipt(D.OP_SELL, 7)
    o.add_line(line(price=100000, qty=2000))
    o.add_line(line(price=100000))
    o.add_line(line(price=123456, qty=333, unit=D.UNIT_KG, section=2, tax=2))
    o.add_payment(D.Payment(D.PAY_CARD, 100000, None, "T1", "1", "2"))
    o.add_payment(D.Payment(D.PAY_CASH, o.total() - 100000))
    left = returns.Returnable(o, D.Parent("7700000001", T0, o.total(), False, REG["rnm"]))
    assert left.op == D.OP_SELL_RETURN and left.qty == [3000, 0, 333]
    assert returns.return_op(D.OP_BUY) == D.OP_BUY_RETURN and returns.return_op(D.OP_SELL_RETURN) is None
    # the second line's goods: all three pieces are left of them
    r = D.Receipt(D.OP_SELL_RETURN, 7)
    r.add_line(left.line(1, 2000))
    assert refused(left.line, 1, 2000, r)[0] == returns.E_RETURN_QTY  # one piece is left after the draft's
    r.add_line(left.line(1, None, r))
    assert [ln.qty_milli for ln in r.lines] == [2000, 1000]
    pays = left.refunds(r.total())
    assert [(p.kind, p.amount, p.terminal) for p in pays] == [(D.PAY_CARD, 100000, "T1"), (D.PAY_CASH, 200000, None)]
    for p in pays:
        r.add_payment(p)
    left.take(r)
    assert left.qty == [0, 0, 333] and left.paid(D.PAY_CARD) == 0 and not left.used_up()
    # more of a payment type than is left of it
    w = D.Receipt(D.OP_SELL_RETURN, 7)
    w.add_line(left.line(2))
    w.add_payment(D.Payment(D.PAY_CARD, w.total(), None, "T1", "1", "2"))
    assert refused(left.check, w)[0] == returns.E_RETURN_PAY


def test_r_30_a_sale_is_returned_once_and_its_lines_no_further_than_sold():
    b = fiscalised_bench()
    r = b.reg
    s = sell(r, [line(price=20000, qty=3000), line(name="Сүт", price=50000)])
    ret, rc = _return(r, s.fiscal_sign, qty=2000)
    assert rc.op == D.OP_SELL_RETURN and rc.total() == 40000 and [ln.qty_milli for ln in rc.lines] == [2000]
    # two more loaves than are left: refused before the journal
    last = r.acc.last_seq
    r.open_return(s.fiscal_sign)
    assert refused(r.return_line, 0, 2000)[0] == returns.E_RETURN_QTY
    # a line the cashier types in: the quantity and the amount are bounded too
    r.draft.add_line(line(price=20000, qty=2000))
    r.refund()
    assert refused(r.fiscalise)[0] == returns.E_RETURN_QTY
    r.draft.remove_line(0)
    r.draft.add_line(line(price=20000, qty=1000, markup=100))
    r.refund()
    assert refused(r.fiscalise)[0] == returns.E_RETURN_LEFT
    r.draft.remove_line(0)
    r.draft.add_line(line(name="Ірімшік", price=20000))
    r.refund()
    assert refused(r.fiscalise)[0] == returns.E_RETURN_LINE
    r.abandon()
    assert r.acc.last_seq == last + 2  # the R_OPEN marker and the abandon audit: no document
    # the rest of the sale, then nothing is left, also after a reboot
    _return(r, s.fiscal_sign)
    assert refused(r.open_return, s.fiscal_sign)[0] == returns.E_RETURNED
    r = b.boot()
    r.login(1, "1111", A.MODE_SALES)
    assert refused(r.open_return, s.fiscal_sign)[0] == returns.E_RETURNED
    left = returns.original(r, s.seq)
    assert left.qty == [0, 0] and left.amount == [0, 0] and left.pay == [(D.PAY_CASH, 0)]
    # a return with the parent copied by hand is checked the same way
    assert refused(sell, r, [line(price=20000)], None, 0, D.OP_SELL_RETURN, ret.doc.parent)[0] \
        == returns.E_RETURN_QTY
    r.abandon()
    assert r.counters.tickets_count(D.OP_SELL_RETURN) == 2


def test_r_30_partial_returns_of_a_discounted_line_add_up_to_the_line():
    b = fiscalised_bench()
    r = b.reg
    s = sell(r, [line(price=10000, qty=3000, discount=1000)])  # 290.00 for three
    a, _ = _return(r, s.fiscal_sign, qty=1000)
    c, _ = _return(r, s.fiscal_sign, qty=1000)
    d, _ = _return(r, s.fiscal_sign)
    assert [x.doc.total() for x in (a, c, d)] == [9666, 9667, 9667]
    assert a.doc.total() + c.doc.total() + d.doc.total() == s.doc.total()


def test_r_30_a_purchase_return_exceeds_its_original():
    # a purchase return is bounded by its purchase like a sale return
    b = fiscalised_bench()
    r = b.reg
    r.deposit(100000)
    p = sell(r, [line(name="Металл сынығы", price=30000, qty=2000)], op=D.OP_BUY)
    ret, rc = _return(r, p.fiscal_sign, qty=1000)
    assert rc.op == D.OP_BUY_RETURN and ret.doc.total() == 30000
    # the whole purchase again: within its total, beyond what is left
    rc = r.open_return(p.fiscal_sign)
    rc.add_line(line(name="Металл сынығы", price=30000, qty=2000))
    rc.add_payment(D.Payment(D.PAY_CASH, 60000))
    assert refused(r.fiscalise)[0] == returns.E_RETURN_QTY
    rc.remove_line(0)
    r.return_line(0)
    r.refund()
    assert r.fiscalise().doc.total() == 30000
    assert refused(r.open_return, p.fiscal_sign)[0] == returns.E_RETURNED
    assert refused(sell, r, [line(name="Металл сынығы", price=30000)], None, 0, D.OP_BUY_RETURN,
                   ret.doc.parent)[0] == returns.E_RETURN_QTY
    r.abandon()
    assert r.counters.tickets_count(D.OP_BUY_RETURN) == 2


def test_r_30_a_return_is_not_returned_and_its_kind_follows_the_original():
    # a sale return's parent is a sale, a purchase return's a purchase
    b = fiscalised_bench()
    r = b.reg
    s = sell(r, [line(price=40000)])
    ret, _ = _return(r, s.fiscal_sign, qty=1000)
    assert refused(r.open_return, ret.fiscal_sign)[0] == returns.E_RETURN_OP
    assert r.draft is None
    # a purchase return naming the sale by hand
    assert refused(sell, r, [line(price=40000)], None, 0, D.OP_BUY_RETURN, ret.doc.parent)[0] == returns.E_RETURN_OP
    r.abandon()
    assert r.counters.tickets_count(D.OP_BUY_RETURN) == 0
    assert T.has(returns.E_RETURN_OP) and T.text(returns.E_RETURN_OP, "kk") != T.text(returns.E_RETURN_OP, "ru")


def test_r_30_refund_by_the_original_payment_types():
    # a card sale is refunded to the card with the terminal's data, never
    # by a type the buyer did not pay with
    b = fiscalised_bench()
    r = b.reg
    s = sell(r, [line(price=100000)], card=100000)
    rc = r.open_return(s.fiscal_sign)
    r.return_line(0)
    rc.add_payment(D.Payment(D.PAY_CASH, 100000))
    assert refused(r.fiscalise)[0] == returns.E_RETURN_PAY
    pays = r.refund()
    assert [(p.kind, p.amount, p.terminal, p.auth_code, p.rrn) for p in pays] == \
        [(D.PAY_CARD, 100000, "T1", "123456", "123456789012")]
    ret = r.fiscalise()
    assert ret.doc.cash_part() == 0 and r.counters.cash == 0


def test_r_30_refund_of_a_mixed_payment_card_first_cash_up_to_the_drawer():
    # a mixed payment is refunded to the card first, cash for the rest, and
    # cash only up to what the drawer holds
    b = fiscalised_bench()
    r = b.reg
    m = sell(r, [line(price=35000, qty=2000)], card=60000)  # 700.00: 600 card, 100 cash
    r.withdraw(5000)  # the drawer keeps 50.00
    r.open_return(m.fiscal_sign)
    r.return_line(0)
    assert [(p.kind, p.amount) for p in r.refund()] == [(D.PAY_CARD, 60000), (D.PAY_CASH, 10000)]
    assert refused(r.fiscalise)[0] == L.E_NOT_ENOUGH_CASH
    r.abandon()
    r.deposit(5000)
    r.open_return(m.fiscal_sign)
    r.return_line(0, 1000)  # 350.00: all of it to the card
    assert [(p.kind, p.amount) for p in r.refund()] == [(D.PAY_CARD, 35000)]
    r.fiscalise()
    r.open_return(m.fiscal_sign)
    r.return_line(0)
    assert [(p.kind, p.amount) for p in r.refund()] == [(D.PAY_CARD, 25000), (D.PAY_CASH, 10000)]
    r.fiscalise()
    assert r.counters.cash == 0
    assert refused(r.open_return, m.fiscal_sign)[0] == returns.E_RETURNED


def test_r_30_the_original_is_found_by_what_the_buyer_brings():
    # the fiscal sign on the paper or in its QR code, the autonomous
    # number of an offline receipt, or the shift and the receipt number
    # printed on it ("Чек №"), never a journal number the paper does not show
    b = fiscalised_bench()
    r = b.reg
    r.deposit(10000)
    s = sell(r)
    b.ofd.online = False
    o = sell(r, [line(price=30000)])
    assert (s.shift_no, s.number, o.number) == (1, 2, 3) and o.offline
    assert returns.find_original(r, s.fiscal_sign) == s.seq
    qr = "https://check.example.kz/?i=%s&f=%s&s=250.00" % (s.fiscal_sign, REG["rnm"])
    assert returns.find_original(r, qr) == s.seq
    assert returns.find_original(r, 1, 2) == s.seq
    assert returns.find_original(r, o.fiscal_sign) == o.seq  # the autonomous sign as printed
    assert returns.find_original(r, o.fiscal_sign) == o.seq  # the number the OFD got
    assert returns.find_original(r, 1, 3) == o.seq
    for res in (s, o):  # the QR code printed on each paper
        qr = [t for st, t in res.lines if st & layout.QR]
        assert len(qr) == 1 and returns.find_original(r, qr[0]) == res.seq
    for key, number in (("4228143549", None), (1, 9), (2, 2)):
        assert refused(returns.find_original, r, key, number)[0] == returns.E_NO_ORIGINAL
    # the deposit is document 1 of the shift: not a receipt
    assert refused(r.open_return, 1, 1)[0] == returns.E_NO_ORIGINAL
    # after the shift is closed and the register rebooted, by shift and number
    b.ofd.online = True
    r.replay()
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    r.close_shift()
    r = b.boot()
    r.login(1, "1111", A.MODE_SALES)
    ret, rc = _return(r, 1, 3)
    assert rc.parent.number == o.fiscal_sign and rc.parent.offline
    assert ret.shift_no == 2


def test_c_7_the_parent_of_an_offline_receipt_is_the_number_the_ofd_received():
    # the register against the in-memory OFD through the real port: the
    # offline sale reaches the OFD with its offline_ticket_number; the
    # return, found by the autonomous sign on the paper, names that number
    # (parent_ticket_is_offline), not the printed sign the OFD never got;
    # an online original is named by the OFD's own fiscal sign
    b, s = online_bench()
    r = b.reg
    on = sell(r)
    seq = queue_offline(b, 1)[0]
    paper = r.last.fiscal_sign
    b.link.restore()
    assert r.replay() == 1
    sent = b.link.log[-1][1]["ticket"]
    assert "offline_ticket_number" in sent
    ret, _ = _return(r, paper)
    pt = b.link.log[-1][1]["ticket"]["parent_ticket"]
    assert pt["parent_ticket_number"] == str(sent["offline_ticket_number"]) == paper
    assert pt["parent_ticket_is_offline"] is True and pt["kgd_kkm_id"] == REG["rnm"]
    _return(r, on.fiscal_sign)
    pt = b.link.log[-1][1]["ticket"]["parent_ticket"]
    assert pt["parent_ticket_number"] == on.fiscal_sign and pt["parent_ticket_is_offline"] is False


def test_r_30_a_damaged_record_on_the_way_is_the_integrity_lock():
    # the walk that looks for the original meets a record whose bytes were
    # changed: the accumulator-integrity lock (KZ-3.3), not a crash
    b = fiscalised_bench()
    r = b.reg
    s = sell(r, [line(name="Қымыз ZQXW", price=70000)])
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    r.close_shift()
    at = bytes(b.log.data).find("ZQXW".encode())
    b.log.data[at] ^= 0x01
    r = b.boot()
    r.login(1, "1111", A.MODE_SALES)
    e = refused(r.open_return, s.fiscal_sign)
    assert e[0] == L.ACC_INTEGRITY and L.ACC_INTEGRITY in r.active_locks()
    assert r.draft is None
