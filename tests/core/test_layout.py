# Receipt layout: every R-56 field, KZ-39 fiscal mark only with a fiscal
# sign, KZ-29.4/29.5 offline mark and autonomous sign, R-57 / KZ-24¶2 buyer
# IIN, Kazakh and Russian (KZ-32), QR payload per KZ-34/KZ-35, line widths.
from compat import unix_from_civil
from kkm import document as D
from kkm import doccodec as DC
from kkm import layout as L
from kkm import tax, texts
from kkm.counters import ShiftCounters, REPORT_X, REPORT_Z
from kkm.document import Line, Payment, Parent, Receipt, Placement

TABLE = tax.default_table()
TS = unix_from_civil(2028, 6, 29, 17, 9, 16)
GTIN = "4006381333931"
NTIN = "2000000000015"
MARK = "0104600439931256215!&'\x1d93abcd"


def _receipt(op=D.OP_SELL, table=TABLE):
    r = Receipt(op, 7)
    r.add_line(Line("Сүт 3,2% ұзақ сақталатын, 1 л тетрапак қаптамада", 45000, 1000, D.UNIT_PIECE, 1, 1,
                    gtin=GTIN, marks=[MARK], marking_required=True))
    r.add_line(Line("Парацетамол 500 мг", 123456, 333, D.UNIT_KG, 2, 2, ntin=NTIN, discount=111))
    r.add_line(Line("Қант", 5, 1000, D.UNIT_PIECE, 2, 3))
    r.add_payment(Payment(D.PAY_CASH, r.total(), 100000))
    if D.is_return(op):
        r.set_parent(Parent("4228143549", TS - 3600 - 5 * 3600, 200000, True, "010101234567"))
    r.validate(table)  # stamps the rates and VAT status of `table`
    return r


def _info(**kw):
    info = {"taxpayer": 'ЖШС "Ақжол Сауда"', "bin": "850725401230", "address": "Алматы қ., Абай даңғылы, 10",
            "factory_no": "KKM0000012", "rnm": "010101234567", "vat_payer": True, "number": 123, "shift_no": 5,
            "ts": TS, "fiscal_sign": "4228143549", "offline": False, "ofd_name": 'АҚ "Қазақтелеком"',
            "check_url": "consumer.oofd.kz", "table": TABLE}
    for k in kw:
        info[k] = kw[k]
    return info


def _texts(lines):
    return [t for s, t in lines]


def _has(lines, part):
    for s, t in lines:
        if part in t:
            return True
    return False


def _widths_ok(lines, width):
    for s, t in lines:
        if not (s & L.QR):
            assert len(t) <= width, t


def test_r56_every_mandatory_field_kk_and_ru():
    r = _receipt()
    for lang in ("kk", "ru"):
        lines = L.receipt_lines(r, _info(), lang)
        for part in ('ЖШС "Ақжол Сауда"',  # (1)
                     "Алматы қ., Абай даңғылы, 10",  # (2)
                     "850725401230",  # (3)
                     "KKM0000012",  # (4)
                     "010101234567",  # (5)
                     "123",  # (6)
                     "Сүт 3,2%", "тетрапак", "Парацетамол 500 мг",  # (7), wrapped name kept whole
                     GTIN, NTIN, "0104600439931256215!&' 93abcd",  # (8) code and marking
                     "0.333 " + D.unit_name(D.UNIT_KG, lang), "1 " + D.unit_name(D.UNIT_PIECE, lang),  # (9)
                     "x 1 234.56", "x 450.00",  # (10)
                     "860.05",  # (11) total: 450.00 + 411.11 - 1.11 + 0.05 = 860.05
                     'АҚ "Қазақтелеком"', "consumer.oofd.kz",  # (12)
                     "29.06.2028 17:09:16",  # (13)
                     "4228143549",  # (14)
                     ):
            assert _has(lines, part), (lang, part)
        # (15) VAT with the rate: 450.00 at 16 % -> 62.07; 410.00 at 5 % -> 19.52
        vat = texts.text(texts.L_VAT_INCL, lang)
        assert _has(lines, vat + " 16%") and _has(lines, "62.07")
        assert _has(lines, vat + " 5%") and _has(lines, "19.52")
        # (16) the QR line
        qr = [t for s, t in lines if s & L.QR]
        assert qr == ["http://consumer.oofd.kz?i=4228143549&f=010101234567&s=860.05&t=20280629T170916"]
        _widths_ok(lines, 48)


def test_kz_32_kazakh_letters_and_russian_labels():
    r = _receipt()
    kk = L.receipt_lines(r, _info(), "kk")
    ru = L.receipt_lines(r, _info(), "ru")
    assert _has(kk, "ЖИЫНЫ") and _has(kk, "ҚҚС") and _has(kk, "Қайтарым")
    assert _has(ru, "ИТОГО") and _has(ru, "НДС") and _has(ru, "Сдача")
    assert not _has(ru, "ЖИЫНЫ") and not _has(kk, "ИТОГО")


