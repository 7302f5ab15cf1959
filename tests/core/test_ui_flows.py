# The cashier UI driven by key names on a fake board (tests/core/uikit.py):
# the real register, journal on the NOR emulator and the in-memory OFD
# behind a link that can break. Login (KZ-1), sales by scan, code and free
# price, weighed and marked goods (KZ-7.1), cash with change, card, mixed
# payment, refusals with their message and the way out, a return found by
# what is on the paper, cash in and out (KZ-27), X and Z (KZ-31),
# locks with what to do (KZ-6, KZ-14, KZ-29.2), the status strip.
from kkm import catalog as C
from kkm import document as D
from kkm import layout
from kkm import locks as L
from ofd import texts
from uikit import ADMIN, SERVICE, body, drive, login, provisioned, run, screen

BREAD = "4870001000011"
APPLES = "4870001000202"  # weighed, kg
CIGARETTES = "4870001000141"  # marked
MARK = "010487000100014121abc123"
# not cached: the in-memory OFD's catalogue (ofdkit.Link) knows the first two
KUMYS = "0200000000028"
SHOES = "4870001000165"
UNKNOWN = "4600000000008"


def _shop(cols=20, rows=4, **settings):
    # a fiscalised register whose catalogue cache knows three goods, its
    # power-on connection test done (online)
    b, app = provisioned(cols, rows, **settings)
    reg = app.reg
    reg.catalog = C.Catalog()
    reg.catalog.put(BREAD, C.Item(100, BREAD, None, "Хлеб белый", "Ақ нан", D.UNIT_PIECE, False), 3)
    reg.catalog.put(APPLES, C.Item(101, APPLES, None, "Яблоки", "Алма", D.UNIT_KG, False), 3)
    reg.catalog.put(CIGARETTES, C.Item(102, CIGARETTES, None, "Сигареты", "Темекі", D.UNIT_PIECE, True), 3)
    run(app.desk.sender.step())  # the power-on connection test
    app.refresh()
    return b, app


def said(app):
    # the whole message over the screen (the display shows its first rows)
    return " ".join(app.ui.message or [])


def _paper(b):
    return "\n".join(s for st, s in b.printer.printed[-1])


def test_login_in_kazakh_or_russian_switched_at_login():
    b, app = _shop()
    assert "Пайдаланушы коды:" in screen(app)
    drive(app, "MENU")  # KZ: the language is chosen at login
    assert "Код пользователя:" in screen(app)
    f = login(app)
    assert f[0].startswith("Онлайн") and "Готов" in f[1], f
    b2, app2 = _shop()
    assert "Дайын" in login(app2)[1]


def test_wrong_password_says_attempts_left_and_asks_again():
    b, app = _shop()
    f = drive(app, "1", "ENT", "1112", "ENT")
    text = screen(app)
    assert "Құпиясөз қате" in text and "4" in text, f  # KZ-1: attempts left
    drive(app, "ESC")  # the way out: the password is asked again
    assert "Құпиясөз:" in screen(app)
    drive(app, "1111", "ENT")
    assert "Дайын" in screen(app)


def test_sale_by_scan_paid_in_cash_with_change():
    b, app = _shop()
    login(app)
    drive(app, ("scan", BREAD))
    assert "Бағасы:" in screen(app) and "Ақ нан" in screen(app)
    drive(app, "180", "ENT")
    assert "1.Ақ нан" in screen(app) and "180.00" in screen(app)
    drive(app, "2", "QTY", ("scan", BREAD), "175", "ENT")  # two loaves at 175
    assert "530.00" in screen(app)
    drive(app, "PAY")
    assert "530.00" in screen(app)
    f = drive(app, "1000", "CASH")
    assert f[1] == "Чек берілді", f
    assert f[2] == "Қайтарым      470.00", f
    paper = _paper(b)
    assert "ФИСКАЛДЫҚ ЧЕК" in paper and "Ақ нан" in paper and "470.00" in paper
    assert not app.reg.draft
    # any key goes on: a digit starts the next sale
    drive(app, "5")
    assert "> 5" in screen(app)


def test_sale_by_product_code_and_free_price():
    b, app = _shop(catalogue="soft")
    login(app)
    drive(app, BREAD, "PLU", "200", "ENT")
    drive(app, "150.50", "PRICE")  # a free price: said to be outside the catalogue
    assert "350.50" in screen(app)
    assert "каталогтан тыс" in "\n".join(app.ui.screen.body(app.ui))
    drive(app, "PAY", "CASH")  # no amount: exactly what is due
    assert "Чек берілді" in screen(app)
    assert app.reg.last.doc.lines[1].name == "Товар" and app.reg.last.doc.lines[1].name_kk == "Тауар"


