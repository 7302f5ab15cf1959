# What a cashier types at the register: payments in parts and after a
# failure, quantities of piece goods, values of the wrong type, and the
# messages the refusals show (KZ-24, R-56(9), KZ-1, KZ-16, KZ-42).
from kkm import auth as A
from kkm import document as D
from kkm import doccodec as DC
from kkm import layout
from kkm import locks as L
from kkm import register as R
from kkm import settings as S
from kkm import texts as T
from regkit import FakeOfd, fiscalised_bench, line, refused, sell


def test_cash_in_two_parts_fiscalises_one_cash_payment_with_change():
    b = fiscalised_bench()
    r = b.reg
    rc = r.open_receipt(D.OP_SELL)
    rc.add_line(line(price=150000))
    assert r.pay(D.PAY_CASH, 100000) is None  # 500 tenge still due
    res = r.pay(D.PAY_CASH, 100000)
    assert res is not None and r.draft is None
    assert len(res.doc.payments) == 1
    p = res.doc.payments[0]
    assert (p.kind, p.amount, p.tendered) == (D.PAY_CASH, 150000, 200000)
    assert res.doc.change() == 50000 and r.counters.cash == 150000
    # card, then the rest in cash; a second card payment is refused
    rc = r.open_receipt(D.OP_SELL)
    rc.add_line(line(price=150000))
    assert r.pay(D.PAY_CARD, 100000, None, "T1", "123456", "123456789012") is None
    assert refused(r.pay, D.PAY_CARD, 10000, None, "T1", "123456", "123456789012")[0] == T.E_PAY_DUP
    assert refused(r.pay, D.PAY_MOBILE, 60000, None, None, None, None, "QR1")[0] == T.E_PAY_OVER
    res = r.pay(D.PAY_CASH, 50000)
    assert [(q.kind, q.amount) for q in res.doc.payments] == [(D.PAY_CARD, 100000), (D.PAY_CASH, 50000)]


def test_a_payment_that_did_not_fiscalise_is_taken_off_the_receipt():
    b = fiscalised_bench()
    r = b.reg
    rc = r.open_receipt(D.OP_SELL)
    rc.add_line(line(price=150000))
    assert r.pay(D.PAY_CASH, 50000) is None
    b.printer.state = "no_paper"
    assert refused(r.pay, D.PAY_CASH, 100000)[0] == L.NO_PAPER
    # the failed part is gone, the first part stays
    assert r.draft is rc and rc.paid() == 50000 and rc.payments[0].tendered == 50000
    b.printer.state = "ok"
    res = r.pay(D.PAY_CASH, 100000)
    assert res.printed and res.doc.payments[0].amount == 150000
    # a line the register refuses at fiscalisation (its tax group is gone)
    rc = r.open_receipt(D.OP_SELL)
    rc.add_line(line(tax=9))
    assert refused(r.pay, D.PAY_CASH, 25000)[0] == T.E_TAX_GROUP
    assert rc.payments == []
    rc.remove_line(0)
    rc.add_line(line())
    assert r.pay(D.PAY_CASH, 25000).doc.total() == 25000
    assert refused(r.pay, D.PAY_CASH, 100)[0] == L.E_NO_RECEIPT


def test_r_56_9_piece_goods_are_sold_in_whole_units():
    b = fiscalised_bench()
    r = b.reg
    rc = r.open_receipt(D.OP_SELL)
    loaf = line(qty=1500, unit=D.UNIT_PIECE, gtin="4870001000011")
    assert refused(rc.add_line, loaf) == (T.E_QTY_WHOLE, 0)
    assert refused(rc.add_line, line(qty=500, unit=D.UNIT_SERVICE))[0] == T.E_QTY_WHOLE
    rc.add_line(line(qty=1500, unit=D.UNIT_KG))  # weighed goods may be fractional
    rc.add_line(line(qty=2000, unit=D.UNIT_PIECE))
    for lang in ("kk", "ru"):
        assert T.text(T.E_QTY_WHOLE, lang) != T.text(T.E_LINE, lang)


