# The National Catalogue of Goods from the register (S000-1, S001-3,
# R-56(7), R-56(8)): a scanned GTIN/NTIN is asked of the OFD by barcode
# (COMMAND_NOMENCLATURE) unless the bounded cache holds it; result 18 is a
# clear refusal; the catalogue's names (Kazakh and Russian), codes, unit and
# marked flag make the line, are journalled, printed and sent; the cache is
# checked by version; lines without a catalogue element follow the setting
# "catalogue" (strict by default: refused; soft: sold and said).
from kkm import auth as A
from kkm import catalog as K
from kkm import document as D
from kkm import doccodec as DC
from kkm import layout
from kkm import records as R
from kkm import texts as T
from kkm.settings import Settings
from ofd import schema as S
from ofd import sender as Y
from ofdkit import BREAD, CIGARETTES, KUMYS, MARK, SHOES, UNKNOWN, OfdSync, link_bench, run
from ofdkit import nkt_element as _el
from regkit import asyncio, line, refused


class MemStore:
    def __init__(self):
        self.data = None

    def load(self):
        return self.data

    def save(self, data):
        self.data = bytes(data)


def _bench(rule="strict"):
    b = link_bench()
    r = b.reg
    r.login(2, "2222", A.MODE_PROGRAMMING)
    r.change_settings({"catalogue": rule})
    r.login(1, "1111", A.MODE_SALES)
    return b


def _item(b, code):
    # a scanned code as the register's sender looks it up (the cache, else the OFD)
    return run(b.reg.sender.catalogue_item(code))


def _sell_items(b, items, pay=None):
    # items: (Item, price, qty_milli, marks); -> Fiscalised
    r = b.reg
    rc = r.open_receipt(D.OP_SELL)
    for it, price, qty, marks in items:
        r.add_line(it.line(price, qty, marks=marks))
    rc.add_payment(D.Payment(D.PAY_CASH, rc.total()))
    return r.fiscalise()


def _texts(lines):
    return [s for _, s in lines]


def test_s000_1_a_scanned_gtin_is_asked_of_the_ofd_once_then_cached():
    b = _bench()
    assert b.reg.catalogue_item(BREAD) is None  # the register's cache: not yet
    it = _item(b, BREAD)
    assert (it.nkt, it.gtin, it.ntin, it.unit, it.marked) == (100, BREAD, None, "796", False)
    assert (it.name, it.name_kk) == ("Хлеб белый, 500 г", "Ақ нан, 500 г")
    assert b.link.asked() == [{"barcode": BREAD}]
    assert _item(b, BREAD).name_kk == "Ақ нан, 500 г"
    assert len(b.link.asked()) == 1  # the cache answered
    assert b.reg.catalogue_item(BREAD).nkt == 100
    assert b.reg.catalog.version == 3


def test_s000_1_result_18_is_a_clear_refusal_and_blocks_nothing():
    b = _bench()
    s = OfdSync(b.reg)
    assert s.tick() == "test"
    args = refused(_item, b, UNKNOWN)
    assert args == (K.E_NKT_UNKNOWN, UNKNOWN)
    assert T.text(K.E_NKT_UNKNOWN, "ru") == "Товар не найден в Национальном каталоге товаров"
    assert T.text(K.E_NKT_UNKNOWN, "kk") == "Тауар Ұлттық тауарлар каталогында табылмады"
    assert refused(_item, b, "4870001000012")[0] == K.E_NKT_CODE  # bad check digit: not asked
    assert len(b.link.asked()) == 1
    # the refusal of a lookup is no refusal of a document (the scheduler
    # never takes it for the queue's head's): sales go on online
    assert b.reg.ofd.last.code == 0
    assert s.status()["mode"] == Y.ONLINE and s.stuck is None
    res = _sell_items(b, [(_item(b, BREAD), 18000, 1000, None)])
    assert not res.offline


