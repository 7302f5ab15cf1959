# The register's state machine on the real accumulator (NOR emulator):
# write-ahead order, online and offline documents, every document type,
# shift rules, locks through the register, settings and audit.
import struct

from kkm import auth as A
from kkm import document as D
from kkm import doccodec as DC
from kkm import locks as L
from kkm import records as RC
from kkm import register as R
from regkit import Bench, fiscalised_bench, line, sell, REG, refused


def _sign_in_journal(acc, seq):
    # the fiscal sign of document seq as the journal holds it (ACK or SIGN)
    for s, rtype, ts, payload in acc.records(seq):
        if rtype == RC.R_SIGN and struct.unpack_from("<I", payload, 0)[0] == seq:
            return bytes(payload[4:]).decode()
    s = seq + 1
    while s <= acc.last_seq:
        rtype, ts, payload = acc.read(s)
        if rtype == 1 and struct.unpack_from("<I", payload, 0)[0] == seq:
            return RC.split_ack(payload[4:])[0]
        s += 1
    return None


def _printed_sign(lines):
    for style, text in lines:
        if "?i=" in text:
            return text.split("?i=")[1].split("&")[0]
    return None


def test_kz_5_kz_24_online_receipt_write_ahead_then_print():
    b = fiscalised_bench()
    r = b.reg
    before = r.acc.last_seq
    res = sell(r, [line(), line("Сүт", 45050, 2000, section=2)])
    assert not res.offline and res.printed
    rtype, ts, payload = r.acc.read(res.seq)
    assert rtype == RC.R_RECEIPT and res.seq > before
    shift_no, number, body = RC.split_doc(payload)
    assert (shift_no, number) == (1, 1)
    assert DC.decode_receipt(body).total() == 25000 + 90100
    # KZ-43.3: the printed sign is the one in the journal
    assert _sign_in_journal(r.acc, res.seq) == res.fiscal_sign == _printed_sign(b.printer.printed[-1])
    assert r.acc.unacked() == []
    assert r.counters.cash == 115100 and r.counters.tickets_count(D.OP_SELL) == 1
    assert b.ofd.sent == [("receipt", res.seq)]


def test_kz_26_kz_29_offline_receipt_autonomous_sign():
    b = fiscalised_bench()
    r = b.reg
    b.ofd.online = False
    res = sell(r)
    assert res.offline and res.printed
    assert res.fiscal_sign == RC.autonomous_sign(res.seq)  # KZ-29.3
    assert _sign_in_journal(r.acc, res.seq) == res.fiscal_sign
    assert r.acc.unacked() == [res.seq]  # kept for the OFD (KZ-8)
    assert L.N_OFFLINE in r.notices  # KZ-29.2
    from kkm import texts as T

    printed = " ".join([t for s, t in b.printer.printed[-1]])
    assert T.text(T.L_OFFLINE, "kk") in printed  # KZ-29.5
    assert _printed_sign(b.printer.printed[-1]) == res.fiscal_sign  # KZ-29.4
    # an exception from the link is offline too
    b.ofd.online = True
    b.ofd.raise_next = True
    assert sell(r).offline


def test_kz_29_3_autonomous_signs_unique():
    # the journal sequence in decimal: one per document over the log's life,
    # and the number sent as offline_ticket_number (uint32 of the protocol)
    signs = set()
    for seq in range(1, 2000, 7):
        signs.add(RC.autonomous_sign(seq))
    assert len(signs) == len(range(1, 2000, 7))
    top = RC.autonomous_sign(RC.MAX_OFFLINE_NUMBER)
    assert top == "2147483647" and int(top) == RC.MAX_OFFLINE_NUMBER


def test_nothing_overtakes_the_offline_queue_and_replay_acks_in_order():
    b = fiscalised_bench()
    r = b.reg
    b.ofd.online = False
    a = sell(r)
    b.ofd.online = True
    c = sell(r)  # the OFD is back, but the queue is not empty
    assert c.offline and b.ofd.sent == []
    assert r.acc.unacked() == [a.seq, c.seq]
    assert r.replay() == 2
    assert b.ofd.sent == [("receipt", a.seq), ("receipt", c.seq)]
    assert r.acc.unacked() == [] and L.N_OFFLINE not in r.notices
    d = sell(r)
    assert not d.offline


