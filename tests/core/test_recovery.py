# Power cut at every byte of every step (NOR emulator power-cut injection):
# after the reboot a document either exists with all its effects on the
# counters or does not exist at all, and the cashier is told whether the
# open receipt was restored or dropped.
import gc

from boards.sim.nor_flash import PowerCut
from kkm import auth as A
from kkm import locks as L
from kkm import recovery as RC
from regkit import fiscalised_bench, line, sell

STRIDE = 1  # every byte


def _op_sale(r):
    sell(r, [line(), line("Сүт", 45050, 2000, section=2)])


def _op_withdraw(r):
    r.withdraw(5000)


def _op_z(r):
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    r.close_shift()


def _state(r):
    return (r.counters.encode(), r.shift_open, r.acc.z_count(), r.doc_no)


def _sweep(op, online, dev_name="log", stride=STRIDE, queued=False):
    gc.collect()
    b = fiscalised_bench(log_blocks=8)
    sell(b.reg, [line(price=100000)])
    if queued:
        b.ofd.online = False
        sell(b.reg)
    b.ofd.online = online
    dev = b.log if dev_name == "log" else b.fm
    base = (b.log.snapshot(), b.fm.snapshot())

    def reset():
        b.printer.printed = []  # keep the heap flat over hundreds of reboots
        b.ofd.sent = []
        b.log.restore(base[0])
        b.fm.restore(base[1])
        r = b.boot()
        r.login(1, "1111", A.MODE_SALES)
        return r

    r = reset()
    before = _state(r)
    p0 = dev.bytes_programmed
    op(r)
    total = dev.bytes_programmed - p0
    after = _state(r)
    r = reset()
    b.ofd.online = False
    op(r)
    after_off = _state(r)
    b.ofd.online = online
    assert total > 0
    seen = {"before": 0, "after": 0, "restored": 0, "dropped": 0}
    n = 0
    while n <= total:
        gc.collect()
        r = reset()
        dev.cut_after(n)
        try:
            op(r)
            done = True
        except PowerCut:
            done = False
        r2 = b.boot()
        st = _state(r2)
        rep = r2.recovery
        if st == before:
            seen["before"] += 1
            assert not done
            assert rep.receipt in (RC.NONE, RC.DROPPED)
            if rep.receipt == RC.DROPPED:
                seen["dropped"] += 1
                assert L.N_DROPPED in r2.notices
        else:
            assert st == after or st == after_off, n
            seen["after"] += 1
            if rep.receipt == RC.RESTORED:
                seen["restored"] += 1
                assert st == after_off and L.N_RESTORED in r2.notices
                assert r2.last is not None and not r2.last.printed
        if done:
            assert st == after
        # a second reboot finds nothing more to do
        r3 = b.boot()
        assert _state(r3) == st and r3.recovery.receipt == RC.NONE
        # and the register works on: a sale goes through
        r3.login(1, "1111", A.MODE_SALES)
        b.ofd.online = True
        r3.replay()
        sell(r3)
        b.ofd.online = online
        n += stride
    return seen


def test_power_cut_at_every_byte_of_an_online_sale():
    seen = _sweep(_op_sale, True)
    assert seen["before"] and seen["after"] and seen["restored"] and seen["dropped"]


def test_power_cut_at_every_byte_of_an_offline_sale_behind_a_queue():
    seen = _sweep(_op_sale, False, queued=True)
    assert seen["before"] and seen["after"] and seen["restored"]


def test_power_cut_at_every_byte_of_a_withdrawal():
    seen = _sweep(_op_withdraw, True)
    assert seen["before"] and seen["after"] and seen["restored"]


def test_restored_receipt_can_be_printed_and_is_signed_in_the_journal():
    gc.collect()
    b = fiscalised_bench(log_blocks=8)
    r = b.reg
    base = (b.log.snapshot(), b.fm.snapshot())
    p0 = b.log.bytes_programmed
    sell(r)
    total = b.log.bytes_programmed - p0
    # find a cut that leaves the document without its sign
    for n in range(total):
        b.log.restore(base[0])
        b.fm.restore(base[1])
        r = b.boot()
        r.login(1, "1111", A.MODE_SALES)
        b.log.cut_after(n)
        try:
            sell(r)
        except PowerCut:
            pass
        r = b.boot()
        if r.recovery.receipt == RC.RESTORED:
            break
    else:
        raise AssertionError("no cut left an unsigned document")
    assert r.acc.unacked() == [r.recovery.seq]
    r.login(1, "1111", A.MODE_SALES)
    res = r.copy_last()
    assert res.printed and res.offline
    assert res.fiscal_sign == r.last.fiscal_sign