def test_s000_1_a_lookup_waits_for_the_senders_exchange_under_way():
    # one exchange at a time: the lookup asks the OFD once the other one ends
    b = _bench()
    s = b.reg.sender

    async def scan():
        s.busy = True
        t = asyncio.create_task(s.catalogue_item(BREAD))
        await asyncio.sleep(0.12)
        waited = b.link.asked() == []
        s.busy = False
        return waited, await t

    waited, it = run(scan())
    assert waited and it.nkt == 100 and b.link.asked() == [{"barcode": BREAD}]


def test_r56_7_8_ntin_item_sells_with_both_names_and_its_codes_printed_journalled_and_sent():
    b = _bench()
    it = _item(b, KUMYS)
    assert (it.gtin, it.ntin, it.unit) == (None, KUMYS, "112")
    res = _sell_items(b, [(it, 180000, 1500, None)])
    assert not res.offline
    # the paper: the receipt's language first, then the other one, and the NTIN
    kk = _texts(layout.receipt_lines(res.doc, b.reg._info(1, 1, res.ts, res.fiscal_sign, False, res.doc), "kk"))
    i = kk.index("1. Қымыз, құйып сату")
    assert kk[i + 1] == "   Кумыс, в розлив"
    assert [s for s in kk if s.startswith("NTIN") and s.endswith(KUMYS)]
    ru = _texts(layout.receipt_lines(res.doc, b.reg._info(1, 1, res.ts, res.fiscal_sign, False, res.doc), "ru"))
    i = ru.index("1. Кумыс, в розлив")
    assert ru[i + 1] == "   Қымыз, құйып сату"
    assert _texts(b.printer.printed[-1]) == kk  # the register printed it (lang kk)
    # the journal keeps names and codes: a copy after a reboot says the same
    rtype, ts, payload = b.reg.acc.read(res.seq)
    ln = DC.decode_receipt(R.split_doc(payload)[2]).lines[0]
    assert (ln.name, ln.name_kk, ln.nkt, ln.ntin, ln.unit_code) == ("Кумыс, в розлив", "Қымыз, құйып сату", 111,
                                                                     KUMYS, "112")
    # the OFD gets the Russian title, the element id as the commodity's code, the NTIN
    t = [r for c, r in b.link.log if c == S.COMMAND_TICKET][-1]["ticket"]
    c = t["items"][0]["commodity"]
    assert (c["name"], c["code"], c["ntin"], c["measure_unit_code"], c["quantity"]) == (
        "Кумыс, в розлив", 111, KUMYS, "112", 1500)
    assert "barcode" not in c


def test_catalogue_unit_pair_715_is_honoured():
    b = _bench()
    it = _item(b, SHOES)
    res = _sell_items(b, [(it, 2450000, 2000, [MARK, MARK + "2"])])
    assert not res.offline
    lines = _texts(b.printer.printed[-1])
    assert [s for s in lines if s.startswith("2 жұп x 24 500.00 ")], lines
    t = [r for c, r in b.link.log if c == S.COMMAND_TICKET][-1]["ticket"]
    assert t["items"][0]["commodity"]["measure_unit_code"] == "715"
    # a pair is counted in whole pairs
    rc = b.reg.open_receipt(D.OP_SELL)
    assert refused(b.reg.add_line, it.line(2450000, 1500, marks=[MARK, MARK]))[0] == T.E_QTY_WHOLE
    assert not rc.lines


def test_catalogue_marked_flag_requires_a_marking_code():
    b = _bench()
    it = _item(b, CIGARETTES)
    assert it.marked
    rc = b.reg.open_receipt(D.OP_SELL)
    assert refused(b.reg.add_line, it.line(95000, 1000))[0] == T.E_MARK_REQUIRED
    assert refused(b.reg.add_line, it.line(95000, 2000, marks=[MARK]))[0] == T.E_MARK_REQUIRED  # one per pack
    assert b.reg.add_line(it.line(95000, 1000, marks=[MARK])) is None
    rc.add_payment(D.Payment(D.PAY_CASH, rc.total()))
    res = b.reg.fiscalise()
    t = [r for c, r in b.link.log if c == S.COMMAND_TICKET][-1]["ticket"]
    assert t["items"][0]["commodity"]["list_excise_stamp"] == [MARK]
    assert res.doc.lines[0].marking_required


