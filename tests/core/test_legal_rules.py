# Legal rules through the register, each checked where it could break:
# the 24 h shift across a reboot after a checkpoint (KZ-14), cash in and
# out only in sales mode (KZ-1.1), the receipt's labelled fields each on
# its own line (R-56(5), (11), (14)), every marking code printed and sent
# (R-56(8), S000-4), the Z as the last document for the clock (KZ-42), the
# Z area written before the counters are reset (KZ-ND-29), autonomous
# signs that never repeat (KZ-29.3), the offline period after a reboot
# (KZ-30.1), no paper without the sign record (KZ-43.3), the journal's
# default retention (KZ-28) and the power-on self-test on a tampered
# closed shift (KZ-2, KZ-3.3).
import struct

from boards.sim.nor_flash import NorFlash
from compat import crc32, unix_from_civil
from journal import Accumulator, JournalError, JournalFull, LAST_SEQ
from kkm import auth as A
from kkm import counters as C
from kkm import document as D
from kkm import locks as L
from kkm import money
from kkm import records as R
from kkm import texts as T
from ofd import schema as S
from ofdkit import link_bench, queue_offline
from regkit import KEY, T0, REG, fiscalised_bench, line, sell, refused

HOUR = 3600


def _field(lines, code, lang):
    # the value of the one printed line labelled with text `code` ("label:
    # value"), never found inside another line (the QR payload included)
    label = T.text(code, lang) + ":"
    found = [t[len(label):].strip() for s, t in lines if t.startswith(label)]
    assert len(found) == 1, (label, found)
    return found[0]


def _fields(lines, code, lang):
    label = T.text(code, lang) + ":"
    return [t[len(label):].strip() for s, t in lines if t.startswith(label)]


# --- KZ-14 -------------------------------------------------------------------


def test_kz_14_shift_start_survives_a_reboot_after_a_checkpoint():
    # the 24 h run from the first payment document, also when the register
    # restarts from a checkpoint written later in the shift: the reboot
    # must not restart the 24 h at a later receipt
    b = fiscalised_bench()
    r = b.reg
    first = sell(r)
    b.clock.advance(12 * HOUR)
    cp = r.acc.last_checkpoint()
    while r.acc.last_checkpoint() == cp:  # a long shift: the periodic checkpoint
        sell(r)
    b.clock.advance(8 * HOUR)
    sell(r)  # after the checkpoint: replayed at the boot
    r = b.boot()
    assert r.shift_start == first.ts
    r.login(1, "1111", A.MODE_SALES)
    b.clock.t = first.ts + 86400
    sell(r)  # exactly 24 h: still allowed
    b.clock.t = first.ts + 86400 + 1
    assert refused(r.open_receipt, D.OP_SELL)[0] == L.SHIFT_24H
    r = b.boot()  # and again after another reboot
    r.login(1, "1111", A.MODE_SALES)
    assert refused(r.open_receipt, D.OP_SELL)[0] == L.SHIFT_24H
    assert L.SHIFT_24H in r.active_locks()


# --- KZ-1.1 ------------------------------------------------------------------


def test_kz_1_1_cash_in_and_out_only_in_sales_mode():
    b = fiscalised_bench()
    r = b.reg
    r.deposit(50000)  # the cashier in sales mode
    last = r.acc.last_seq
    cash = r.counters.cash
    printed = len(b.printer.printed)
    for code, pw, mode in ((2, "2222", A.MODE_PROGRAMMING), (9, "9999", A.MODE_PROGRAMMING),
                           (9, "9999", A.MODE_SERVICE), (2, "2222", A.MODE_CLOCK),
                           (1, "1111", A.MODE_SHIFT_CLOSE)):
        r.login(code, pw, mode)
        for fn in (r.deposit, r.withdraw):
            assert refused(fn, 10000) == (L.E_NO_RIGHT, A.MODE_SALES), (code, mode)
    r.logout()
    for fn in (r.deposit, r.withdraw):
        assert refused(fn, 10000)[0] == L.E_NOT_LOGGED_IN
    # nothing journalled, counted or printed
    assert r.acc.last_seq > last  # the logins' audit records only
    for seq, rtype, ts, p in r.acc.records(last + 1):
        assert rtype == R.R_AUDIT, rtype
    assert r.counters.cash == cash and len(b.printer.printed) == printed
    r.login(2, "2222", A.MODE_SALES)  # the administrator in sales mode may
    r.withdraw(10000)
    assert r.counters.cash == cash - 10000


# --- R-56(5), (11), (14) -------------------------------------------------------