def test_kz_29_6_offline_72h_lock_and_clear():
    b = fiscalised_bench()
    r = b.reg
    b.ofd.online = False
    sell(r)
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    r.close_shift()  # KZ-29.7: offline Z joins the queue
    b.clock.advance(50 * 3600)
    r.login(1, "1111", A.MODE_SALES)
    sell(r)
    b.clock.advance(22 * 3600)
    sell(r)  # the oldest offline receipt is exactly 72 h old: allowed
    b.clock.advance(1)
    assert refused(r.open_receipt, D.OP_SELL) == (L.OFFLINE_72H, [L.OFFLINE_72H])
    assert refused(r.deposit, 100)[0] == L.OFFLINE_72H
    # shift close stays possible (KZ-29.7)
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    r.close_shift()
    assert r.acc.z_count() == 2
    b.ofd.online = True
    assert r.replay() == 5
    assert b.ofd.sent[1][0] == "z"
    r.login(1, "1111", A.MODE_SALES)
    assert not sell(r).offline


def test_kz_14_shift_24h_from_first_payment_document():
    b = fiscalised_bench()
    r = b.reg
    r.deposit(100000)  # a placement does not start the 24 hours
    assert r.shift_start is None
    b.clock.advance(3600)
    first = sell(r)
    assert r.shift_start == first.ts
    b.clock.advance(86400)
    sell(r)
    b.clock.advance(1)
    assert refused(r.open_receipt, D.OP_SELL)[0] == L.SHIFT_24H
    r.x_report()  # X stays possible
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    r.close_shift()
    r.login(1, "1111", A.MODE_SALES)
    sell(r)


def test_kz_12_kz_nd_29_z_closes_resets_and_carries_totals():
    b = fiscalised_bench()
    r = b.reg
    sell(r, [line(price=100000)])
    r.deposit(5000)
    nn = list(r.counters.nn)
    cash = r.counters.cash
    assert refused(r.close_shift)[0] == L.E_NO_RIGHT  # KZ-1.3: logged in for sales
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    zx = r.close_shift()
    assert r.acc.z_count() == 1
    assert zx["shift_number"] == 1 and "close_shift_time" in zx
    assert r.counters.tickets_count() == 0 and r.counters.nn == nn and r.counters.cash == cash
    assert not r.shift_open and r.shift_start is None
    assert r.acc.last_checkpoint() is not None
    # no second Z without a document
    assert refused(r.close_shift)[0] == L.E_NO_SHIFT
    r.login(1, "1111", A.MODE_SALES)
    res = sell(r)
    assert (res.shift_no, res.number) == (2, 1)


def test_kz_15_every_document_type_and_cash_rules():
    b = fiscalised_bench()
    r = b.reg
    s = sell(r, [line(price=50000, qty=4000)])
    # return against the original receipt (R-30: found by its fiscal sign)
    r.open_return(s.fiscal_sign)
    r.return_line(0, 1000)
    r.refund()
    ret = r.fiscalise()
    parent = ret.doc.parent
    assert r.counters.tickets_count(D.OP_SELL_RETURN) == 1
    assert r.counters.cash == 150000
    # purchase (pawnshop, scrap: R-56 special) and its return
    b_ = sell(r, [line(price=30000)], op=D.OP_BUY)
    assert r.counters.cash == 120000
    r.open_return(b_.fiscal_sign)
    r.return_line(0)
    r.refund()
    r.fiscalise()
    assert r.counters.cash == 150000
    # KZ-27 deposit and withdrawal
    r.deposit(10000)
    r.withdraw(60000)
    assert r.counters.cash == 100000
    # more than the drawer holds: refused, nothing journalled
    last = r.acc.last_seq
    assert refused(r.withdraw, 100001)[0] == L.E_NOT_ENOUGH_CASH
    rc = r.open_receipt(D.OP_SELL_RETURN)
    rc.add_line(line(price=50000, qty=3000))
    rc.set_parent(parent)
    rc.add_payment(D.Payment(D.PAY_CASH, 150000))
    assert refused(r.fiscalise)[0] == L.E_NOT_ENOUGH_CASH
    r.abandon()
    assert r.acc.last_seq == last + 2  # the R_OPEN marker and the abandon audit
    assert ret.doc.parent.number == s.fiscal_sign
    assert r.counters.documents() == 6


def test_open_receipt_can_drop_lines_or_be_abandoned_before_fiscalisation():
    b = fiscalised_bench()
    r = b.reg
    rc = r.open_receipt(D.OP_SELL)
    rc.add_line(line())
    rc.add_line(line("Май", 99900))
    rc.remove_line(0)
    assert refused(r.open_receipt, D.OP_SELL)[0] == L.E_RECEIPT_OPEN
    assert refused(r.deposit, 1)[0] == L.E_RECEIPT_OPEN
    r.abandon()
    assert r.counters.documents() == 0 and r.acc.unacked() == []
    assert refused(r.abandon)[0] == L.E_NO_RECEIPT
    assert refused(r.fiscalise)[0] == L.E_NO_RECEIPT


