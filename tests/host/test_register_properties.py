"""Property test of the register: random operation sequences, invariants
checked after every step.

Invariants:
  * Z totals equal the sum of the shift's documents (per operation type,
    counts and sums), checked on every X and at every Z;
  * cash in the drawer = deposits - withdrawals + cash of sales and purchase
    returns - cash of sale returns and purchases (a model kept here);
  * the never-reset cumulative totals never decrease;
  * no payment document is accepted while any lock is active;
  * a reboot at any step rebuilds exactly the same state.
"""

import os
import sys

from hypothesis import given, settings, HealthCheck
from hypothesis import strategies as st

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
for p in (os.path.join(ROOT, "tests", "core"), os.path.join(ROOT, "firmware"), ROOT):
    if p not in sys.path:
        sys.path.insert(0, p)

from kkm import auth as A  # noqa: E402
from kkm import counters as C  # noqa: E402
from kkm import document as D  # noqa: E402
from kkm import locks as L  # noqa: E402
from kkm import returns  # noqa: E402
from kkm import texts  # noqa: E402
from regkit import fiscalised_bench, line  # noqa: E402

OPS = (D.OP_SELL, D.OP_SELL_RETURN, D.OP_BUY, D.OP_BUY_RETURN)
CASH_SIGN = {D.OP_SELL: 1, D.OP_BUY_RETURN: 1, D.OP_SELL_RETURN: -1, D.OP_BUY: -1}

line_st = st.tuples(
    st.integers(1, 2000000),  # price, tiyn
    st.sampled_from([1000, 2000, 333, 1500, 12345]),  # quantity, thousandths
    st.sampled_from([("796", False), ("166", True)]),  # piece / kilogram
    st.integers(1, 3),  # section
    st.sampled_from([1, 2, 3]),  # tax group
    st.integers(0, 3),  # 0 none, 1 discount, 2 markup
)
receipt_st = st.tuples(st.sampled_from(OPS), st.lists(line_st, min_size=1, max_size=4),
                       st.integers(0, 100), st.booleans())
step_st = st.one_of(
    st.tuples(st.just("receipt"), receipt_st),
    st.tuples(st.just("receipt"), receipt_st),
    st.tuples(st.just("receipt"), receipt_st),
    st.tuples(st.just("receipt"), receipt_st),
    st.tuples(st.just("deposit"), st.integers(1, 5000000)),
    st.tuples(st.just("withdraw"), st.integers(1, 5000000)),
    st.tuples(st.just("z"), st.just(0)),
    st.tuples(st.just("x"), st.just(0)),
    st.tuples(st.just("hours"), st.sampled_from([1, 2, 5, 12, 25])),
    st.tuples(st.just("ofd"), st.booleans()),
    st.tuples(st.just("replay"), st.just(0)),
    st.tuples(st.just("paper"), st.sampled_from(["ok", "ok", "no_paper", "fault"])),
    st.tuples(st.just("suspend"), st.sampled_from([False, False, True])),
    st.tuples(st.just("reboot"), st.just(0)),
)


STATS = {"accepted": 0, "locked": 0, "z": 0}


class Model:
    def __init__(self):
        self.cash = 0
        self.shift = {op: [0, 0] for op in OPS}  # count, sum
        self.nn = [0, 0, 0, 0]