def test_r56_5_11_14_rnm_sign_and_total_each_on_its_own_line():
    b = fiscalised_bench()
    r = b.reg
    lines = [line("Нан", 25000, 2000), line("Сүт", 45050, 1000, discount=5050)]
    res = sell(r, lines)
    total = 25000 * 2 + 45050 - 5050  # after the discount: 900.00
    assert res.doc.total() == total
    papers = [b.printer.printed[-1]]
    for lang in ("kk", "ru"):
        r.copy_last(lang)
        papers.append(b.printer.printed[-1])
    for paper, lang in zip(papers, ("kk", "kk", "ru")):
        assert _field(paper, T.L_RNM, lang) == REG["rnm"]  # (5)
        assert _field(paper, T.L_TOTAL, lang) == money.fmt(total)  # (11)
        assert _field(paper, T.L_FISCAL_SIGN, lang) == res.fiscal_sign  # (14), online
        assert not _fields(paper, T.L_OFFLINE_SIGN, lang)
    # offline: the autonomous sign on its own labelled line, no OFD sign line
    b.ofd.online = False
    off = sell(r)
    paper = b.printer.printed[-1]
    assert off.offline and _field(paper, T.L_OFFLINE_SIGN, "kk") == off.fiscal_sign == R.sign_of(r.acc, off.seq)
    assert not _fields(paper, T.L_FISCAL_SIGN, "kk")
    assert _field(paper, T.L_RNM, "kk") == REG["rnm"]
    assert _field(paper, T.L_TOTAL, "kk") == money.fmt(off.doc.total())


# --- R-56(8), S000-4 ------------------------------------------------------------

GTIN = "4006381333931"


def _marks(prefix, n):
    return ["0104006381333931215%s%02d\x1d93ab%02d" % (prefix, i, i) for i in range(n)]


def _stamps(n):
    # excise stamps short enough for MAX_MARKS of them in one journal record
    return ["KZ%012d" % i for i in range(n)]


def test_r56_8_s000_4_every_marking_code_printed_and_sent():
    # several marking codes on one line, on two lines, and the most a line
    # may carry (MAX_MARKS): all printed, all in the request the OFD gets,
    # online and when the queue is replayed from the journal
    big = _stamps(D.MAX_MARKS)
    cases = ([_marks("A", 3), _marks("B", 2)], [big])
    for online in (True, False):
        for marks in cases:
            b = link_bench()
            r = b.reg
            if not online:
                b.link.cut()
            lines = [D.Line("Сигарет %d" % i, 100000, 1000 * len(m), D.UNIT_PIECE, 1, 1, gtin=GTIN, marks=m,
                            marking_required=True) for i, m in enumerate(marks)]
            res = sell(r, lines)
            assert res.offline is not online
            want = [m for ms in marks for m in ms]
            assert _fields(b.printer.printed[-1], T.L_MARK, "kk") == [m.replace("\x1d", " ") for m in want]
            if not online:
                b.link.restore()
                assert r.replay() == 1
            tickets = [req for c, req in b.link.log if c == S.COMMAND_TICKET]
            items = [it["commodity"] for it in tickets[-1]["ticket"]["items"] if it["type"] == S.ITEM_TYPE_COMMODITY]
            assert [it["list_excise_stamp"] for it in items] == marks


# --- KZ-42 -------------------------------------------------------------------


def test_kz_42_the_z_is_the_last_document_for_the_clock():
    b = fiscalised_bench()
    r = b.reg
    sale = sell(r)
    b.clock.advance(2 * HOUR)
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    r.close_shift()
    z_ts = sale.ts + 2 * HOUR
    assert r.last_doc_ts == z_ts
    for boot in (False, True):
        if boot:
            r = b.boot()
        r.login(2, "2222", A.MODE_CLOCK)
        assert refused(r.set_clock, z_ts - HOUR) == (L.E_CLOCK_BACK, z_ts)  # after the sale, before the Z
        assert refused(r.set_clock, z_ts - 1)[0] == L.E_CLOCK_BACK
        r.set_clock(z_ts)
    # the RTC behind the Z at power-on locks (KZ-ND-32) until it is set
    b.clock.t = z_ts - 60
    r = b.boot()
    assert L.CLOCK_BAD in r.active_locks()
    r.login(2, "2222", A.MODE_CLOCK)
    r.set_clock(z_ts + 60)
    assert L.CLOCK_BAD not in r.active_locks()


# --- KZ-ND-29 ----------------------------------------------------------------