def test_weight_only_for_weighed_goods():
    b, app = _shop()
    login(app)
    drive(app, ("scan", APPLES))
    assert "Саны, кг:" in screen(app)
    drive(app, "1.250", "ENT", "800", "ENT")
    assert "1 000.00" in screen(app)
    f = drive(app, "0.5", "QTY", ("scan", BREAD))  # half a loaf: refused, the way out shown
    assert "Дана тауардың саны бүтін" in screen(app), f
    drive(app, "ESC")
    assert "1 000.00" in screen(app)  # the receipt is as it was
    assert len(app.reg.draft.lines) == 1


def test_marked_good_waits_for_its_marking_code():
    b, app = _shop()
    login(app)
    drive(app, ("scan", CIGARETTES), "950", "ENT")
    assert "Таңба коды: 0/1" in screen(app)
    assert app.reg.draft is None
    drive(app, ("scan", "bad code with spaces"))
    assert "Таңбалау коды қате" in screen(app)
    drive(app, "ESC", ("scan", MARK))
    assert app.reg.draft.lines[0].marks == [MARK]
    drive(app, "PAY", "CASH")
    assert "Таңба" in _paper(b) and MARK in _paper(b)


def test_s000_1_a_code_not_cached_is_asked_of_the_ofd_and_a_refusal_has_its_way_out():
    b, app = _shop()
    login(app)
    drive(app, "1.5", "QTY", KUMYS)
    app.ui.key("PLU")  # not in the cache: the sender asks the OFD
    assert "ФДО-дан сұралуда..." in screen(app) and KUMYS in screen(app)
    assert app.ui.key("5") is False  # the keys wait for the answer
    run(app.ui.work())  # the UI task awaits it
    assert "Қымыз, құйып сату" in screen(app) and "Бағасы:" in screen(app)
    drive(app, "1200", "ENT")
    ln = app.reg.draft.lines[0]
    assert (ln.nkt, ln.ntin, ln.qty_milli) == (111, KUMYS, 1500)
    assert app.reg.catalogue_item(KUMYS).nkt == 111  # cached: the next scan goes on at once
    drive(app, ("scan", UNKNOWN))  # result 18
    assert "Тауар Ұлттық тауарлар каталогында табылмады" in said(app) and "ESC: артқа" in said(app)
    drive(app, "ESC")
    assert len(app.reg.draft.lines) == 1
    b.link.cut()
    drive(app, SHOES, "PLU")  # no answer
    assert "ФДО жауап бермеді" in said(app)
    drive(app, "ESC")
    assert "> " + SHOES in screen(app)  # the typed code is given back
    assert b.link.asked() == [{"barcode": KUMYS}, {"barcode": UNKNOWN}]
    drive(app, "PAY", "CASH")
    assert "Қымыз" in _paper(b)


def test_card_payment():
    b, app = _shop()
    login(app)
    drive(app, BREAD, "PLU", "250", "ENT", "PAY", "CARD")
    assert "Чек берілді" in screen(app) and "Қайтарым" not in screen(app)
    p = app.reg.last.doc.payments
    assert len(p) == 1 and p[0].kind == D.PAY_CARD and p[0].amount == 25000


def test_mixed_payment_card_part_then_cash_with_change():
    b, app = _shop()
    login(app)
    drive(app, BREAD, "PLU", "1000", "ENT", "PAY", "600", "CARD")
    assert "Төлеуге       400.00" in screen(app)  # the rest is due
    drive(app, "100", "MOBILE")
    assert "Төлеуге       300.00" in screen(app)
    f = drive(app, "500", "CASH")
    assert f[2] == "Қайтарым      200.00", f
    kinds = sorted((p.kind, p.amount) for p in app.reg.last.doc.payments)
    assert kinds == [(D.PAY_CASH, 30000), (D.PAY_CARD, 60000), (D.PAY_MOBILE, 10000)]


def test_cash_in_parts():
    b, app = _shop()
    login(app)
    drive(app, "300", "PRICE", "PAY", "100", "CASH")
    assert "Төлеуге       200.00" in screen(app)
    f = drive(app, "250", "CASH")
    assert f[2] == "Қайтарым       50.00", f
    p = app.reg.last.doc.payments
    assert len(p) == 1 and p[0].amount == 30000 and p[0].tendered == 35000


def test_refused_input_has_its_message_and_a_way_out_that_loses_nothing():
    b, app = _shop()
    login(app, lang="ru")
    drive(app, "PAY")
    assert "В чеке нет позиций" in screen(app)  # KZ-6: an operation done wrongly is refused
    drive(app, "ESC", BREAD, "PLU", "300", "ENT", "12", "PAY", "500", "CARD")  # card over the amount due
    assert "Безналичная оплата больше итога" in screen(app)
    drive(app, "ESC")
    assert "> 500" in screen(app)  # the typed amount is kept for correction
    drive(app, "CLR")
    assert "К оплате      300.00" in screen(app)
    drive(app, "ESC", "PRICE")  # a price with nothing typed
    assert "Неверный ввод" in screen(app)
    drive(app, "ESC", "9" * 25)  # too long: the entry stops at its limit
    assert len(app.ui.entry.s) == 20
    drive(app, "CLR", "PAY", "CASH")
    assert "Чек выдан" in screen(app)
    assert app.ui.fault is None


