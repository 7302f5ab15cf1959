# Documents: every type (sale, sale return, purchase, purchase return,
# deposit, withdrawal), their checks, IIN/BIN and GTIN check digits and the
# compact journal encoding (R-56, R-57, KZ-15, KZ-27, KZ-7.1, S000-4, S001-4).
from kkm import document as D
from kkm import doccodec as DC
from kkm import ids
from kkm import tax, texts
from kkm.document import Line, Payment, Parent, Receipt, Placement, DocumentError

TABLE = tax.default_table()
GTIN13 = "4006381333931"  # a published GS1 example
NTIN = "2000000000015"
ISSUER = ("Айгүл", 5 * 3600)  # the operator's name and UTC offset stamped with the rates


def _err(fn, *args):
    try:
        fn(*args)
    except DocumentError as e:
        return e.args[0]
    raise AssertionError("no DocumentError")


def _line(price=100000, qty=1000, unit=D.UNIT_PIECE, section=1, tax_code=1, **kw):
    return Line("Нан (ақ)", price, qty, unit, section, tax_code, **kw)


def _sale(op=D.OP_SELL):
    r = Receipt(op, 7)
    r.add_line(_line(gtin=GTIN13))
    r.add_line(_line(123456, 333, D.UNIT_KG, 2, 2, ntin=NTIN))
    return r


def _parent(total=1000000):
    return Parent("4228143549", 1830000000, total, False, "010101234567")


# --- check digits --------------------------------------------------------

def _iin_ref(s):
    # the published algorithm, written independently of kkm.ids
    d = [int(c) for c in s]
    k = sum([d[i] * (i + 1) for i in range(11)]) % 11
    if k == 10:
        w = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]
        k = sum([d[i] * w[i] for i in range(11)]) % 11
        if k == 10:
            return None
    return k


def test_iin_bin_check_digit_valid():
    # 9 0 0 1 0 1 3 0 0 1 2 x 1..11 = 9+0+0+4+0+6+21+0+0+10+22 = 72; 72 mod 11 = 6
    assert ids.check_iin_bin("900101300126")
    assert ids.check_iin_bin("850725401230")  # first pass gives 0
    assert ids.check_iin_bin("050416500122")
    # first pass 10, second pass (weights 3..11,1,2) gives 3 and 2
    assert ids.check_iin_bin("123456789013")
    assert ids.check_iin_bin("991231400002")
    for s in ("900101300126", "850725401230", "050416500122", "123456789013", "991231400002"):
        assert _iin_ref(s) == int(s[11])


def test_iin_bin_check_digit_invalid():
    assert not ids.check_iin_bin("900101300127")  # wrong control digit
    assert not ids.check_iin_bin("123456789010")  # first-pass value 10 is not the digit
    for last in "0123456789":
        # both passes give 10: no control digit is valid
        assert not ids.check_iin_bin("10000000028" + last)
    assert _iin_ref("100000000280") is None
    for bad in ("", "90010130012", "9001013001260", "90010130012a", "９００１０１３００１２６", None, 900101300126):
        assert not ids.check_iin_bin(bad)


def test_r57_buyer_iin_validated_with_clear_message():
    r = _sale()
    assert _err(r.set_buyer, "900101300127") == texts.E_IIN
    assert texts.text(texts.E_IIN, "kk") != texts.text(texts.E_IIN, "ru")
    r.set_buyer("900101300126", "buyer@mail.kz", "+77011234567")
    assert r.buyer_iin == "900101300126"
    assert _err(r.set_buyer, None, "no-at-sign") == texts.E_EMAIL
    assert _err(r.set_buyer, None, None, "12ab") == texts.E_PHONE


def test_gtin_check_digits():
    assert ids.check_gtin(GTIN13)
    assert ids.check_gtin("96385074")  # GTIN-8
    assert ids.check_gtin("036000291452")  # GTIN-12 (UPC-A)
    assert ids.check_gtin("10012345678902")  # GTIN-14
    assert not ids.check_gtin("4006381333932")
    assert not ids.check_gtin("400638133393")  # 12 digits, wrong check
    assert not ids.check_gtin("12345")
    assert not ids.check_gtin("400638133393a")
    assert ids.check_ntin(NTIN)
    assert not ids.check_ntin("2000000000016")
    assert _err(Receipt(D.OP_SELL, 1).add_line, _line(gtin="4006381333932")) == texts.E_GTIN
    assert _err(Receipt(D.OP_SELL, 1).add_line, _line(ntin="20000000000")) == texts.E_NTIN