def test_kz_6_printer_locks_before_anything_is_journalled():
    b = fiscalised_bench()
    r = b.reg
    b.printer.state = "no_paper"
    last = r.acc.last_seq
    assert refused(r.open_receipt, D.OP_SELL)[0] == L.NO_PAPER
    assert refused(r.deposit, 100)[0] == L.NO_PAPER
    assert r.acc.last_seq == last
    b.printer.state = "fault"
    assert refused(r.open_receipt, D.OP_SELL)[0] == L.PRINTER_FAULT
    b.printer.state = "ok"
    sell(r)
    # paper torn during printing: the document exists, a copy is offered
    b.printer.fail_next = True
    res = sell(r)
    assert not res.printed and L.N_REPRINT in r.notices
    again = r.copy_last()
    assert again.printed and _printed_sign(b.printer.printed[-1]) == res.fiscal_sign


def test_kz_16_kz_76_4_ofd_orders_lock_and_survive_reboot():
    b = fiscalised_bench()
    r = b.reg
    r.ofd_order(suspend=True)
    assert refused(r.open_receipt, D.OP_SELL)[0] == L.OFD_SUSPEND
    r = b.boot()
    assert L.OFD_SUSPEND in r.active_locks()
    r.ofd_order(suspend=False, mismatch=True)
    r = b.boot()
    assert r.active_locks() == [L.DATA_MISMATCH]
    r.ofd_order(mismatch=False)
    r.login(1, "1111", A.MODE_SALES)
    sell(r)


def test_kz_3_kz_43_1_boot_locks():
    b = fiscalised_bench()
    b.reg.acc  # devices exist
    from journal import Accumulator
    from regkit import KEY

    r = R.Register(Accumulator(b.log, b.fm, KEY), b.printer, b.ofd, b.clock, False, lambda: False, lambda: True)
    assert r.active_locks() == [L.SELFTEST_HW, L.FIRMWARE]
    r.login(1, "1111", A.MODE_SALES)
    assert refused(r.open_receipt, D.OP_SELL)[0] == L.SELFTEST_HW


def test_kz_3_2_failed_software_test_locks_until_a_passing_boot():
    b = fiscalised_bench()
    from journal import Accumulator
    from regkit import KEY

    def boot(sw_ok):
        return R.Register(Accumulator(b.log, b.fm, KEY), b.printer, b.ofd, b.clock, True, None, lambda: sw_ok)

    r = boot(False)
    assert r.active_locks() == [L.SELFTEST_SW]
    r.login(1, "1111", A.MODE_SALES)
    assert refused(r.open_receipt, D.OP_SELL)[0] == L.SELFTEST_SW
    r = boot(True)
    assert r.active_locks() == []
    r.login(1, "1111", A.MODE_SALES)
    r.open_receipt(D.OP_SELL)


def test_not_fiscalised_register_refuses_documents():
    b = Bench()
    r = b.boot()
    assert L.NOT_FISCALISED in r.active_locks()
    # the first user of a new register cannot be a cashier
    assert refused(r.set_user, 1, "c", A.ROLE_CASHIER, "1111")[0] == L.E_NO_RIGHT
    r.set_user(2, "Админ", A.ROLE_ADMIN, "2222")
    r.login(2, "2222", A.MODE_PROGRAMMING)
    r.set_user(1, "c", A.ROLE_CASHIER, "1111")
    r.login(1, "1111", A.MODE_SALES)
    assert refused(r.open_receipt, D.OP_SELL)[0] == L.NOT_FISCALISED
    assert refused(r.fiscalise_kkm, REG)[0] == L.E_NO_RIGHT  # service engineer only


def test_kz_41_kz_42_settings_and_clock_through_the_register():
    b = fiscalised_bench()
    r = b.reg
    sell(r)
    r.login(2, "2222", A.MODE_PROGRAMMING)
    assert refused(r.change_settings, {"rnm": "999999999999"})[0] == L.E_SHIFT_OPEN
    assert r.change_settings({"token": 42}) == ["token"]
    r.login(2, "2222", A.MODE_CLOCK)
    assert refused(r.set_clock, b.clock.now() + 60)[0] == L.E_SHIFT_OPEN
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    r.close_shift()
    r.login(2, "2222", A.MODE_CLOCK)
    assert refused(r.set_clock, r.last_doc_ts - 1)[0] == L.E_CLOCK_BACK
    far = b.clock.now() + 3 * 86400
    assert refused(r.set_clock, far)[0] == L.E_CLOCK_CONFIRM
    r.set_clock(far, far)
    assert b.clock.now() == far
    r.login(2, "2222", A.MODE_PROGRAMMING)
    r.change_settings({"rnm": "999999999999"})
    # the change is journalled: a reboot keeps it
    r = b.boot()
    assert r.settings.get("rnm") == "999999999999" and r.settings.get("token") == 42


