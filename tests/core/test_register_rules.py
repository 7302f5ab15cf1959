# Register rules found in review: buyer equal to the seller (protocol
# result 17), the medicines VAT rate moving to 10 % on 2027-01-01 inside an
# open shift, a shift close whose OFD acknowledgement cannot be journalled,
# rights of a cashier, no password anywhere in the journal.
from journal import JournalFull
from kkm import auth as A
from kkm import document as D
from kkm import locks as L
from kkm import texts
from regkit import fiscalised_bench, line, sell, REG, refused

NEW_YEAR_2027 = 1798761600 - 5 * 3600  # 2027-01-01 00:00 local (UTC+5)


def test_ofd_17_buyer_iin_equal_to_seller_bin_refused_before_the_journal():
    # SAME_TAXPAYER_AND_CUSTOMER: the OFD refuses such a ticket; offline it
    # would be printed and then block the queue, so the register refuses it
    for online in (True, False):
        b = fiscalised_bench()
        r = b.reg
        b.ofd.online = online
        rc = r.open_receipt(D.OP_SELL)
        rc.add_line(line())
        rc.add_payment(D.Payment(D.PAY_CASH, rc.total()))
        rc.set_buyer(REG["bin"])
        last = r.acc.last_seq
        assert refused(r.fiscalise)[0] == texts.E_SAME_TAXPAYER
        assert r.acc.last_seq == last and not r.acc.unacked()
        assert texts.has(texts.E_SAME_TAXPAYER)
        # the cashier fixes the buyer and the receipt goes through
        rc.set_buyer("900101300126")
        res = r.fiscalise()
        assert res.doc.buyer_iin == "900101300126"


def test_vat_rate_of_a_document_is_the_one_in_force_on_its_local_date():
    # the shift runs over midnight 2026-12-31 -> 2027-01-01 (Astana time):
    # medicines sold at 23:59:50 carry 5 %, at 00:00:10 10 %, on paper, in
    # the counters and after a reboot (recovery replays with the same rates)
    b = fiscalised_bench()
    r = b.reg
    b.clock.t = NEW_YEAR_2027 - 10
    med = line("Парацетамол", 10500, 1000, tax=2)
    old = sell(r, [med])
    b.clock.t = NEW_YEAR_2027 + 10
    med2 = line("Парацетамол", 11000, 1000, tax=2)
    new = sell(r, [med2])
    assert old.doc.taxes(r.settings.tax_table(old.ts)) == [(2, 5000, 10500, 500)]
    assert new.doc.taxes(r.settings.tax_table(new.ts)) == [(2, 10000, 11000, 1000)]
    texts_old = [t for s, t in old.lines]
    texts_new = [t for s, t in new.lines]
    assert [t for t in texts_old if "ҚҚС 5%" in t and t.endswith("5.00")]
    assert [t for t in texts_new if "ҚҚС 10%" in t and t.endswith("10.00")]
    assert sorted(r.counters.taxes) == [5000, 10000]
    assert r.counters.taxes[5000][D.OP_SELL] == [10500, 500]
    assert r.counters.taxes[10000][D.OP_SELL] == [11000, 1000]
    enc = r.counters.encode()
    r2 = b.boot()
    assert r2.counters.encode() == enc
    r2.login(1, "1111", A.MODE_SHIFT_CLOSE)
    zx = r2.close_shift()
    assert [t["percent"] for t in zx["taxes"]] == [5000, 10000]


def test_z_whose_ack_cannot_be_journalled_still_closes_the_shift_once():
    # the OFD answered the Z but its ACK record does not fit: the Z stays
    # in the queue (like an offline Z, KZ-29.7) and the close completes;
    # the shift must not stay open for a second Z document
    b = fiscalised_bench()
    r = b.reg
    sell(r)
    real_ack = r.acc.ack

    def full_ack(seq, payload, ts):
        raise JournalFull("test")

    r.acc.ack = full_ack
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    zx = r.close_shift()
    r.acc.ack = real_ack
    assert zx["shift_number"] == 1
    assert r.acc.z_count() == 1 and not r.shift_open
    assert len(r.acc.unacked()) == 1  # the Z waits for the OFD queue
    state = (r.counters.encode(), r.shift_open, r.acc.z_count(), r.doc_no)
    r2 = b.boot()
    assert (r2.counters.encode(), r2.shift_open, r2.acc.z_count(), r2.doc_no) == state
    assert r2.replay() == 1 and not r2.acc.unacked()