# --- receipts ------------------------------------------------------------

def test_sale_totals_cash_change_and_taxes():
    r = _sale()
    assert r.total() == 100000 + 41111
    r.add_payment(Payment(D.PAY_CASH, r.total(), 150000))
    r.validate(TABLE)
    assert r.cash_part() == 141111
    assert r.change() == 150000 - 141111
    assert r.taken() == 150000
    # per line: 1000.00 at 16 % -> 137.93; 411.11 at 5 % -> 19.58
    assert r.taxes(TABLE) == [(1, 16000, 100000, 13793), (2, 5000, 41111, 1958)]


def test_taxes_exempt_and_non_vat_payer():
    r = Receipt(D.OP_SELL, 1)
    r.add_line(_line(5, tax_code=1))  # 0.05 tenge at 16 %
    r.add_line(_line(1, tax_code=1))  # 1 tiyn line
    r.add_line(_line(20000, tax_code=3))  # exempt
    assert r.taxes(TABLE) == [(1, 16000, 6, 1), (3, 0, 20000, 0)]  # 1 + 0: per line
    nonpayer = tax.default_table(vat_payer=False)
    assert r.taxes(nonpayer) == [(1, 0, 6, 0), (3, 0, 20000, 0)]


def test_split_card_and_mobile_payments():
    r = _sale()
    r.add_payment(Payment(D.PAY_CARD, 100000, terminal="T0001", auth_code="123456", rrn="123456789012"))
    r.add_payment(Payment(D.PAY_MOBILE, 41111, qr_id="KASPI-QR-77"))
    r.validate(TABLE)
    assert r.cash_part() == 0
    assert r.change() == 0
    assert _err(r.add_payment, Payment(D.PAY_CARD, 1)) == texts.E_PAY_DUP


def test_payment_checks():
    r = _sale()
    assert _err(r.validate, TABLE) == texts.E_PAY_SHORT
    r.add_payment(Payment(D.PAY_CARD, r.total() + 1))
    assert _err(r.validate, TABLE) == texts.E_PAY_OVER  # no change from a card
    r.clear_payments()
    assert _err(r.add_payment, Payment(D.PAY_CASH, 100, 99)) == texts.E_TENDERED
    assert _err(r.add_payment, Payment(D.PAY_CASH, 0)) == texts.E_AMOUNT
    assert _err(r.add_payment, Payment(2, 100)) == texts.E_PAY_KIND  # deprecated credit
    assert _err(r.add_payment, Payment(D.PAY_CASH, 100, terminal="T1")) == texts.E_PAY_FIELDS
    assert _err(r.add_payment, Payment(D.PAY_CARD, 100, rrn="12AB")) == texts.E_PAY_FIELDS
    r.add_payment(Payment(D.PAY_CASH, 40000))
    r.add_payment(Payment(D.PAY_CARD, r.total() - 40000))
    r.validate(TABLE)


def test_line_checks():
    r = Receipt(D.OP_SELL, 1)
    assert _err(r.validate, TABLE) == texts.E_NO_LINES
    assert _err(r.add_line, Line("", 100, 1000, D.UNIT_PIECE, 1, 1)) == texts.E_NAME
    assert _err(r.add_line, _line(qty=0)) == texts.E_LINE
    assert _err(r.add_line, _line(qty=1500)) == texts.E_QTY_WHOLE  # 1.5 pieces
    assert _err(r.add_line, _line(price=-1)) == texts.E_LINE
    assert _err(r.add_line, _line(unit="999")) == texts.E_UNIT
    assert _err(r.add_line, _line(section=0)) == texts.E_SECTION
    assert _err(r.add_line, _line(discount=100001)) == texts.E_MODIFIER
    assert _err(r.add_line, _line(discount=1, markup=1)) == texts.E_MODIFIER
    r.add_line(_line(tax_code=9))
    r.add_payment(Payment(D.PAY_CASH, 100000))
    assert _err(r.validate, TABLE) == texts.E_TAX_GROUP