def test_return_found_by_the_number_on_the_paper():
    b, app = _shop()
    login(app)
    drive(app, BREAD, "PLU", "200", "ENT", "3", "QTY", BREAD, "PLU", "100", "ENT", "PAY", "CASH")
    sold = app.reg.last
    sign = sold.fiscal_sign
    drive(app, "ESC", "RET", sign, "ENT")  # the fiscal sign printed on the receipt
    assert "1/2" in screen(app) and "Ақ нан" in screen(app)
    drive(app, "DOWN", "2", "QTY")  # two of the second line
    assert "200.00" in screen(app)
    drive(app, "PAY")
    assert "Қайтару берілді" in screen(app)
    ret = app.reg.last.doc
    assert ret.op == D.OP_SELL_RETURN and ret.total() == 20000 and ret.parent.number == sign
    assert "САТУДЫ ҚАЙТАРУ" in _paper(b)
    # by shift and number ("shift.number"): all that is left
    drive(app, "ESC", "RET", "1.1", "ENT", "ENT", "PAY")
    assert app.reg.last.doc.total() == 30000
    drive(app, "ESC", "RET", "1.1", "ENT")
    assert "толық қайтарылған" in screen(app)  # nothing left to return
    # by the QR code of the paper, scanned
    drive(app, "ESC", "ESC", BREAD, "PLU", "400", "ENT", "PAY", "CASH")
    qr = [t for st, t in b.printer.printed[-1] if st & layout.QR][0]
    drive(app, "ESC", "RET", ("scan", qr), "ENT", "PAY")
    assert app.reg.last.doc.op == D.OP_SELL_RETURN and app.reg.last.doc.total() == 40000
    drive(app, "ESC", "ESC")
    assert app.reg.draft is None


def test_deposit_and_withdrawal():
    b, app = _shop()
    login(app)
    drive(app, "MENU", "1", "5000", "ENT")
    assert "Чек берілді" in screen(app) or "Құжат №" in screen(app)
    assert "КАССАҒА ЕНГІЗУ" in _paper(b)
    drive(app, "ESC", "MENU", "2", "7000", "ENT")
    assert "Кассада қолма-қол ақша жеткіліксіз" in screen(app)
    drive(app, "ESC", "CLR", "2000", "ENT")
    assert "КАССАДАН АЛУ" in _paper(b)
    assert app.reg.counters.cash == 300000


def test_x_and_z_reports():
    b, app = _shop()
    login(app)
    drive(app, BREAD, "PLU", "200", "ENT", "PAY", "CASH", "ESC", "X")
    assert "X-есеп" in screen(app) and "X-ЕСЕП" in _paper(b)
    drive(app, "ESC", "MENU", "4")
    assert "КАССИРЛЕР БОЙЫНША ЕСЕП" in _paper(b)
    drive(app, "ESC", "ESC", "MENU", "5")
    assert "БӨЛІМДЕР БОЙЫНША ЕСЕП" in _paper(b)
    drive(app, "ESC", "ESC", "Z")
    assert "Ауысымды жабу?" in screen(app)
    drive(app, "ENT")
    assert "Ауысым жабылды" in screen(app) and "Ауысым № 1" in screen(app)
    assert "Z-ЕСЕП" in _paper(b)
    assert not app.reg.shift_open
    assert app.reg.auth.current[1] == 1  # back in the sales mode


def test_copy_of_the_last_receipt():
    b, app = _shop()
    login(app)
    drive(app, BREAD, "PLU", "200", "ENT", "PAY", "CASH", "ESC", "COPY")
    assert "КӨШІРМЕ" in _paper(b)


def test_lock_message_says_what_to_do_and_the_receipt_waits():
    b, app = _shop()
    login(app)
    drive(app, BREAD, "PLU", "200", "ENT", "PAY")
    b.printer.state = "no_paper"  # KZ-6
    drive(app, "CASH")
    text = screen(app)
    assert "Қағаз жоқ" in text and "Не істеу керек:" in text and "Қағаз салып" in text, text
    b.printer.state = "ok"
    drive(app, "ESC", "CASH")
    assert "Чек берілді" in screen(app)
    # KZ-14: a shift over 24 hours: payments locked, the Z is what to do
    b.clock.advance(25 * 3600)
    app.refresh()
    drive(app, "ESC")
    assert "Ауысым 24 сағаттан асты" in screen(app)
    drive(app, BREAD, "PLU", "200", "ENT")
    assert "Z пернесін басыңыз" in said(app)