def test_strict_is_the_default_and_refuses_goods_without_a_catalogue_element():
    assert Settings().get("catalogue") == "strict"
    b = _bench("strict")
    r = b.reg
    rc = r.open_receipt(D.OP_SELL)
    assert refused(r.add_line, line("Нан"))[0] == K.E_NOT_IN_NKT
    assert T.text(K.E_NOT_IN_NKT, "ru").startswith("Товар не из Национального каталога")
    # a line put into the draft directly is refused at fiscalisation
    rc.add_line(line("Нан"))
    rc.add_payment(D.Payment(D.PAY_CASH, rc.total()))
    assert refused(r.fiscalise)[0] == K.E_NOT_IN_NKT
    r.abandon()
    # services are outside the goods catalogue
    rc = r.open_receipt(D.OP_SELL)
    assert r.add_line(line("Жеткізу / Доставка", unit=D.UNIT_SERVICE)) is None
    rc.add_payment(D.Payment(D.PAY_CASH, rc.total()))
    assert r.fiscalise().fiscal_sign


def test_soft_sells_goods_without_a_catalogue_element_and_says_so():
    b = _bench("soft")
    r = b.reg
    rc = r.open_receipt(D.OP_SELL)
    assert r.add_line(line("Нан")) == K.N_NOT_IN_NKT
    assert T.text(K.N_NOT_IN_NKT, "kk") == "Тауар Ұлттық каталогтан тыс сатылды"
    assert r.add_line(_item(b, BREAD).line(18000, 1000)) is None
    rc.add_payment(D.Payment(D.PAY_CASH, rc.total()))
    assert r.fiscalise().fiscal_sign
    assert refused(r.change_settings, {"catalogue": "lax"})  # programming mode only, and a known rule
    r.login(2, "2222", A.MODE_PROGRAMMING)
    assert refused(r.change_settings, {"catalogue": "lax"})[0]


def test_s000_1_version_check_refreshes_the_cache_on_the_idle_tick():
    b = _bench()
    s = OfdSync(b.reg)
    assert s.tick() == "test"
    assert s.tick() is None  # nothing cached: no version to ask about
    _item(b, BREAD)
    _item(b, KUMYS)
    assert s.tick() == "catalogue"
    assert b.link.asked()[-1] == {"current_version": 3}  # VERSION_IS_ACTUAL
    assert s.tick() is None  # checked: not again before a day
    # the OFD publishes version 4: bread renamed, kumys withdrawn
    b.link.version = 4
    b.link.elements = [_el(100, "Хлеб белый нарезной, 500 г", "Ақ нан, туралған, 500 г", "796", gtin=BREAD)]
    b.clock.t += K.VERSION_EVERY
    assert s.tick() == "catalogue"
    assert b.link.asked()[-1] == {"current_version": 3}
    c = b.reg.catalog
    assert c.version == 4 and len(c.recs) == 1
    n = len(b.link.asked())
    assert _item(b, BREAD).name == "Хлеб белый нарезной, 500 г"
    assert len(b.link.asked()) == n  # from the refreshed cache
    # asked again, and withdrawn from the catalogue
    assert refused(_item, b, KUMYS)[0] == K.E_NKT_UNKNOWN and len(b.link.asked()) == n + 1


def test_s000_1_a_version_check_without_an_answer_starts_the_retry_clock_and_comes_again():
    b = _bench()
    s = OfdSync(b.reg)
    assert s.tick() == "test"
    _item(b, BREAD)
    b.link.cut()
    assert s.tick() is None  # no answer: not checked
    assert s.failing and s.status()["next"] == s.interval and b.reg.catalog.checked is None
    assert s.tick() is None  # nothing is asked before the retry interval
    b.link.restore()
    b.clock.t += s.interval
    assert s.tick() == "probe"  # the idle break ends
    assert s.tick() == "catalogue" and b.link.asked()[-1] == {"current_version": 3}