def test_discount_and_markup_per_line():
    r = Receipt(D.OP_SELL, 1)
    r.add_line(_line(100000, discount=10000))
    r.add_line(_line(50000, markup=2500))
    assert r.gross() == 150000
    assert r.discount() == 10000
    assert r.markup() == 2500
    assert r.total() == 142500
    # VAT on the final line sums: 900.00 -> 124.14; 525.00 -> 72.41
    assert r.taxes(TABLE) == [(1, 16000, 142500, 12414 + 7241)]


def test_measured_goods_three_decimals():
    r = Receipt(D.OP_SELL, 1)
    r.add_line(_line(123456, 333, D.UNIT_KG))
    r.add_line(_line(99999, 1, D.UNIT_G))  # 0.001 g x 999.99 -> 1 tiyn
    assert r.total() == 41111 + 100


def test_kz_7_1_marked_goods_need_codes():
    code = "0104600439931256215!&'\x1d93abcd"
    r = Receipt(D.OP_SELL, 1)
    assert _err(r.add_line, _line(qty=2000, marking_required=True, marks=[code])) == texts.E_MARK_REQUIRED
    r.add_line(_line(qty=2000, marking_required=True, marks=[code, code + "x"]))
    assert _err(r.add_line, _line(marks=["bad code with\nnewline"])) == texts.E_MARK
    assert _err(r.add_line, _line(marks=[""])) == texts.E_MARK


def test_s000_4_excise_stamps_are_a_list():
    r = Receipt(D.OP_SELL, 1)
    r.add_line(_line(qty=3000, marks=["EX-0001", "EX-0002", "EX-0003"]))
    assert r.lines[0].marks == ["EX-0001", "EX-0002", "EX-0003"]


def test_remove_line_and_abandon_before_fiscalisation():
    r = _sale()
    r.remove_line(0)
    assert len(r.lines) == 1
    assert _err(r.remove_line, 5) == texts.E_INDEX
    r.remove_line(0)
    assert _err(r.validate, TABLE) == texts.E_NO_LINES


def test_s001_4_sealed_receipt_cannot_change_and_has_no_cancel():
    r = _sale()
    r.add_payment(Payment(D.PAY_CASH, r.total()))
    r.validate(TABLE)
    r.seal()
    assert _err(r.remove_line, 0) == texts.E_SEALED
    assert _err(r.add_line, _line()) == texts.E_SEALED
    assert _err(r.add_payment, Payment(D.PAY_CARD, 1)) == texts.E_SEALED
    assert _err(r.set_buyer, "900101300126") == texts.E_SEALED
    for name in ("cancel", "annul", "void"):
        assert not hasattr(r, name)


def test_kz_15_sale_return_needs_parent():
    r = _sale(D.OP_SELL_RETURN)
    r.add_payment(Payment(D.PAY_CASH, r.total()))
    assert _err(r.validate, TABLE) == texts.E_PARENT_REQUIRED
    r.set_parent(_parent(100000))
    assert _err(r.validate, TABLE) == texts.E_RETURN_OVER
    r.set_parent(_parent())
    r.validate(TABLE)
    assert r.parent.number == "4228143549"
    assert _err(r.set_parent, Parent("", 1, 1, False, "x")) == texts.E_PARENT_REQUIRED


def test_parent_only_for_returns():
    for op in (D.OP_SELL, D.OP_BUY):
        assert _err(_sale(op).set_parent, _parent()) == texts.E_PARENT_NOT_ALLOWED


def test_purchase_and_purchase_return():
    b = _sale(D.OP_BUY)
    b.add_payment(Payment(D.PAY_CASH, b.total()))
    b.validate(TABLE)
    br = _sale(D.OP_BUY_RETURN)
    br.add_payment(Payment(D.PAY_CASH, br.total()))
    assert _err(br.validate, TABLE) == texts.E_PARENT_REQUIRED
    br.set_parent(Parent("OFF-00000042", 1830000000, 200000, True, "010101234567"))
    br.validate(TABLE)


def test_bad_op_and_cashier():
    assert _err(Receipt, 4, 1) == texts.E_OP
    assert _err(Receipt, D.OP_SELL, 0) == texts.E_CASHIER