def test_kz_nd_29_z_area_holds_the_shifts_sales():
    b = fiscalised_bench()
    r = b.reg
    sell(r, [line(price=100000)])
    sell(r, [line(price=20000, qty=3000)])
    b.ofd.online = False
    sell(r, [line(price=5000)])
    b.ofd.online = True
    assert r.replay() == 1
    r.deposit(7000)
    enc = r.counters.encode()
    cash = r.counters.cash
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    r.close_shift()
    assert r.counters.tickets_count() == 0  # reset after the Z area was written
    ts, summary, chain = r.acc.read_z(1)
    z = C.decode_z_summary(summary)
    assert z["shift_no"] == 1 and z["close_ts"] == ts
    assert z["tickets"][D.OP_SELL][:2] == (3, 100000 + 60000 + 5000)
    assert z["placements"][0][:2] == (1, 7000)
    assert z["cash"] == cash and z["offline"] == 1
    assert z["crc"] == crc32(enc)  # the shift's own counters, not the reset ones
    r = b.boot()  # the fiscal memory keeps it
    assert C.decode_z_summary(r.acc.read_z(1)[1]) == z


# --- KZ-29.3 -------------------------------------------------------------------


def test_kz_29_3_autonomous_sign_unique_past_a_million_and_at_the_limit():
    seqs = []
    for base in (1, 10 ** 6, 10 ** 7, 10 ** 9, LAST_SEQ - 10 ** 6):
        seqs.extend(range(base - 2, base + 3))
    seqs.extend((999999 + 10 ** 6, 2 * 10 ** 6, LAST_SEQ - 1, LAST_SEQ))
    signs = [R.autonomous_sign(s) for s in seqs if s >= 1]
    assert len(set(signs)) == len(signs)
    # the number sent for each is its own and fits the protocol's uint32
    sent = [int(g) for g in signs]
    assert len(set(sent)) == len(sent) and max(sent) <= R.MAX_OFFLINE_NUMBER


def test_kz_29_3_journal_refuses_a_record_past_its_last_sequence():
    # the designed limit: the journal's sequence (and so the autonomous
    # sign) ends at LAST_SEQ; the record after the last one is refused, never
    # written with a wrapped number, and the records up to it read back
    log, fm = NorFlash(8), NorFlash(2)
    acc = Accumulator(log, fm, KEY)
    acc.last_seq = LAST_SEQ - 3  # an image whose sequence has come this far
    for i in range(3):
        acc.append(16, ("doc %d" % i).encode(), T0 + i, True)
    assert acc.last_seq == LAST_SEQ
    for rec in ((16, b"next", T0 + 9, True), (16, b"next", T0 + 9)):
        try:
            acc.append(*rec)
        except JournalFull:
            raise AssertionError("a full log is not the end of the sequence")
        except JournalError as e:
            assert e.args[0] == "seq"
        else:
            raise AssertionError("a record past the last sequence")
    acc2 = Accumulator(log, fm, KEY)
    assert acc2.last_seq == LAST_SEQ and acc2.unacked() == [LAST_SEQ - 2, LAST_SEQ - 1, LAST_SEQ]
    assert acc2.read(LAST_SEQ)[2] == b"doc 2"


def test_kz_29_3_register_at_the_last_sequence_locks_instead_of_repeating_a_sign():
    b = fiscalised_bench()
    r = b.reg
    b.ofd.online = False
    r.acc.last_seq = LAST_SEQ - 6  # as if the journal had come this far (R_OPEN, document, R_SIGN each)
    docs = [sell(r) for _ in range(2)]
    assert [d.seq for d in docs] == [LAST_SEQ - 4, LAST_SEQ - 1] and docs[0].fiscal_sign != docs[1].fiscal_sign
    assert r.acc.last_seq == LAST_SEQ
    printed = len(b.printer.printed)
    assert refused(r.open_receipt, D.OP_SELL)[0] == L.ACC_FAULT
    assert refused(r.deposit, 100)[0] == L.ACC_FAULT
    assert r.acc.last_seq == LAST_SEQ and len(b.printer.printed) == printed


# --- KZ-30.1 -------------------------------------------------------------------


def _local(dt):
    d, t = dt["date"], dt["time"]
    return unix_from_civil(d["year"], d["month"], d["day"], t["hour"], t["minute"], t["second"])