def test_kz_39_fiscal_mark_only_with_fiscal_sign():
    r = _receipt()
    for lang in ("kk", "ru"):
        lines = L.receipt_lines(r, _info(), lang)
        assert _has(lines, "ФИСКАЛДЫҚ ЧЕК")
        pre = L.receipt_lines(r, _info(fiscal_sign=None), lang)
        assert not _has(pre, "ФИСКАЛДЫҚ ЧЕК")
        assert not _has(pre, "ФИСКАЛЬНЫЙ ЧЕК")
        assert _has(pre, texts.text(texts.L_NOT_FISCAL, lang))
        assert not [t for s, t in pre if s & L.QR]


def test_kz_29_4_and_29_5_offline_mark_and_autonomous_sign():
    r = _receipt()
    for lang in ("kk", "ru"):
        on = L.receipt_lines(r, _info(), lang)
        assert not _has(on, "Автономды")
        off = L.receipt_lines(r, _info(offline=True, fiscal_sign="OFF-000000042"), lang)
        assert _has(off, "Автономды")
        assert _has(off, texts.text(texts.L_OFFLINE_SIGN, lang))
        assert _has(off, "OFF-000000042")
        assert _has(off, "ФИСКАЛДЫҚ ЧЕК")
        qr = [t for s, t in off if s & L.QR]
        assert qr[0].startswith("http://consumer.oofd.kz?i=OFF-000000042&f=010101234567&")


def test_r57_buyer_iin_only_when_given():
    r = _receipt()
    for lang in ("kk", "ru"):
        assert not _has(L.receipt_lines(r, _info(), lang), texts.text(texts.L_BUYER_BIN, lang))
    r2 = Receipt(D.OP_SELL, 1)
    r2.add_line(Line("Нан", 20000, 1000, D.UNIT_PIECE, 1, 1))
    r2.set_buyer("900101300126", "a@b.kz")
    r2.add_payment(Payment(D.PAY_CARD, 20000, terminal="T7", auth_code="556677", rrn="123456789012"))
    r2.validate(TABLE)
    for lang in ("kk", "ru"):
        lines = L.receipt_lines(r2, _info(), lang)
        assert _has(lines, texts.text(texts.L_BUYER_BIN, lang))
        assert _has(lines, "900101300126") and _has(lines, "a@b.kz")
        # KZ-24¶3 card details
        assert _has(lines, "T7") and _has(lines, "556677") and _has(lines, "123456789012")


def test_non_vat_payer_prints_no_vat():
    t = tax.default_table(vat_payer=False)
    r = _receipt(table=t)
    lines = L.receipt_lines(r, _info(vat_payer=False, table=t), "ru")
    assert not _has(lines, "в т.ч. НДС")
    assert _has(lines, texts.text(texts.L_NON_VAT_PAYER, "ru"))


def test_kz_43_2_a_stamped_receipt_prints_its_own_rates_and_vat_status():
    # the receipt was fiscalised by a VAT payer with medicines at 5 %; the
    # settings now say otherwise (re-registered as a non-payer, the 2027
    # rate): a copy of it prints what the original printed
    r = _receipt()
    r.stamp(TABLE, "Айгүл", 5 * 3600)  # as the register journals it
    orig = L.receipt_lines(r, _info(), "ru")
    assert _has(orig, "в т.ч. НДС 5%") and _has(orig, "в т.ч. НДС 16%")
    later = tax.default_table(vat_payer=False, year=2027)
    d = DC.decode_receipt(DC.encode_receipt(r))
    assert L.receipt_lines(d, _info(vat_payer=False, table=later), "ru") == orig
    assert L.receipt_lines(d, _info(vat_payer=False), "ru") == orig  # no table needed
    # an unstamped draft prints at the table it is given
    u = Receipt(D.OP_SELL, 7)
    u.add_line(Line("Парацетамол", 11000, 1000, D.UNIT_PIECE, 2, 2))
    assert _has(L.receipt_lines(u, _info(fiscal_sign=None, table=tax.default_table(year=2027)), "ru"),
                "в т.ч. НДС 10%")


def test_return_refers_to_parent():
    r = _receipt(D.OP_SELL_RETURN)
    lines = L.receipt_lines(r, _info(), "kk")
    assert _has(lines, texts.text(texts.L_SELL_RETURN, "kk"))
    assert _has(lines, texts.text(texts.L_PARENT, "kk"))
    assert _has(lines, "29.06.2028 16:09:16")  # the parent's UTC time shown in local time
    assert _has(lines, "2 000.00") and _has(lines, texts.text(texts.L_PARENT_OFFLINE, "kk"))
    b = _receipt(D.OP_BUY_RETURN)
    assert _has(L.receipt_lines(b, _info(), "ru"), "ВОЗВРАТ ПОКУПКИ")
    assert _has(L.receipt_lines(_receipt(D.OP_BUY), _info(), "ru"), "ПОКУПКА")