def test_kz_42_clock_behind_last_document_locks_until_set():
    b = fiscalised_bench()
    r = b.reg
    sell(r)
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    r.close_shift()
    b.clock.set(b.clock.now() - 3600)  # the RTC lost an hour
    r = b.boot()
    assert L.CLOCK_BAD in r.active_locks()
    r.login(1, "1111", A.MODE_SALES)
    assert refused(r.open_receipt, D.OP_SELL)[0] == L.CLOCK_BAD
    r.login(2, "2222", A.MODE_CLOCK)
    r.set_clock(r.last_doc_ts + 60)
    assert L.CLOCK_BAD not in r.active_locks()


def test_audit_records_for_logins_failures_and_settings():
    b = fiscalised_bench()
    r = b.reg
    last = r.acc.last_seq
    refused(r.login, 1, "0000", A.MODE_SALES)
    r.login(2, "2222", A.MODE_PROGRAMMING)
    r.change_settings({"ofd_name": "ОФД"})
    events = []
    for seq, rtype, ts, payload in r.acc.records(last + 1):
        if rtype == RC.R_AUDIT:
            events.append((payload[0], payload[1]))
        assert seq not in r.acc.unacked()
    assert events == [(A.EV_LOGIN_FAIL, 1), (A.EV_LOGIN, 2), (RC.EV_SETTINGS, 2)]


def test_reports_by_cashier_and_section():
    b = fiscalised_bench()
    r = b.reg
    sell(r, [line(section=1), line(section=3, price=1000)])
    lines = r.section_report()
    assert len(lines) > 3 and b.printer.printed[-1] == lines
    assert r.cashier_report() == b.printer.printed[-1]
    zx = r.x_report()
    assert zx["shift_number"] == 1 and "close_shift_time" not in zx
    assert r.counters.tickets_count() == 1  # X does not reset


def test_kz_nd_35_accumulator_full_locks_and_loses_nothing():
    b = fiscalised_bench(log_blocks=4)
    r = b.reg
    n = 0
    while True:
        try:
            sell(r, [line(name="Тауар %d" % n) for _ in range(3)])
        except L.Locked as e:
            assert e.args[0] == L.ACC_FULL
            break
        n += 1
        assert n < 500
    assert L.ACC_FULL in r.active_locks()
    if r.draft is not None:
        r.abandon()  # the append of the document itself was refused
    assert refused(r.open_receipt, D.OP_SELL)[0] == L.ACC_FULL
    assert refused(r.deposit, 100)[0] == L.ACC_FULL
    # nothing was lost: every accepted receipt is counted after a reboot
    count = r.counters.tickets_count()
    assert count == n
    r = b.boot()
    assert r.counters.tickets_count() == n
    # after the reboot the next attempt engages the lock again, and the
    # refused attempt changes nothing
    r.login(1, "1111", A.MODE_SALES)
    before = r.counters.encode()
    try:
        sell(r, [line(name="Тауар %d" % n) for _ in range(3)])
        raise AssertionError("sold on a full accumulator")
    except L.Locked as e:
        assert e.args[0] == L.ACC_FULL
    assert r.counters.encode() == before and L.ACC_FULL in r.active_locks()


def test_kz_13_kz_3_3_integrity_check_at_z_locks_on_failure():
    from journal import SelfTestResult

    b = fiscalised_bench()
    r = b.reg
    sell(r)
    good = r.acc.self_test
    r.acc.self_test = lambda: SelfTestResult(False, 1, 5, "chain")
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    last = r.acc.last_seq
    assert refused(r.close_shift)[0] == L.ACC_INTEGRITY
    assert r.acc.z_count() == 0 and r.acc.last_seq == last  # no Z written
    r.login(1, "1111", A.MODE_SALES)
    assert refused(r.open_receipt, D.OP_SELL)[0] == L.ACC_INTEGRITY
    del good
    r = b.boot()  # after service: the power-on check passes and clears it
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    r.close_shift()
    assert r.acc.z_count() == 1 and L.ACC_INTEGRITY not in r.active_locks()
