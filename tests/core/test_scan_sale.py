# Scans in the sale (KZ-7, KZ-7.1): a good by EAN-13, GTIN-14 or UPC-A; a
# marked good only with a marking code of that very good, one per piece;
# a marking code scanned first brings its good and counts as its first
# code; a misread (the scanner driver's empty code) or a wrong check digit
# is refused with a message and never reaches the receipt.
from kkm import catalog as C
from kkm import document as D
from uikit import drive, login, provisioned, run, screen

GS = "\x1d"
BREAD = "4870001000011"
CIGARETTES = "4870001000141"  # marked
MARK1 = "0104870001000141" + "21abc123" + GS + "93AbCd"
MARK2 = "0104870001000141" + "21abc124" + GS + "93EfGh"
OTHER_MARK = "0104870216760007" + "21qKkdi+S" + GS + "93U3g5"  # another good's
UPC = "036000291452"
EAN8 = "96385074"


def _shop():
    b, app = provisioned()
    reg = app.reg
    reg.catalog = C.Catalog()
    reg.catalog.put(BREAD, C.Item(100, BREAD, None, "Хлеб белый", "Ақ нан", D.UNIT_PIECE, False), 3)
    reg.catalog.put(CIGARETTES, C.Item(102, CIGARETTES, None, "Сигареты", "Темекі", D.UNIT_PIECE, True), 3)
    reg.catalog.put("0" + UPC, C.Item(103, "0" + UPC, None, "Кофе", "Кофе", D.UNIT_PIECE, False), 3)
    reg.catalog.put(EAN8, C.Item(104, EAN8, None, "Жвачка", "Сағыз", D.UNIT_PIECE, False), 3)
    run(app.desk.sender.step())
    app.refresh()
    login(app)
    return b, app


def test_kz_7_a_good_by_ean_13_gtin_14_or_upc_a():
    b, app = _shop()
    drive(app, ("scan", "0" + BREAD), "100", "ENT")  # GTIN-14 form of the bread
    drive(app, ("scan", UPC), "200", "ENT")  # UPC-A: the EAN-13 with a leading 0
    drive(app, ("scan", "000000" + EAN8), "300", "ENT")  # GTIN-14 of an EAN-8
    assert [ln.gtin for ln in app.reg.draft.lines] == [BREAD, "0" + UPC, EAN8]


def test_kz_7_a_wrong_check_digit_or_a_misread_is_refused_and_never_added():
    b, app = _shop()
    drive(app, ("scan", "4870001000012"))
    assert "Неверный штрихкод" in screen(app) or "Штрихкод қате" in screen(app)
    drive(app, "ESC", ("scan", ""))
    assert "Штрихкод танылмады" in screen(app) or "Штрихкод не распознан" in screen(app)
    drive(app, "ESC")
    assert app.reg.draft is None


def test_kz_7_1_a_marked_good_takes_only_its_own_marking_codes_one_per_piece():
    b, app = _shop()
    drive(app, "2", "QTY", ("scan", CIGARETTES), "950", "ENT")
    assert "0/2" in screen(app)
    for bad, says in ((CIGARETTES, ("Таңбалау коды қате", "Неверный код маркировки")),
                      (OTHER_MARK, ("басқа тауардікі", "другого товара"))):
        drive(app, ("scan", bad))
        assert says[0] in screen(app) or says[1] in screen(app), screen(app)
        drive(app, "ESC")
    drive(app, ("scan", MARK1), ("scan", MARK1))  # the same piece twice counts once
    assert "1/2" in screen(app) and app.reg.draft is None
    drive(app, ("scan", MARK2))
    ln = app.reg.draft.lines[0]
    assert ln.marks == [MARK1, MARK2] and ln.qty_milli == 2000


def test_kz_7_1_a_marking_code_scanned_first_brings_its_good():
    b, app = _shop()
    drive(app, ("scan", MARK1))
    assert "Темекі" in screen(app) or "Сигареты" in screen(app)
    drive(app, "950", "ENT")
    ln = app.reg.draft.lines[0]
    assert ln.gtin == CIGARETTES and ln.marks == [MARK1]  # kept whole, GS included
    drive(app, "PAY", "CASH")
    assert app.reg.draft is None
