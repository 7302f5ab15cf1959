# Texts from the OFD (KZ-17: messages received from the OFD server are shown
# on the screen or printed on the receipt tape when received; PROTOCOL.md
# section 9: ServiceResponse.ticket_ads, ServiceRequest.ticket_ad_infos;
# section 13: in server-block mode the last TICKET_AD_INFO text is shown).
# The register, ofd.port and ofd.client run for real on the NOR emulator
# against the in-memory OFD of ofdkit, wrapped here so that its answers carry
# the texts newer than the versions each request reports.
from kkm import layout
from kkm import locks as L
from kkm import auth as A
from ofd import texts as OT
from ofd import client as cl
from ofd import codec
from ofd import frame
from ofd import schema as S
from ofd.port import OfdPort
from ofdkit import link_client, run, KKM, MemOfd
from regkit import REG, fiscalised_bench, line, sell

INFO = S.TICKET_AD_INFO
TEXT_RU = "Уважаемый налогоплательщик! Сдайте декларацию по форме 910.00 до 15 февраля."
TEXT_KK = "Құрметті салық төлеуші! 910.00 нысанындағы декларацияны 15 ақпанға дейін тапсырыңыз."


class AdsOfd:
    # the in-memory OFD with a table of texts {type: (version, text)}: every
    # answer carries the texts newer than the versions the request reports
    # (as the OFD of PROTOCOL.md section 9); code: a fixed result code for
    # every answer (15: the server block, with `block_text` as its INFO
    # text of version 0, as the simulator sends it)
    def __init__(self, ofd):
        self.ofd = ofd
        self.ads = {}
        self.reported = []  # ticket_ad_infos of each request, as {type: version}
        self.code = None
        self.block_text = None
        self.orig = ofd.handle
        ofd.handle = self.handle

    def handle(self, data):
        h, body = frame.split(data)
        req = codec.decode(S.Request, body)
        have = {}
        for a in req.get("service", {}).get("ticket_ad_infos", []):
            have[a["type"]] = a["version"]
        self.reported.append(have)
        if self.code is None:
            ans = self.orig(data)
            ah, abody = frame.split(ans)
            resp = codec.decode(S.Response, abody)
        else:
            ah = h
            resp = {"command": req["command"], "result": {"result_code": self.code}}
        ads = []
        for kind in sorted(self.ads):
            v, text = self.ads[kind]
            if v > have.get(kind, -1):
                ads.append({"info": {"type": kind, "version": v}, "text": text})
        if self.code == 15 and self.block_text is not None and not [a for a in ads if a["info"]["type"] == INFO]:
            ads.append({"info": {"type": INFO, "version": 0}, "text": self.block_text})
        if ads:
            resp.setdefault("service", {})["ticket_ads"] = ads
        return frame.build(codec.encode(S.Response, resp), KKM, ah.token, ah.reqnum)


def _bench():
    ofd = MemOfd(REG["token"])

    def make(acc):
        return OfdPort(link_client(ofd, [("ofd", 7777)], KKM, 1), acc)

    b = fiscalised_bench(log_blocks=8, make_ofd=make)
    b.memofd = ofd
    b.ads = AdsOfd(ofd)
    return b


def _slips(printer):
    # the printed pages that are OFD text slips (their texts, joined)
    titles = []
    for lang in ("kk", "ru"):
        titles.append(layout.T.text(layout.T.L_OFD_INFO, lang))
        titles.append(layout.T.text(layout.T.L_OFD_TEXT, lang))
    out = []
    for page in printer.printed:
        texts = [t.strip() for st, t in page]
        for t in titles:
            if t in texts:
                out.append(" ".join(texts))
                break
    return out