def _line(spec):
    price, qty, (unit, measured), section, tax, mod = spec
    if not measured:
        qty = (qty // 1000) * 1000 or 1000
    ln = line("Тауар", price, qty, unit, section, tax)
    gross = ln.gross()
    if mod == 1 and gross > 1:
        ln.discount = gross // 10
    elif mod == 2:
        ln.markup = gross // 20 + 1
    return ln


def _check_totals(reg, m):
    for op in OPS:
        assert reg.counters.tickets_count(op) == m.shift[op][0]
        assert reg.counters.tickets_sum(op) == m.shift[op][1]
    assert reg.counters.cash == m.cash
    for op in OPS:
        assert reg.counters.nn[op] >= m.nn[op]
    m.nn = list(reg.counters.nn)


def _zx_sums(zx):
    out = {}
    for t in zx["ticket_operations"]:
        out[t["operation"]] = (t["tickets_count"], t["tickets_sum"]["bills"] * 100 + t["tickets_sum"]["coins"])
    return out


def _state(reg):
    return (reg.counters.encode(), reg.shift_open, reg.shift_start, reg.doc_no, reg.acc.z_count(),
            sorted(reg.active_locks()))


def _run(steps):
    b = fiscalised_bench(log_blocks=32)
    reg = b.reg
    m = Model()
    last_sign = {}
    for kind, arg in steps:
        reg.login(1, "1111", A.MODE_SALES)
        if kind == "receipt":
            op, specs, card_pct, tender = arg
            # a return is of the last receipt of its original's kind:
            # all that is left of it, refunded by its payment types
            ret = op in (D.OP_SELL_RETURN, D.OP_BUY_RETURN)
            if ret and op - 1 not in last_sign:
                continue
            try:
                r = reg.open_return(last_sign[op - 1]) if ret else reg.open_receipt(op)
            except L.Locked as e:
                assert e.args[1] and e.args[1] == [c for c in reg.active_locks() if L.blocks(c, L.OP_PAYMENT)]
                STATS["locked"] += 1
                continue
            except L.Refused as e:
                assert ret and e.args[0] == returns.E_NO_ORIGINAL  # the ring has reused its records
                continue
            except D.DocumentError as e:
                assert ret and e.args[0] == returns.E_RETURNED
                continue
            # accepted: no lock may be active (the 24 h and 72 h locks too)
            assert [c for c in reg.active_locks() if L.blocks(c, L.OP_PAYMENT)] == []
            if ret:
                reg.return_line()
                reg.refund()
                total = r.total()
                cash = r.cash_part()
            else:
                for s in specs:
                    r.add_line(_line(s))
                total = r.total()
                card = total * card_pct // 100
                if card:
                    r.add_payment(D.Payment(D.PAY_CARD, card, None, "T1", "123456", "123456789012"))
                cash = total - card
                if cash:
                    r.add_payment(D.Payment(D.PAY_CASH, cash, cash + (999 if tender else 0)))
            if total == 0:
                # measured lines can round to 0 tiyn: no fiscal receipt for nothing
                try:
                    reg.fiscalise()
                except D.DocumentError as e:
                    assert e.args[0] == texts.E_AMOUNT
                    reg.abandon()
                    continue
                raise AssertionError("a 0 tiyn receipt was fiscalised")
            try:
                res = reg.fiscalise()
            except L.Refused as e:
                assert e.args[0] == L.E_NOT_ENOUGH_CASH and CASH_SIGN[op] < 0 and cash > m.cash
                reg.abandon()
                continue
            m.cash += CASH_SIGN[op] * cash
            m.shift[op][0] += 1
            m.shift[op][1] += total
            last_sign[op] = res.fiscal_sign
            STATS["accepted"] += 1
        elif kind in ("deposit", "withdraw"):
            try:
                (reg.deposit if kind == "deposit" else reg.withdraw)(arg)
            except L.Locked:
                assert [c for c in reg.active_locks() if L.blocks(c, L.OP_PLACEMENT)]
                continue
            except L.Refused as e:
                assert e.args[0] == L.E_NOT_ENOUGH_CASH and kind == "withdraw" and arg > m.cash
                continue
            m.cash += arg if kind == "deposit" else -arg
        elif kind == "x":
            try:
                zx = reg.x_report()
            except L.Locked:
                continue
            sums = _zx_sums(zx)
            for op in OPS:
                assert sums[op] == tuple(m.shift[op])
        elif kind == "z":
            reg.login(1, "1111", A.MODE_SHIFT_CLOSE)
            try:
                zx = reg.close_shift()
            except L.Refused as e:
                assert e.args[0] in (L.E_NO_SHIFT, L.NO_PAPER, L.PRINTER_FAULT)
                continue
            sums = _zx_sums(zx)
            for op in OPS:
                assert sums[op] == tuple(m.shift[op])  # Z totals = the shift's documents
            m.shift = {op: [0, 0] for op in OPS}
            STATS["z"] += 1
        elif kind == "hours":
            b.clock.advance(arg * 3600)
        elif kind == "ofd":
            b.ofd.online = arg
        elif kind == "replay":
            reg.replay()
        elif kind == "paper":
            b.printer.state = arg
        elif kind == "suspend":
            reg.ofd_order(suspend=arg)
        elif kind == "reboot":
            before = _state(reg)
            reg = b.boot()
            assert _state(reg) == before
        _check_totals(reg, m)
    # the last check: a reboot rebuilds the same state
    before = _state(reg)
    assert _state(b.boot()) == before


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step_st, min_size=5, max_size=40))
def test_register_invariants_hold_after_every_step(steps):
    _run(steps)


def test_zz_the_random_runs_reached_every_branch():
    # guards against a generator that never gets past the locks
    if STATS["accepted"] or STATS["locked"]:
        assert STATS["accepted"] > 10 and STATS["locked"] > 0 and STATS["z"] > 0


def test_long_fixed_sequence_with_offline_and_24h():
    # a deterministic run that crosses the 24 h and 72 h limits
    steps = [("receipt", (D.OP_SELL, [(100000, 1000, ("796", False), 1, 1, 0)], 0, True))] * 3
    steps += [("ofd", False), ("receipt", (D.OP_SELL, [(5000, 2000, ("796", False), 2, 2, 1)], 50, False))]
    steps += [("hours", 25), ("receipt", (D.OP_SELL, [(100, 1000, ("796", False), 1, 1, 0)], 0, False))]
    steps += [("z", 0), ("hours", 48), ("receipt", (D.OP_SELL, [(100, 1000, ("796", False), 1, 1, 0)], 0, False))]
    steps += [("ofd", True), ("replay", 0), ("withdraw", 1), ("reboot", 0), ("z", 0), ("x", 0)]
    _run(steps)
    assert C.REPORT_Z == 0