def test_offline_receipt_tells_the_cashier_and_the_strip_counts_down():
    b, app = _shop()
    login(app)
    assert app.ui.frame()[0] == "Онлайн [0] wifi"
    b.link.cut()
    drive(app, BREAD, "PLU", "200", "ENT", "PAY", "CASH")
    app.refresh()
    text = " ".join(app.ui.screen.body(app.ui))
    assert "Автономды режим" in text  # KZ-29.2
    assert "БКМ автономды режимге өтті" in text and "жіберіледі" in text
    assert app.ui.frame()[0] == "Автон 72:00 [1] wifi"
    b.clock.advance(3600 + 60)
    app.refresh()
    assert app.ui.frame()[0] == "Автон 70:59 [1] wifi"
    b.clock.advance(72 * 3600)
    app.refresh()
    assert app.ui.frame()[0].startswith("БЛОК [1]")  # KZ-29.6
    drive(app, "ESC")
    assert "Ауысым 24 сағаттан асты" in screen(app)  # the first lock on the sale screen
    drive(app, "MENU", "7")  # every lock with what to do
    assert "Автономды режим 72 сағаттан асты" in body(app) and "байланысын қалпына" in body(app)


def test_new_text_from_the_ofd_comes_up_on_the_screen():
    b, app = _shop()
    login(app)
    texts.take(app.reg, [{"info": {"type": 4, "version": 2}, "text": "Салық органының хабарламасы"}])
    app.refresh()  # KZ-17: shown when received
    assert "Хабарламалар Салық органының хабарламасы" in screen(app)
    drive(app, "ENT")
    assert "Дайын" in screen(app)
    app.refresh()
    assert "Дайын" in screen(app)  # shown once


def test_receipt_language_setting_kk_ru_or_both():
    b, app = _shop()
    login(app, ADMIN)
    drive(app, "MENU", "8")
    assert "Чек тілі: Қазақша" in screen(app)
    drive(app, "1")
    assert "Чек тілі: Орысша" in screen(app)
    drive(app, "1")
    assert "Чек тілі: Қаз+Орыс" in screen(app)
    drive(app, "ESC", "ESC", BREAD, "PLU", "200", "ENT", "PAY", "CASH")
    paper = _paper(b)
    # both languages, the legal content once: the fiscal mark, the offline word
    assert "ЖИЫНЫ / ИТОГО" in paper and "Хлеб белый" in paper and "Ақ нан" in paper
    assert "ФИСКАЛДЫҚ ЧЕК / ФИСКАЛЬНЫЙ ЧЕК" in paper
    assert app.reg.settings.get("lang") == layout.BOTH


def test_service_menu_token_connection_test_self_test():
    b, app = _shop()
    login(app, SERVICE)
    assert "Токен" in screen(app)
    drive(app, "3")
    assert "Тест өтті" in screen(app)  # KZ-2.4: the OFD answered
    drive(app, "ESC", "4")
    assert "Журнал тестісі" in screen(app) and "Тест өтті" in screen(app)
    b.link.cut()
    drive(app, "ESC", "3")
    assert "Тест өтпеді" in screen(app)
    drive(app, "ESC", "1", "777", "ENT")  # KZ-41
    assert "Сақталды" in screen(app)
    assert app.reg.settings.get("token") == 777
    drive(app, "ESC", "7")  # the key legend on paper
    assert "CASH" in _paper(b) and "Қолма-қол" in _paper(b)
    drive(app, "ESC", "8")
    assert "Пайдаланушы коды:" in screen(app)


def test_service_engineer_sets_aside_a_document_the_ofd_refused():
    b, app = _shop()
    login(app)
    b.link.code = 12  # a refusal of the document (PROTOCOL.md section 13)
    drive(app, BREAD, "PLU", "200", "ENT", "PAY", "CASH")
    seq = app.reg.last.seq
    assert app.desk.status()["refusal"][0] == seq
    b.link.code = None
    drive(app, "ESC", "MENU", "UP", "ENT")  # the last item: logout
    login(app, SERVICE)
    drive(app, "2")
    assert "ФДО қабылдамады" in screen(app)
    drive(app, "ENT")
    assert "Сақталды" in screen(app)
    assert app.reg.acc.unacked_count() == 0


def test_screens_fit_the_graphic_display():
    b, app = _shop(21, 8)
    login(app)
    f = drive(app, BREAD, "PLU", "200", "ENT", "PAY", "500", "CASH")
    assert len(f) == 8 and f[2] == "Қайтарым       300.00"
    drive(app, "ESC", "MENU")
    assert len(b.display.frames) > 5  # every frame was checked against 21x8