def test_offline_the_cache_serves_and_an_unknown_code_is_refused():
    b = _bench()
    _item(b, BREAD)
    b.link.cut()
    assert refused(_item, b, KUMYS) == (K.E_NKT_NO_ANSWER, KUMYS)
    assert _item(b, BREAD).gtin == BREAD
    res = _sell_items(b, [(_item(b, BREAD), 18000, 2000, None)])
    assert res.offline and res.doc.lines[0].nkt == 100


def test_the_cache_is_bounded_most_recent_first_and_survives_in_its_store():
    st = MemStore()
    c = K.Catalog(st)
    for k in range(K.MAX_ITEMS + 8):
        code = "4870001%05d" % k
        code = code[:12] + str((10 - sum(int(ch) * (3 if i % 2 else 1) for i, ch in enumerate(code[:12])) % 10) % 10)
        c.put(code, K.Item(k, code, None, "Тауар %d" % k, "Товар %d" % k, "796", False), 7)
        first = code if k == 0 else first
        last = code
    assert len(c.recs) == K.MAX_ITEMS
    assert c.get(first) is None  # the least recently used went
    again = K.Catalog(st)
    assert again.version == 7 and len(again.recs) == K.MAX_ITEMS
    assert again.get(last).nkt == K.MAX_ITEMS + 7
    st.data = st.data[:-3]  # a damaged file: an empty cache, refilled from the OFD
    assert K.Catalog(st).recs == []


def test_unit_pair_is_known_to_the_document_checks():
    D.Line("Бәтеңке", 100, 1000, "715", 1, 1).check()
    assert D.unit_name("715", "kk") == "жұп" and D.unit_name("715", "ru") == "пара"


def test_receipt_record_version_4_only_for_catalogue_lines():
    def stamped(lines):
        rc = D.Receipt(D.OP_SELL, 1)
        for ln in lines:
            rc.add_line(ln)
        rc.add_payment(D.Payment(D.PAY_CASH, rc.total()))
        rc.validate(Settings().tax_table(), None, "Айгүл", 5 * 3600)
        return DC.encode_receipt(rc)

    assert stamped([line("Нан")])[0] == 3  # as before: older readers read it
    it = K.Item(100, BREAD, None, "Хлеб белый, 500 г", "Ақ нан, 500 г", "796", False)
    b = stamped([line("Нан"), it.line(18000, 1000)])
    assert b[0] == 4
    a, c = DC.decode_receipt(b).lines
    assert (a.nkt, a.name_kk, c.nkt, c.name_kk, c.name, c.gtin) == (None, None, 100, "Ақ нан, 500 г",
                                                                    "Хлеб белый, 500 г", BREAD)
    assert refused(line("Нан", nkt=-1).check)[0] == T.E_LINE
    assert refused(line("Нан", nkt=True).check)[0] == T.E_LINE
    assert refused(line("Нан", name_kk=" ").check)[0] == T.E_NAME


def test_r56_7_a_catalogue_title_never_carries_printer_commands():
    # a title from the OFD is printed: ESC and GS in it (printer commands)
    # become spaces, in the line, on the paper and in the cache
    b = _bench()
    b.link.elements = [_el(100, "Хлеб\x1b@ белый\x1dV", "Ақ нан\x07", "796", gtin=BREAD)]
    it = _item(b, BREAD)
    assert (it.name, it.name_kk) == ("Хлеб @ белый V", "Ақ нан ")
    res = _sell_items(b, [(it, 18000, 1000, [])])
    for s in _texts(res.lines):
        assert layout.printable(s) == s, s
    assert any("Хлеб @ белый V" in s for s in _texts(res.lines))