def test_booleans_are_not_numbers_on_either_runtime():
    # CPython's True is an int, MicroPython's is not: both refuse it
    for kw in ({"price": True}, {"qty": True}, {"section": True}, {"tax": True}, {"discount": True}):
        assert refused(line(**kw).check)[0] == T.E_LINE
    assert refused(D.Payment(D.PAY_CASH, True).check)[0] == T.E_AMOUNT
    assert refused(D.Payment(True, 100).check)[0] == T.E_PAY_KIND
    assert refused(D.Placement, D.DEPOSIT, True, 1)[0] == T.E_AMOUNT
    assert refused(D.Receipt, D.OP_SELL, True)[0] == T.E_CASHIER
    assert refused(D.Receipt, True, 1)[0] == T.E_OP
    for key, v in (("tz_offset", True), ("timeout_s", True), ("ofd_hosts", [["h", True]])):
        assert refused(S.validate, key, v)[0] == L.E_BAD_SETTING
    b = fiscalised_bench()
    r = b.reg
    r.open_receipt(D.OP_SELL).add_line(line())
    assert refused(r.pay, D.PAY_CASH, True)[0] == T.E_AMOUNT
    r.login(2, "2222", A.MODE_PROGRAMMING)
    assert refused(r.set_user, True, "x", A.ROLE_CASHIER, "1234")[0] == L.E_BAD_SETTING


def test_a_too_large_price_says_so_not_bad_discount():
    big = D.MAX_AMOUNT
    assert refused(line(price=big, qty=2000).check)[0] == T.E_LINE_SUM
    assert refused(line(price=big + 1).check)[0] == T.E_LINE_SUM
    line(price=big).check()
    assert refused(line(price=1000, discount=1001).check)[0] == T.E_MODIFIER
    for lang in ("kk", "ru"):
        assert T.text(T.E_LINE_SUM, lang) != T.text(T.E_MODIFIER, lang)


def test_kz_42_clock_back_in_a_shift_clears_when_right_and_lets_the_z_close():
    b = fiscalised_bench()
    r = b.reg
    sell(r)
    t = b.clock.now()
    b.clock.set(t - 3600)  # the RTC lost an hour in the shift
    assert refused(r.open_receipt, D.OP_SELL)[0] == L.CLOCK_BAD
    assert L.CLOCK_BAD in r.active_locks()
    b.clock.set(t + 60)  # and is right again: no reboot needed
    assert L.CLOCK_BAD not in r.active_locks()
    sell(r)
    last = r.last_doc_ts
    b.clock.set(last - 3600)
    assert refused(r.open_receipt, D.OP_SELL)[0] == L.CLOCK_BAD
    # the shift can be closed; its Z is dated at the last document
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    r.close_shift()
    assert not r.shift_open and r.last_doc_ts == last
    assert r.acc.read_z(r.acc.z_count())[0] == last
    # then the clock can be set, which ends the lock
    r.login(2, "2222", A.MODE_CLOCK)
    assert refused(r.set_clock, last - 1)[0] == L.E_CLOCK_BACK
    r.set_clock(last + 60)
    assert L.CLOCK_BAD not in r.active_locks()
    r.login(1, "1111", A.MODE_SALES)
    sell(r)
    for lang in ("kk", "ru"):  # the message says the way out
        assert L.message(L.CLOCK_BAD, lang) != L.message(L.E_CLOCK_BACK, lang)


def test_clock_past_2106_is_refused_before_the_journal():
    b = fiscalised_bench()
    r = b.reg
    sell(r)
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    r.close_shift()
    r.login(2, "2222", A.MODE_CLOCK)
    t = b.clock.now()
    for ts in (S.MAX_TS + 1, 1 << 40, -1, float(t + 60), True):
        assert refused(r.set_clock, ts, ts)[0] == L.E_CLOCK_RANGE
    assert b.clock.now() == t and r.active_locks() == []
    r.set_clock(S.MAX_TS - 10, S.MAX_TS - 10)  # the last times the journal keeps are fine
    r.login(1, "1111", A.MODE_SALES)
    sell(r)
    assert r.active_locks() == []