def test_kz_30_1_offline_period_after_a_reboot():
    # documents issued offline, then a power cycle: when the link is back,
    # every replayed request still says how long the register worked
    # offline, from no later than the first offline document to now
    b = link_bench()
    r = b.reg
    off = r.settings.get("tz_offset")
    seqs = queue_offline(b, 2)
    first_ts = r.acc.read(seqs[0])[1]
    b.clock.advance(5 * HOUR)
    r = b.boot()
    b.clock.advance(HOUR)
    now = b.clock.now()
    b.link.restore()
    n = len(b.link.log)
    assert r.replay() == 2
    reqs = [req for c, req in b.link.log[n:] if c == S.COMMAND_TICKET]
    assert len(reqs) == len(seqs)
    for q in reqs:
        p = q["service"]["offline_period"]
        begin, end = _local(p["begin_time"]) - off, _local(p["end_time"]) - off
        assert begin <= first_ts and end == now and begin < end


# --- KZ-43.3 -------------------------------------------------------------------


def test_kz_43_3_no_paper_when_the_sign_record_failed():
    # offline, the document is journalled but its autonomous sign record
    # cannot be written: nothing is printed (not even a copy) until a boot
    # completes the record; then the copy carries the stored sign
    b = fiscalised_bench()
    r = b.reg
    b.ofd.online = False
    real = r.acc.append

    def no_sign(rtype, payload, ts, need_ack=False, reserve=False):
        if rtype == R.R_SIGN:
            raise JournalFull("log")
        return real(rtype, payload, ts, need_ack, reserve)

    r.acc.append = no_sign
    printed = len(b.printer.printed)
    res = sell(r)
    assert not res.journalled and not res.printed
    assert len(b.printer.printed) == printed and L.N_REPRINT in r.notices
    r.acc.append = real
    r.copy_last()
    assert len(b.printer.printed) == printed  # no copy either
    r = b.boot()
    assert R.sign_of(r.acc, res.seq) == res.fiscal_sign
    r.login(1, "1111", A.MODE_SALES)
    r.copy_last()
    paper = b.printer.printed[-1]
    assert _field(paper, T.L_OFFLINE_SIGN, "kk") == R.sign_of(r.acc, res.seq)


# --- KZ-28 ---------------------------------------------------------------------


def test_kz_28_default_retention_keeps_records_720_h():
    # acknowledged records of a closed shift are kept 720 h from their
    # time: the ring reuses none of them earlier (a full log), and does after
    log, fm = NorFlash(4), NorFlash(2)
    acc = Accumulator(log, fm, KEY)
    n = 0
    while True:
        try:
            seq = acc.append(16, b"x" * 200, T0, True)
        except JournalFull:
            break
        acc.ack(seq, b"sign", T0)
        n += 1
    assert n > 10
    acc.close_shift(b"Z", T0)
    while True:  # the slack a sector end leaves: full for this record too
        try:
            acc.append(16, b"x" * 200, T0)
        except JournalFull:
            break
    for t in (T0 + 720 * HOUR - 1, T0 + 720 * HOUR):
        acc = Accumulator(log, fm, KEY)  # the default, as the device opens it
        try:
            acc.append(16, b"x" * 200, t)
            reused = True
        except JournalFull:
            reused = False
        assert reused == (t >= T0 + 720 * HOUR), t
    for _ in range(n):  # a sector's worth more: the oldest sector is reused
        acc.append(16, b"x" * 200, t)
    assert acc.oldest_seq > 1


# --- KZ-2, KZ-3.3 ----------------------------------------------------------------


def _edit(dev, old, new):
    # rewrite stored bytes and the record's CRC-32, as someone with a flash
    # programmer and without the device key would
    pos = bytes(dev.data).find(old)
    assert pos > 0
    start = pos
    while not (dev.data[start] == 0xA5 and start + 14 <= pos
               and struct.unpack_from("<H", dev.data, start + 12)[0] >= pos - start - 14 + len(old)):
        start -= 1
    end = start + 14 + struct.unpack_from("<H", dev.data, start + 12)[0] + 36
    dev.data[pos : pos + len(new)] = new
    struct.pack_into("<I", dev.data, end - 4, crc32(bytes(dev.data[start : end - 4])))


def test_kz_2_kz_3_3_tampered_closed_shift_locks_at_power_on():
    b = fiscalised_bench()
    r = b.reg
    sell(r, [line("Алтын сақина", 9900000)])
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    r.close_shift()
    r = b.boot()
    assert L.ACC_INTEGRITY not in r.active_locks()
    _edit(b.log, "Алтын сақина".encode(), "Күміс сақина".encode())  # same length, other goods
    r = b.boot()
    assert L.ACC_INTEGRITY in r.active_locks()
    r.login(1, "1111", A.MODE_SALES)
    last = r.acc.last_seq
    assert refused(r.open_receipt, D.OP_SELL)[0] == L.ACC_INTEGRITY
    assert refused(r.deposit, 100)[0] == L.ACC_INTEGRITY
    assert r.acc.last_seq == last