def test_r56_special_sale_and_purchase_amounts():
    r = _receipt(D.OP_BUY)
    lines = L.receipt_lines(r, _info(dual_totals=True), "ru")
    i = _texts(lines)
    sale = [t for t in i if t.startswith(texts.text(texts.L_SALE_SUM, "ru"))]
    buy = [t for t in i if t.startswith(texts.text(texts.L_BUY_SUM, "ru"))]
    assert sale[0].endswith(" 0.00") and buy[0].endswith(" 860.05")
    assert not _has(L.receipt_lines(r, _info(), "ru"), texts.text(texts.L_SALE_SUM, "ru"))


def test_narrow_paper_32_columns():
    r = _receipt()
    for lang in ("kk", "ru"):
        for off in (False, True):
            _widths_ok(L.receipt_lines(r, _info(offline=off), lang, L.NARROW), 32)
            _widths_ok(L.receipt_lines(r, _info(offline=off), lang, L.WIDE), 48)


def test_kz_35_qr_exact_strings_on_edge_cases():
    midnight = unix_from_civil(2026, 1, 1, 0, 0, 0)
    assert L.qr_payload("http://consumer.oofd.kz", "4228143549", "010101234567", 5, midnight) == \
        "http://consumer.oofd.kz?i=4228143549&f=010101234567&s=0.05&t=20260101T000000"
    assert L.qr_payload("https://ofd1.kz/t", "1", "600400012345", 99999999999999,
                        unix_from_civil(2099, 12, 31, 23, 59, 59)) == \
        "https://ofd1.kz/t?i=1&f=600400012345&s=999999999999.99&t=20991231T235959"
    assert L.qr_payload("consumer.test-oofd.kz", "4228143549", "R", 69690, TS) == \
        "http://consumer.test-oofd.kz?i=4228143549&f=R&s=696.90&t=20280629T170916"
    assert L.qr_payload("http://x.kz", "9", "R", 100, unix_from_civil(2028, 2, 29, 0, 0, 1)) == \
        "http://x.kz?i=9&f=R&s=1.00&t=20280229T000001"


def _zx(kind):
    c = ShiftCounters()
    c.add_placement(Placement(D.DEPOSIT, 500000, 1), False)
    c.add_receipt(_receipt(), False, TABLE)
    c.add_receipt(_receipt(D.OP_SELL_RETURN), True, TABLE)
    c.add_receipt(_receipt(D.OP_BUY), False, TABLE)
    c.add_placement(Placement(D.WITHDRAWAL, 100000, 2), True)
    return c, c.zx_report(kind, 5, TS, TS - 3600)


def test_kz_31_4_and_31_5_x_and_z_report_lines():
    for kind in (REPORT_X, REPORT_Z):
        c, zx = _zx(kind)
        for lang in ("kk", "ru"):
            lines = L.report_lines(zx, lang)
            title = texts.L_Z_REPORT if kind == REPORT_Z else texts.L_X_REPORT
            assert lines[0][1].strip() == texts.text(title, lang)
            assert _has(lines, texts.text(texts.L_CASH_SUM, lang))
            # drawer: 5 000.00 + 860.05 (sale) - 860.05 (return) - 860.05 (purchase) - 1 000.00
            assert _has(lines, "3 139.95")
            assert _has(lines, zx["checksum"])
            assert _has(lines, texts.text(texts.L_CLOSED, lang)) == (kind == REPORT_Z)
            _widths_ok(lines, 48)
            _widths_ok(L.report_lines(zx, lang, L.NARROW), 32)
        assert c.cash == 313995


def test_kz_31_2_and_31_3_cashier_and_section_lines():
    c, zx = _zx(REPORT_X)
    for lang in ("kk", "ru"):
        cl = L.cashier_lines(c.by_cashier(), lang)
        assert cl[0][1].strip() == texts.text(texts.L_CASHIER_REPORT, lang)
        assert _has(cl, texts.text(texts.L_CASHIER, lang) + " 7")
        assert _has(cl, "1 / 860.05")
        sl = L.section_lines(c.by_section(), lang, L.NARROW)
        assert sl[0][1].strip() == texts.text(texts.L_SECTION_REPORT, lang)
        assert _has(sl, texts.text(texts.L_SECTION, lang) + " 2")
        _widths_ok(cl, 48)
        _widths_ok(sl, 32)


def test_kz_27_placement_slip():
    for kind, code in ((D.DEPOSIT, texts.L_DEPOSIT), (D.WITHDRAWAL, texts.L_WITHDRAWAL)):
        lines = L.placement_lines(Placement(kind, 123456, 3), _info(cash=500000, offline=True), "kk")
        assert _has(lines, texts.text(code, "kk"))
        assert _has(lines, "1 234.56") and _has(lines, "5 000.00") and _has(lines, "Автономды")
        _widths_ok(lines, 48)


def test_wrap_never_exceeds_width():
    for s in ("", "a", "x" * 100, "сөз " * 30, "one two\nthree"):
        for w in (8, 32, 48):
            for part in L.wrap(s, w):
                assert len(part) <= w