def test_settings_over_one_journal_record_are_refused_without_a_fault():
    b = fiscalised_bench()
    r = b.reg
    r.login(2, "2222", A.MODE_PROGRAMMING)
    groups = r.settings.get("tax_groups")
    big = groups + [[10 + i, 12000, "ҚҚС топ %d" % i, "Группа НДС %d" % i, False, []] for i in range(60)]
    args = refused(r.change_settings, {"tax_groups": big})
    assert args[0] == L.E_SETTINGS_SIZE and args[1] > 2047
    assert r.settings.get("tax_groups") == groups and r.active_locks() == []
    for lang in ("kk", "ru"):
        assert "2" in L.message(L.E_SETTINGS_SIZE, lang)
    # a change that fits is taken at once, and survives a reboot
    assert r.change_settings({"ofd_name": "OFD Ltd"}) == ["ofd_name"]
    r.login(1, "1111", A.MODE_SALES)
    sell(r)
    assert b.boot().settings.get("ofd_name") == "OFD Ltd"


def test_kz_24_copy_after_a_reboot_carries_the_stored_sign_and_qr():
    b = fiscalised_bench()
    r = b.reg
    res = sell(r)
    first = [t for s, t in res.lines]
    assert res.fiscal_sign in " ".join(first)
    r = b.boot()
    r.login(1, "1111", A.MODE_SALES)
    b.printer.printed = []
    for lang in ("kk", "ru"):
        r.copy_last(lang)
        copy = b.printer.printed[-1]
        assert copy[0][1].strip() == T.text(T.L_COPY, lang)
        texts = [t for s, t in copy]
        assert T.text(T.L_NOT_FISCAL, lang) not in texts
        assert any(res.fiscal_sign in t for t in texts)
        assert any(s & layout.QR and res.fiscal_sign in t for s, t in copy)
    assert [t for s, t in b.printer.printed[0]][1:] == first


def test_kz_1_wrong_password_says_attempts_left_and_lockout_the_wait():
    b = fiscalised_bench()
    r = b.reg
    for left in (4, 3, 2, 1):
        args = refused(r.login, 1, "0000", A.MODE_SALES)
        assert args == (L.E_BAD_PASSWORD, left)
        assert r.lock_message(args[0], "ru", args[1]) == "Неверный пароль: осталось попыток: %d" % left
        assert ("%d" % left) in r.lock_message(args[0], "kk", args[1])
    args = refused(r.login, 1, "0000", A.MODE_SALES)
    assert args == (L.E_LOCKED_OUT, A.LOCKOUT_S)
    assert r.lock_message(args[0], "ru", args[1]) == "Много неверных попыток: повторите через 300 с"
    b.clock.advance(100)
    args = refused(r.login, 1, "1111", A.MODE_SALES)
    assert args == (L.E_LOCKED_OUT, 200)
    assert "200" in r.lock_message(args[0], "kk", args[1])
    # without a detail the plain texts stay
    assert r.lock_message(L.E_LOCKED_OUT, "ru") == "Много неверных попыток: повторите позже"
    assert "%" not in L.message(L.E_BAD_PASSWORD, "kk")


class BlockingOfd(FakeOfd):
    # the OFD answers result 15 (server block) to the next document: the
    # port engages OFD_SUSPEND through ofd_order and the document is offline
    def __init__(self, reg):
        FakeOfd.__init__(self)
        self.reg = reg

    async def send(self, kind, seq, payload, live=False):
        self.reg.ofd_order(suspend=True)
        return None


def test_kz_16_a_document_the_ofd_blocked_says_blocked_not_no_connection():
    b = fiscalised_bench()
    r = b.reg
    r.sender.port = BlockingOfd(r)
    res = sell(r)
    assert res.offline and L.OFD_SUSPEND in r.active_locks()
    assert L.N_OFD_BLOCKED in r.notices and L.N_OFFLINE not in r.notices
    for lang in ("kk", "ru"):
        assert L.message(L.N_OFD_BLOCKED, lang) != L.message(L.N_OFFLINE, lang)
    r.sender.port = b.ofd
    r.ofd_order(suspend=False)  # result 0: the block ends
    assert L.N_OFD_BLOCKED not in r.notices
    assert r.replay() == 1
    b.ofd.online = False  # a lost connection still says so
    sell(r)
    assert L.N_OFFLINE in r.notices and L.N_OFD_BLOCKED not in r.notices