def _same(a, b):
    assert a.op == b.op and a.cashier_code == b.cashier_code and a.vat_payer == b.vat_payer
    assert len(a.lines) == len(b.lines)
    for x, y in zip(a.lines, b.lines):
        for f in ("name", "price", "qty_milli", "unit_code", "section", "tax_code", "gtin", "ntin", "marks",
                  "discount", "markup", "marking_required", "percent"):
            assert getattr(x, f) == getattr(y, f), f
    assert len(a.payments) == len(b.payments)
    for x, y in zip(a.payments, b.payments):
        for f in ("kind", "amount", "tendered", "terminal", "auth_code", "rrn", "qr_id"):
            assert getattr(x, f) == getattr(y, f), f
    assert (a.buyer_iin, a.buyer_email, a.buyer_phone) == (b.buyer_iin, b.buyer_email, b.buyer_phone)
    if a.parent is None:
        assert b.parent is None
    else:
        for f in ("number", "ts", "total", "offline", "kkm_rnm"):
            assert getattr(a.parent, f) == getattr(b.parent, f)


def test_encode_decode_round_trip_every_receipt_type():
    for op in D.OPS:
        r = _sale(op)
        r.add_line(_line(1, 1000, marks=["EX-1", "0104600439931256\x1d93ab"], discount=1, gtin=GTIN13))
        r.add_payment(Payment(D.PAY_CASH, 1000, 5000))
        r.add_payment(Payment(D.PAY_CARD, r.total() - 1000, terminal="T1", auth_code="0012", rrn="99"))
        r.set_buyer("900101300126", None, "87011234567")
        if D.is_return(op):
            r.set_parent(_parent())
        r.validate(TABLE, None, *ISSUER)
        b = DC.encode_receipt(r)
        assert isinstance(b, bytes) and b[0] == 3  # stamped: version 3
        d = DC.decode_receipt(b)
        _same(r, d)
        assert d.sealed
        assert DC.encode_receipt(d) == b
        assert d.total() == r.total()
    # a 10-line receipt stays small for the journal
    r = Receipt(D.OP_SELL, 1)
    for i in range(10):
        r.add_line(_line(100 + i, gtin=GTIN13))
    r.stamp(TABLE, *ISSUER)
    assert len(DC.encode_receipt(r)) < 500


def test_decode_rejects_damaged_bytes():
    r = _sale()
    r.add_payment(Payment(D.PAY_CASH, r.total()))
    try:
        DC.encode_receipt(r)  # a draft: its rates and issuer are not stamped yet
        raise AssertionError("encoded")
    except ValueError:
        pass
    r.validate(TABLE, None, *ISSUER)
    b = DC.encode_receipt(r)
    assert b[0] == 3 and b[3] == 1  # version, op, cashier, VAT payer
    # versions 1 and 2 (no stamps) were never journalled by a register
    for bad in (b[:-1], b + b"\x00", b"\x01" + b[1:], b"\x02" + b[1:], b[:3] + b"\x02" + b[4:], b"", b[:10]):
        assert _err(DC.decode_receipt, bad) == texts.E_DECODE
    # a stamped rate of 100 % or more is damage
    r2 = Receipt(D.OP_SELL, 1)
    r2.add_line(_line())
    r2.stamp(TABLE, *ISSUER)
    r2.lines[0].percent = 100000
    assert _err(DC.decode_receipt, DC.encode_receipt(r2)) == texts.E_DECODE