def test_kz_1_cashier_cannot_program_set_the_clock_or_fiscalise():
    b = fiscalised_bench()
    r = b.reg
    for mode in (A.MODE_PROGRAMMING, A.MODE_CLOCK, A.MODE_SERVICE):
        assert refused(r.login, 1, "1111", mode)[0] == L.E_NO_RIGHT
    r.login(1, "1111", A.MODE_SALES)
    assert refused(r.change_settings, {"token": 7})[0] == L.E_NO_RIGHT
    assert refused(r.set_clock, b.clock.now() + 60)[0] == L.E_NO_RIGHT
    assert refused(r.set_user, 5, "X", A.ROLE_ADMIN, "5555")[0] == L.E_NO_RIGHT
    assert refused(r.set_password, 2, "0000")[0] == L.E_NO_RIGHT
    # KZ-1.3: the sales login does not close the shift; the shift-close
    # password does
    sell(r)
    assert refused(r.close_shift)[0] == L.E_NO_RIGHT
    assert refused(r.login, 1, "1112", A.MODE_SHIFT_CLOSE)[0] == L.E_BAD_PASSWORD
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    r.close_shift()


def test_kz_1_no_password_in_the_journal():
    b = fiscalised_bench()
    r = b.reg
    r.login(2, "2222", A.MODE_PROGRAMMING)
    r.set_password(1, "48151623")
    r.login(1, "48151623", A.MODE_SALES)
    refused(r.login, 1, "00000000", A.MODE_SALES)
    r.login(1, "48151623", A.MODE_SALES)
    sell(r)
    r.checkpoint()
    pws = (b"9999", b"2222", b"1111", b"48151623", b"00000000")
    n = 0
    for seq, rtype, ts, payload in r.acc.records(0):
        data = bytes(payload)
        for pw in pws:
            assert pw not in data, (seq, rtype)
        n += 1
    assert n > 10


def test_clock_local_time_follows_the_registered_utc_offset():
    # one source of truth for local time: the settings' tz_offset, which
    # the clock's display helpers (clock.local/civil) follow, also after a
    # reboot
    b = fiscalised_bench()
    r = b.reg
    assert b.clock.offset == 5 * 3600
    r.login(2, "2222", A.MODE_PROGRAMMING)
    r.change_settings({"tz_offset": 6 * 3600})
    assert b.clock.offset == 6 * 3600
    assert b.clock.local() == b.clock.now() + 6 * 3600
    b.clock.offset = 0
    b.boot()
    assert b.clock.offset == 6 * 3600


def test_replay_stops_when_an_ack_does_not_fit():
    # the answered document stays queued (resent later as a duplicate);
    # replay reports what was acknowledged instead of raising
    b = fiscalised_bench()
    r = b.reg
    b.ofd.online = False
    sell(r)
    sell(r)
    b.ofd.online = True
    real_ack = r.acc.ack

    def full_ack(seq, payload, ts):
        raise JournalFull("test")

    r.acc.ack = full_ack
    assert r.replay() == 0
    assert len(r.acc.unacked()) == 2
    r.acc.ack = real_ack
    assert r.replay() == 2 and not r.acc.unacked()


def test_copy_of_a_printed_document_is_marked_as_a_copy():
    # a second paper of a fiscal receipt must not pass for another receipt
    b = fiscalised_bench()
    r = b.reg
    res = sell(r)
    first = [t for s, t in res.lines]
    assert "КӨШІРМЕ" not in first
    b.printer.printed = []
    r.copy_last("kk")
    copy = [t for s, t in b.printer.printed[-1]]
    assert copy[0].strip() == "КӨШІРМЕ"
    assert copy[1:] == first
    r.copy_last("ru")
    assert [t for s, t in b.printer.printed[-1]][0].strip() == "КӨШІРМЕ / КОПИЯ"
    # a document that was never printed (paper out, power cut) prints as
    # the original the first time
    b.printer.fail_next = True
    res = sell(r)
    assert not res.printed
    r.copy_last("kk")
    assert [t for s, t in b.printer.printed[-1]][0].strip() != "КӨШІРМЕ"
    r.copy_last("kk")
    assert [t for s, t in b.printer.printed[-1]][0].strip() == "КӨШІРМЕ"