def test_copy_after_a_reboot_when_a_checkpoint_followed_the_last_document():
    b = fiscalised_bench(log_blocks=48)
    r = b.reg
    for i in range(R.CHECKPOINT_EVERY - r.since_cp - 1):
        sell(r)
    res = sell(r)
    assert r.since_cp == 0  # the checkpoint came right after this receipt
    r = b.boot()
    assert r.last.seq == res.seq and r.last.fiscal_sign == res.fiscal_sign and not r.last.offline
    r.login(1, "1111", A.MODE_SALES)
    r.copy_last()
    copy = b.printer.printed[-1]
    assert copy[0][1].strip() == T.text(T.L_COPY, r.settings.get("lang"))
    assert [t for s, t in copy[1:]] == [t for s, t in res.lines]
    # offline: the copy carries the autonomous sign of its R_SIGN record
    b.ofd.online = False
    for i in range(R.CHECKPOINT_EVERY - r.since_cp - 1):
        sell(r)
    res = sell(r)
    assert r.since_cp == 0
    r = b.boot()
    assert (r.last.seq, r.last.fiscal_sign, r.last.offline) == (res.seq, res.fiscal_sign, True)
    # after a Z the last document is the Z: no receipt copy
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    r.close_shift()
    r = b.boot()
    r.login(1, "1111", A.MODE_SALES)
    assert refused(r.copy_last)[0] == L.E_NO_RECEIPT


def _lines(tail):
    return [line(name="Т" * 60 + str(i)) for i in range(14)] + [line(name="x" * tail)]


def test_a_receipt_or_users_over_one_journal_record_are_refused_without_a_fault():
    b = fiscalised_bench()
    r = b.reg
    table = r.settings.tax_table(b.clock.now())
    for tail in range(1, 128):  # the shortest receipt whose record (8-byte header + body) is over 2048 bytes
        d = D.Receipt(D.OP_SELL, 1)
        for ln in _lines(tail):
            d.add_line(ln)
        d.add_payment(D.Payment(D.PAY_CASH, d.total(), d.total()))  # as pay() makes it
        d.stamp(table, "Айгүл", r.settings.get("tz_offset"))
        try:
            n = 8 + len(DC.encode_receipt(d))
        except D.DocumentError as e:
            assert e.args[0] == T.E_TOO_MANY
            break
    assert n == 2048  # one character less fits exactly
    rc = r.open_receipt(D.OP_SELL)
    for ln in _lines(tail):
        rc.add_line(ln)
    assert refused(r.pay, D.PAY_CASH, rc.total())[0] == T.E_TOO_MANY
    assert r.active_locks() == []
    rc.remove_line(0)
    assert r.pay(D.PAY_CASH, rc.total()).doc.total() == rc.total()
    # the users are one record too
    r.login(2, "2222", A.MODE_PROGRAMMING)
    code = 10
    while True:
        name = "Кассир %02d " % code + "ш" * 30
        try:
            r.set_user(code, name, A.ROLE_CASHIER, "1234")
        except L.Refused as e:
            assert e.args[0] == L.E_SETTINGS_SIZE
            break
        code += 1
    assert code > 20 and code not in r.auth.users and r.active_locks() == []
    assert sorted(b.boot().auth.users) == sorted(r.auth.users)


def test_cash_paid_out_is_exact_and_may_come_in_parts():
    # a purchase pays the seller: no change, no more than is due
    b = fiscalised_bench()
    r = b.reg
    r.deposit(100000)
    rc = r.open_receipt(D.OP_BUY)
    rc.add_line(line(price=30000))
    assert refused(r.pay, D.PAY_CASH, 40000)[0] == T.E_PAY_OVER
    assert r.pay(D.PAY_CASH, 10000) is None
    res = r.pay(D.PAY_CASH, 20000)
    p = res.doc.payments[0]
    assert (p.amount, p.tendered, res.doc.change()) == (30000, None, 0)
    assert r.counters.cash == 70000


def test_r_56_the_receipt_names_the_cashier_stamped_in_it():
    # the name stamped in the document at issue is printed beside the code,
    # also on a copy after the user was renamed
    b = fiscalised_bench()
    r = b.reg
    sell(r)
    text = "\n".join(t for _, t in r.printer.printed[-1])
    assert "1 Айгүл" in text
    r.login(2, "2222", A.MODE_PROGRAMMING)
    r.set_user(1, "Гүлнар", A.ROLE_CASHIER, "1111")
    r.login(1, "1111", A.MODE_SALES)
    r.copy_last()
    text = "\n".join(t for _, t in r.printer.printed[-1])
    assert "1 Айгүл" in text and "Гүлнар" not in text
