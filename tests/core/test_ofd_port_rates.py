# A fiscal document never changes after fiscalisation (KZ-43.2, KZ-43.4):
# the register stamps each receipt line with the effective VAT rate of the
# table in force on the document's local date (and the seller's VAT status)
# before it journals the receipt, and the paper, the shift counters, the Z
# and the OFD request (ofd.port, rebuilt from the journal on every attempt)
# all use those stamps. Neither the calendar passing 2027-01-01 (medicines
# 5 % -> 10 %) nor tax groups re-programmed while the document waits in the
# offline queue, nor a reboot in between, changes the queued request.
# The register, ofd.port and ofd.client run for real on the NOR emulator
# against the in-memory OFD of ofdkit; "offline" comes from a switch in
# front of it (no address: the client gives up at once).
from kkm import auth as A
from kkm import document as D
from kkm import records as R
from ofd import client as cl
from ofd import codec
from ofd import schema as S
from ofd.port import OfdPort
from ofdkit import link_client, HOST, KKM, MemOfd
from regkit import REG, fiscalised_bench, line, sell

NEW_YEAR_2027 = 1798761600 - 5 * 3600  # 2027-01-01 00:00 local (UTC+5)


class Switch:
    # the in-memory OFD behind an on/off switch: off, the client finds no
    # address for it and gives up at once
    def __init__(self, ofd):
        self.ofd = ofd
        self.addrs = {HOST: 1}

    def connect(self, host, port, timeout_s):
        return self.ofd.connect(host, port, timeout_s)


def _bench():
    ofd = MemOfd(REG["token"])
    sw = Switch(ofd)

    def make(acc):
        return OfdPort(link_client(sw, [HOST], KKM, 1), acc)

    b = fiscalised_bench(make_ofd=make)
    b.switch = sw
    b.store = ofd
    return b


def _offline(b, on):
    if on:
        b.switch.addrs.clear()
    else:
        b.switch.addrs[HOST] = 1


def _ticket(b, seq):
    # the TicketRequest the port builds now for a journalled receipt
    rtype, ts, payload = b.reg.acc.read(seq)
    assert rtype == R.R_RECEIPT
    return b.port.build("receipt", seq, payload)["ticket"]


def _vat_on_paper(res):
    # the VAT lines printed on the receipt: "ҚҚС 5%   5.00" -> ("5", "5.00")
    out = []
    for style, text in res.lines:
        if text.startswith("оның ішінде ҚҚС") or text.startswith("в т.ч. НДС"):
            parts = text.split()
            out.append((parts[-2].rstrip("%:"), parts[-1]))
    return out


def _taxes(ticket):
    # [(percent, VAT tiyn)] of the ticket's commodities
    out = []
    for it in ticket["items"]:
        if it["type"] == S.ITEM_TYPE_COMMODITY:
            for tx in it["commodity"].get("taxes", []):
                out.append((tx["percent"], tx["sum"]["bills"] * 100 + tx["sum"].get("coins", 0)))
    return out


def test_kz_43_2_sale_on_31_december_replayed_on_1_january_keeps_5_percent():
    # 2026-12-31 23:00 local, offline; the queue drains on 2027-01-01 01:00
    b = _bench()
    r = b.reg
    b.clock.t = NEW_YEAR_2027 - 3600
    _offline(b, True)
    res = sell(r, [line("Парацетамол", 10500, 1000, tax=2), line("Нан", 25000, 1000, tax=1)])
    assert res.offline and [ln.percent for ln in res.doc.lines] == [5000, 16000]
    paper = _vat_on_paper(res)
    assert ("5", "5.00") in paper and ("16", "34.48") in paper
    b.clock.t = NEW_YEAR_2027 + 3600
    assert r.settings.tax_table().rate(2) == 10000  # the calendar moved on
    _offline(b, False)
    assert r.replay() == 1 and r.acc.unacked() == []
    t = b.store.request(-1)["ticket"]
    assert t["offline_ticket_number"] == res.seq
    assert _taxes(t) == [(5000, 500), (16000, 3448)]  # what the paper says
    assert t["date_time"]["date"] == {"year": 2026, "month": 12, "day": 31}
    # the shift counters and the Z agree with the paper and the request
    assert r.counters.taxes[5000][D.OP_SELL] == [10500, 500]
    assert 10000 not in r.counters.taxes
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    zx = r.close_shift()
    assert [(x["percent"], x["operations"][D.OP_SELL]["sum"]["coins"]) for x in zx["taxes"]] == \
        [(5000, 0), (16000, 48)]
    z = b.store.request(-1)["close_shift"]["z_report"]
    assert [x["percent"] for x in z["taxes"]] == [5000, 16000]