def test_kz_17_clip_text_keeps_whole_characters_and_drops_printer_commands():
    s = "Ә" * 300  # 2 bytes each
    c = OT.clip(s)
    assert len(c.encode()) <= OT.MAX_BYTES and c == "Ә" * (OT.MAX_BYTES // 2)
    c = OT.clip("a" + "Ә" * 300, 10)  # 1 + 4 x 2 bytes, the 5th character does not fit whole
    assert c == "a" + "ӘӘӘӘ"
    assert OT.clip("€€€", 7) == "€€"  # 3-byte characters
    assert OT.clip("ab\x1bi\x1dV\r\ncd\x7f") == "ab i V \ncd "  # ESC, GS: no printer commands
    assert OT.clip(TEXT_RU) == TEXT_RU


def test_kz_17_slip_wraps_by_characters_on_both_paper_widths():
    info = {"rnm": REG["rnm"], "factory_no": REG["factory_no"], "ts": 1767254400}
    long_word = "Ы" * 70
    for w in (layout.NARROW, layout.WIDE):
        for lang in ("kk", "ru"):
            lines = layout.ofd_text_lines([(True, TEXT_KK + "\n" + long_word), (False, TEXT_RU)],
                                          info, lang, w)
            for st, t in lines:
                assert len(t) <= w, (w, t)
            words = " ".join(t for st, t in lines).split()
            for word in TEXT_KK.split() + TEXT_RU.split():
                assert word in words, word
            # a word longer than the line: cut, not lost
            assert sum([len(t) for st, t in lines if t and t == "Ы" * len(t)]) == 70
            texts = [t.strip() for st, t in lines]
            assert layout.T.text(layout.T.L_NOT_FISCAL, lang) in texts
            assert layout.T.text(layout.T.L_OFD_INFO, lang) in texts
            assert layout.T.text(layout.T.L_OFD_TEXT, lang) in texts
    assert layout.T.text(layout.T.L_OFD_INFO, "kk") != layout.T.text(layout.T.L_OFD_INFO, "ru")


def test_kz_17_text_printed_after_the_receipt_on_its_own_slip_once():
    b = _bench()
    r = b.reg
    b.ads.ads[INFO] = (3, TEXT_RU)
    res = sell(r)
    assert not res.offline
    pages = b.printer.printed
    # the receipt first, unchanged; then the slip with the text
    assert pages[-2] is res.lines and TEXT_RU not in " ".join(t for st, t in res.lines)
    slips = _slips(b.printer)
    assert len(slips) == 1 and " ".join(TEXT_RU.split()) in " ".join(slips[0].split())
    assert r.ofd_texts.pending(OT.SHOW) == [(INFO, 3, TEXT_RU)]
    # the next requests report the version held: no text again, no slip
    assert sell(r).fiscal_sign
    assert b.ads.reported[-1] == {INFO: 3}
    assert len(_slips(b.printer)) == 1
    # a copy of the receipt is the receipt only
    n = len(b.printer.printed)
    r.copy_last()
    assert len(b.printer.printed) == n + 1 and _slips(b.printer) == _slips(b.printer)[:1]


def test_kz_17_display_list_until_acknowledged():
    b = _bench()
    r = b.reg
    b.ads.ads[S.TICKET_AD_OFD] = (5, "ОФД: жаңа тариф / новый тариф")
    b.ads.ads[INFO] = (7, TEXT_KK)
    sell(r)
    assert r.ofd_texts.pending(OT.SHOW) == [(S.TICKET_AD_OFD, 5, "ОФД: жаңа тариф / новый тариф"), (INFO, 7, TEXT_KK)]
    assert not r.ofd_texts.done(INFO, 6, OT.SHOW)  # not the version shown
    # a newer text arrives before the cashier read the first one
    b.ads.ads[INFO] = (8, TEXT_RU)
    assert run(b.reg.sender.probe()).ok()
    assert b.ads.reported[-1] == {S.TICKET_AD_OFD: 5, INFO: 7}
    assert not r.ofd_texts.done(INFO, 7, OT.SHOW)
    assert r.ofd_texts.done(INFO, 8, OT.SHOW) and r.ofd_texts.done(S.TICKET_AD_OFD, 5, OT.SHOW)
    assert r.ofd_texts.pending(OT.SHOW) == []
    assert not r.ofd_texts.done(INFO, 8, OT.SHOW)  # once
    # the probe printed the newer text at once (KZ-17: when received)
    slips = _slips(b.printer)
    assert len(slips) == 2 and TEXT_RU.split()[0] in slips[1]
    # versions never go back: an older text is ignored
    assert r.ofd_texts.take([{"info": {"type": INFO, "version": 2}, "text": "old"}]) == 0
    assert r.ofd_texts.infos() == [{"type": S.TICKET_AD_OFD, "version": 5}, {"type": INFO, "version": 8}]


def test_kz_17_bounded_one_text_per_type_clipped():
    b = _bench()
    r = b.reg
    seq = r.acc.last_seq
    big = "Ж" * 5000
    ads = []
    for v in range(40):
        for kind in range(5):
            ads.append({"info": {"type": kind, "version": v}, "text": big})
    assert OT.take(r, ads) == 5 * 40
    for k in range(5):
        assert r.ofd_texts.ver[k] == 39 and len(r.ofd_texts.text[k].encode()) <= OT.MAX_BYTES
    # the texts are not journalled: the accumulator's room is the documents'
    assert r.acc.last_seq == seq
    # printed on one slip, then only INFO's text is still kept in RAM
    lines = r.print_ofd_texts()
    assert lines is not None and len(_slips(b.printer)) == 1
    for kind in range(5):
        assert r.ofd_texts.done(kind, 39, OT.SHOW)
    kept = [k for k in range(5) if r.ofd_texts.text[k] is not None]
    assert kept == [INFO] and len(r.ofd_texts.infos()) == 5
    assert r.print_ofd_texts() is None  # nothing left to print


def test_kz_17_no_paper_keeps_the_text_for_the_next_printout():
    b = _bench()
    r = b.reg
    b.ads.ads[INFO] = (1, TEXT_RU)
    assert run(b.reg.sender.probe()).ok()
    # printed at once by the probe
    assert len(_slips(b.printer)) == 1
    b.ads.ads[INFO] = (2, TEXT_KK)
    b.printer.state = "no_paper"
    assert run(b.reg.sender.probe()).ok()
    assert len(_slips(b.printer)) == 1 and r.ofd_texts.pending(OT.SHOW)[0][1] == 2  # shown, not printed
    b.printer.state = "ok"
    sell(r)
    slips = _slips(b.printer)
    assert len(slips) == 2 and TEXT_KK.split()[0] in slips[1]


def test_kz_17_after_a_reboot_the_ofd_sends_the_texts_again():
    # not journalled: the register reports no versions after a reboot and
    # the OFD sends its newest texts again, so none is lost unshown
    b = _bench()
    r = b.reg
    b.ads.ads[INFO] = (4, TEXT_RU)
    b.printer.state = "no_paper"
    assert run(b.reg.sender.probe()).ok()
    assert _slips(b.printer) == []
    r = b.boot()  # power cut before the text was printed
    b.printer.state = "ok"
    assert r.ofd_texts is None  # nothing kept over the reboot
    r.login(1, "1111", A.MODE_SALES)
    assert not sell(r).offline
    assert b.ads.reported[-1] == {}
    assert len(_slips(b.printer)) == 1 and r.ofd_texts.pending(OT.SHOW) == [(INFO, 4, TEXT_RU)]
    assert sell(r).fiscal_sign and b.ads.reported[-1] == {INFO: 4}
    assert len(_slips(b.printer)) == 1


def test_kz_16_protocol_13_server_block_shows_the_last_info_text():
    b = _bench()
    r = b.reg
    b.ads.ads[INFO] = (5, "Жаңалық / Новость")
    sell(r)
    assert r.ofd_texts.done(INFO, 5, OT.SHOW)
    b.ads.code = 15
    b.ads.block_text = "Касса бұғатталды / Касса заблокирована"
    out = run(b.reg.sender.probe())
    assert out.code == 15 and L.OFD_SUSPEND in r.active_locks()
    ru = r.lock_message(L.OFD_SUSPEND, "ru")
    assert ru.startswith(L.message(L.OFD_SUSPEND, "ru")) and ru.endswith("\nКасса бұғатталды / Касса заблокирована")
    assert r.lock_message(L.OFD_SUSPEND, "kk").startswith(L.message(L.OFD_SUSPEND, "kk"))
    # the reason (version 0) replaced the text held, the version did not go back
    assert r.ofd_texts.infos() == [{"type": INFO, "version": 5}]
    assert r.ofd_texts.pending(OT.SHOW) == [(INFO, 5, "Касса бұғатталды / Касса заблокирована")]
    assert len(_slips(b.printer)) == 2
    # the same reason on every later answer is not new again
    run(b.reg.sender.probe())
    assert len(_slips(b.printer)) == 2 and b.ads.reported[-1] == {INFO: 5}
    assert r.lock_message(L.NO_PAPER, "ru") == L.message(L.NO_PAPER, "ru")
    # a result 0 ends the block (section 13)
    b.ads.code = None
    assert run(b.reg.sender.probe()).ok() and L.OFD_SUSPEND not in r.active_locks()
    assert r.lock_message(L.OFD_SUSPEND, "ru").endswith("Касса заблокирована")  # still the last INFO text


def test_kz_17_a_failing_text_never_costs_the_receipt_its_fiscal_sign():
    b = _bench()
    r = b.reg
    b.ads.ads[INFO] = (1, TEXT_RU)

    class Broken(OT.OfdTexts):
        def take(self, ads, blocked=False):
            raise MemoryError()

    r.ofd_texts = Broken()
    res = sell(r, [line()])
    assert not res.offline and r.acc.unacked() == []


def test_kz_17_text_with_the_z_answer_printed_after_the_z_report():
    b = _bench()
    r = b.reg
    sell(r)
    r.logout()
    r.login(2, "2222", A.MODE_SHIFT_CLOSE)
    b.ads.ads[S.TICKET_AD_ORG] = (9, "Ұйымға / Для организации")
    n = len(b.printer.printed)
    r.close_shift()
    pages = b.printer.printed[n:]
    assert len(pages) == 2 and _slips(b.printer) == _slips(b.printer)[-1:]
    assert "Ұйымға / Для организации" in [t for st, t in pages[1]]
    assert r.ofd_texts.pending(OT.PRINT) == []


def test_kz_17_text_with_the_x_answer_is_printed_after_the_x_report():
    # the X goes to the OFD before it is printed (KZ-31.4: the OFD's X when it
    # sends one); a text in that answer comes on its own slip after the report
    b = _bench()
    r = b.reg
    sell(r)
    b.ads.ads[S.TICKET_AD_ORG] = (3, "Дүкен жабық / Магазин закрыт 1 мая")
    n = len(b.printer.printed)
    r.x_report()
    pages = b.printer.printed[n:]
    assert len(pages) == 2 and r.x_source == "own"  # the in-memory OFD answers without an X
    assert pages[0][0][1].strip() == layout.T.text(layout.T.L_X_REPORT, r.settings.get("lang"))
    assert _slips(b.printer)[-1].find("Магазин") >= 0