def test_kz_43_2_validate_stamps_the_effective_rates_and_vat_status():
    r = Receipt(D.OP_SELL, 1)
    r.add_line(_line(10500, tax_code=2))
    r.add_line(_line(25000, tax_code=1))
    r.add_line(_line(5000, tax_code=3))
    r.add_payment(Payment(D.PAY_CASH, r.total()))
    assert not r.stamped()
    r.validate(TABLE, None, *ISSUER)
    assert r.stamped() and r.vat_payer is True
    assert [ln.percent for ln in r.lines] == [5000, 16000, 0]
    d = DC.decode_receipt(DC.encode_receipt(r))
    # the stamps, never the table: a later table (10 % medicines in 2027,
    # or re-programmed groups, or a non-payer) changes nothing
    for t in (None, tax.default_table(year=2027), tax.default_table(vat_payer=False),
              tax.table([[1, 12000, "a", "b", False]])):
        assert d.taxes(t) == [(1, 16000, 25000, 3448), (2, 5000, 10500, 500), (3, 0, 5000, 0)]
        assert [d.line_vat(i, t) for i in range(3)] == [500, 3448, 0]
        assert d.is_vat_payer(t) is True
    # the 2027 table stamps 10 %, a non-payer 0 on every line
    r.validate(tax.default_table(year=2027))
    assert [ln.percent for ln in r.lines] == [10000, 16000, 0]
    r.validate(tax.default_table(vat_payer=False), None, *ISSUER)
    assert [ln.percent for ln in r.lines] == [0, 0, 0] and r.vat_payer is False
    assert DC.decode_receipt(DC.encode_receipt(r)).taxes() == [(1, 0, 25000, 0), (2, 0, 10500, 0), (3, 0, 5000, 0)]
    # a change of the draft makes the stamps stale: validate stamps again
    r.add_line(_line(100, tax_code=1))
    assert not r.stamped() and r.lines[-1].percent is None
    assert _err(r.taxes) == texts.E_TAX_GROUP  # no stamps, no table
    # a sealed receipt keeps its stamps (validate does not re-stamp it)
    assert _err(d.stamp, TABLE) == texts.E_SEALED
    d.validate(tax.default_table(year=2027))
    assert [ln.percent for ln in d.lines] == [5000, 16000, 0]


def test_kz_27_deposit_and_withdrawal():
    for kind in (D.DEPOSIT, D.WITHDRAWAL):
        p = Placement(kind, 500000, 3, *ISSUER)
        q = DC.decode_placement(DC.encode_placement(p))
        assert (q.kind, q.amount, q.cashier_code, q.operator_name, q.utc_offset) == (kind, 500000, 3) + ISSUER
    assert _err(Placement, 2, 100, 1) == texts.E_OP
    assert _err(Placement, D.DEPOSIT, 0, 1) == texts.E_AMOUNT
    assert _err(Placement, D.DEPOSIT, 10, 0) == texts.E_CASHIER
    assert _err(DC.decode_placement, b"\x01\x00") == texts.E_DECODE
    # version 1 (no issuer stamp) was never journalled by a register
    assert _err(DC.decode_placement, bytes([1, D.DEPOSIT, 100, 3])) == texts.E_DECODE


def test_every_document_error_has_kk_and_ru_text():
    for code in range(texts.E_NO_LINES, texts.E_PAY_FIELDS + 1):
        kk = texts.text(code, "kk")
        ru = texts.text(code, "ru")
        assert kk and ru and not kk.startswith("#") and not ru.startswith("#")
    assert texts.text(9999, "ru") == "#9999"


def test_journalled_receipt_fits_one_journal_record():
    r = Receipt(D.OP_SELL, 1)
    for i in range(60):
        r.add_line(_line(100, gtin=GTIN13, marks=["M" * 100]))
    r.add_payment(Payment(D.PAY_CASH, r.total()))
    r.validate(TABLE, None, *ISSUER)
    assert _err(DC.encode_receipt, r) == texts.E_TOO_MANY
    while True:  # the stamped rates count too
        r.remove_line(0)
        r.clear_payments()
        r.add_payment(Payment(D.PAY_CASH, r.total()))
        r.validate(TABLE, None, *ISSUER)
        try:
            b = DC.encode_receipt(r)
            break
        except DocumentError as e:
            assert e.args[0] == texts.E_TOO_MANY
    assert 8 + len(b) <= 2048  # with the register's header


def test_receipt_whose_lines_round_to_zero_is_refused():
    # 0.333 kg at 1 tiyn/kg rounds to 0 tiyn: no fiscal receipt for nothing
    r = Receipt(D.OP_SELL, 1)
    r.add_line(Line("Гвоздь", 1, 333, D.UNIT_KG, 1, 1))
    assert r.total() == 0
    assert _err(r.validate, TABLE) == texts.E_AMOUNT


def test_ofd_17_buyer_iin_bin_may_not_be_the_sellers():
    r = _sale()
    r.add_payment(Payment(D.PAY_CASH, r.total()))
    r.set_buyer("990511400009")
    r.validate(TABLE)  # the receipt alone does not know the seller
    assert _err(r.validate, TABLE, "990511400009") == texts.E_SAME_TAXPAYER
    r.validate(TABLE, "900101300126")
    r.set_buyer(None, "buyer@mail.kz")
    r.validate(TABLE, "990511400009")  # no buyer IIN: nothing to compare