def test_kz_43_4_reprogrammed_tax_groups_do_not_change_a_queued_receipt():
    # offline sale, Z (queued too), then an administrator re-programs the
    # groups and the VAT status; a reboot; then the queue drains: the OFD
    # gets the ticket exactly as built at the sale, with the paper's VAT
    b = _bench()
    r = b.reg
    _offline(b, True)
    res = sell(r, [line("Парацетамол", 10500, 1000, tax=2), line("Нан", 25000, 1000, tax=1),
                   line("Қант", 5000, 1000, tax=3)])
    before = _ticket(b, res.seq)
    enc = codec.encode(S.TicketRequest, before)
    assert _taxes(before) == [(5000, 500), (16000, 3448)]
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    r.close_shift()
    r.login(2, "2222", A.MODE_PROGRAMMING)
    r.change_settings({"tax_groups": [[1, 12000, "ҚҚС", "НДС", False], [2, 8000, "ҚҚС", "НДС", False],
                                      [3, 0, "ҚҚС-сыз", "Без НДС", True]], "vat_payer": False})
    assert r.settings.tax_table().rate(1) == 0
    assert codec.encode(S.TicketRequest, _ticket(b, res.seq)) == enc
    # a copy printed now still shows the original VAT lines
    r.login(1, "1111", A.MODE_SALES)
    assert _vat_on_paper(r.copy_last()) == _vat_on_paper(res)
    r = b.boot()  # recovery in between: the same request bytes
    assert r.acc.unacked()[0] == res.seq
    assert codec.encode(S.TicketRequest, _ticket(b, res.seq)) == enc
    r.login(1, "1111", A.MODE_SALES)
    _offline(b, False)
    assert r.replay() == 2 and r.acc.unacked() == []
    sent = [b.store.request(i) for i in range(len(b.store.stored))]
    sent = [q for q in sent if q["command"] == S.COMMAND_TICKET]
    assert len(sent) == 1
    t = sent[0]["ticket"]
    assert t["offline_ticket_number"] == res.seq
    assert codec.encode(S.TicketRequest, t) == enc


def test_kz_43_2_copy_of_a_receipt_prints_the_stamped_rates_after_a_reboot():
    # the last receipt is restored from the journal at boot; its copy is
    # printed from the stamps, not from the settings of the day
    b = _bench()
    r = b.reg
    b.clock.t = NEW_YEAR_2027 - 600
    _offline(b, True)
    res = sell(r, [line("Парацетамол", 10500, 1000, tax=2)])
    b.clock.t = NEW_YEAR_2027 + 600
    r = b.boot()
    r.login(1, "1111", A.MODE_SALES)
    cp = r.copy_last()
    assert _vat_on_paper(cp) == _vat_on_paper(res) == [("5", "5.00")]


def test_one_time_per_document_for_its_rates_journal_paper_and_request():
    # a clock that moves a second at every reading: the receipt fiscalised
    # at 23:59:59 on 2026-12-31 must not get 5 % from one reading, a
    # 2027-01-01 journal time from the next and a third time on paper
    b = _bench()
    r = b.reg
    _offline(b, True)
    b.clock.t = NEW_YEAR_2027 - 1
    clock = b.clock
    plain = clock.now

    def ticking():
        t = plain()
        clock.t = t + 1
        return t

    clock.now = ticking
    rc = r.open_receipt(D.OP_SELL)
    rc.add_line(line("Парацетамол", 10500, 1000, tax=2))
    rc.add_payment(D.Payment(D.PAY_CASH, rc.total()))
    res = r.fiscalise()
    clock.now = plain
    ts = r.acc.read(res.seq)[1]
    assert res.ts == ts
    pct = res.doc.lines[0].percent
    assert pct == (5000 if ts < NEW_YEAR_2027 else 10000)
    assert _taxes(_ticket(b, res.seq))[0][0] == pct
    paper = _vat_on_paper(res)
    assert paper == [(str(pct // 1000), "5.00" if pct == 5000 else "9.55")]
    day = "31.12.2026" if ts < NEW_YEAR_2027 else "01.01.2027"
    assert [t for s, t in res.lines if day in t]
