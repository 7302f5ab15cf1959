"""Server-side X and Z reports, formed from the documents the OFD received.

Money is integer tiyn throughout. Counters follow PROTOCOL.md §8:
operations = commodity lines (count) and their sums before modifiers (as
discounts and markups count their items), sections likewise per section,
tax turnover = each line's sum after its own modifiers (the base of its
VAT), total_result = operations - discounts + markups, tickets_total_count
over all shifts up to this one, revenue = sells - sell returns - buys + buy
returns, non-nullable sums grow by every ticket total, cash follows the cash part of every ticket and every
deposit/withdrawal. The checksum is the hex SHA-256 of the report serialized
deterministically with an empty checksum field.
"""

import hashlib

from tools.ofdsim.pbutil import from_iso, set_dt, set_money, tiyn

OPS = (0, 1, 2, 3)  # BUY, BUY_RETURN, SELL, SELL_RETURN
CASH_IN = (1, 2)    # BUY_RETURN and SELL bring cash in; BUY and SELL_RETURN take it out

# Item types
COMMODITY, STORNO_COMMODITY, MARKUP, STORNO_MARKUP, DISCOUNT, STORNO_DISCOUNT = 1, 2, 3, 4, 5, 6


def ticket_figures(t):
    """Figures of one pb TicketRequest: dict of integer tiyn values.

    Counts follow the items: ``n_goods`` commodity lines (a storno line
    takes one back), ``n_disc``/``n_mark`` modifiers, ``sections`` lines and
    sums per section. A DISCOUNT or MARKUP item (and their stornos) right
    after a commodity modifies that line: the line's tax turnover is its sum
    after those modifiers, the amount its VAT was computed on (the register
    sends each line's modifiers that way, PROTOCOL.md section 7)."""
    goods = discounts = markups = 0
    n_goods = n_disc = n_mark = 0
    sections = {}
    taxes = {}

    def add_tax(tax, base, sign):
        key = (int(tax.tax_type), int(tax.percent))
        turn, s, wo = taxes.get(key, (0, 0, 0))
        ts = tiyn(tax.sum)
        taxes[key] = (turn + sign * base, s + sign * ts,
                      wo + sign * (base - ts if tax.is_in_total_sum else base))

    line = None  # [taxes, sum after modifiers, sign] of the last commodity line

    def close_line():
        if line is not None:
            for tax in line[0]:
                add_tax(tax, line[1], line[2])

    for it in t.items:
        ty = it.type
        if ty in (COMMODITY, STORNO_COMMODITY):
            close_line()
            c = it.commodity if ty == COMMODITY else it.storno_commodity
            sign = 1 if ty == COMMODITY else -1
            v = tiyn(c.sum)
            goods += sign * v
            n_goods += sign
            sec = sections.setdefault(c.section_code, [0, 0])
            sec[0] += sign
            sec[1] += sign * v
            line = [c.taxes, v, sign]
            continue
        if ty == DISCOUNT:
            v = tiyn(it.discount.sum)
            discounts += v
            n_disc += 1
        elif ty == STORNO_DISCOUNT:
            v = -tiyn(it.storno_discount.sum)
            discounts += v
            n_disc -= 1
        elif ty == MARKUP:
            v = -tiyn(it.markup.sum)
            markups -= v
            n_mark += 1
        elif ty == STORNO_MARKUP:
            v = tiyn(it.storno_markup.sum)
            markups -= v
            n_mark -= 1
        else:
            continue
        if line is not None:
            line[1] -= v  # a discount lowers the line's taxable sum, a markup raises it
    close_line()
    a = t.amounts
    if a.HasField("discount"):
        discounts += tiyn(a.discount.sum)
        n_disc += 1
    if a.HasField("markup"):
        markups += tiyn(a.markup.sum)
        n_mark += 1
    total = tiyn(a.total)
    for tax in t.taxes:
        add_tax(tax, total, 1)
    payments = {}
    for p in t.payments:
        s, n = payments.get(int(p.type), (0, 0))
        payments[int(p.type)] = (s + tiyn(p.sum), n + 1)
    paid = sum(s for s, _ in payments.values())
    change = tiyn(a.change) if a.HasField("change") else 0
    cash_paid = payments.get(0, (0, 0))[0]
    # The change is given back from the cash payment when payments exceed the total.
    cash_part = cash_paid - change if paid == total + change and change else cash_paid
    return {
        "goods": goods, "n_goods": n_goods, "discounts": discounts, "markups": markups, "n_disc": n_disc,
        "n_mark": n_mark,
        "sections": sections, "taxes": taxes, "total": total, "payments": payments, "paid": paid,
        "change": change, "cash_part": cash_part,
    }


def cash_effect(operation, cash_part):
    return cash_part if operation in CASH_IN else -cash_part


def _zero():
    return {op: [0, 0] for op in OPS}


def _m(parent, amount):
    set_money(parent, max(0, amount))


def build(pb, store, kkm_id, shift_number, report_dt, close_dt=None):
    """Build a pb ZXReport for this register's shift (X when close_dt is None).
    A shift without documents opens at the report's time."""
    Z = pb.ZXReport
    rep = Z()
    set_dt(rep.date_time, report_dt)
    rep.shift_number = shift_number

    ops, disc, mark, total = _zero(), _zero(), _zero(), _zero()
    sections, taxes = {}, {}
    tops = {op: {"count": 0, "sum": 0, "pay": {}, "offline": 0, "disc": 0, "mark": 0, "change": 0} for op in OPS}
    first_time = None
    req = pb.Request()
    for row in store.tickets(kkm_id, shift_number=shift_number):
        req.ParseFromString(row["request"])
        f = ticket_figures(req.ticket)
        op = row["operation"]
        first_time = row["date_time"] if first_time is None or row["date_time"] < first_time else first_time
        ops[op][0] += f["n_goods"]
        ops[op][1] += f["goods"]
        disc[op][0] += f["n_disc"]
        disc[op][1] += f["discounts"]
        mark[op][0] += f["n_mark"]
        mark[op][1] += f["markups"]
        total[op][0] += 1
        total[op][1] += f["total"]
        for code, (n, v) in f["sections"].items():
            sections.setdefault(code, _zero())[op][0] += n
            sections[code][op][1] += v
        for key, (turn, s, wo) in f["taxes"].items():
            d = taxes.setdefault(key, {o: [0, 0, 0] for o in OPS})[op]
            d[0] += turn
            d[1] += s
            d[2] += wo
        to = tops[op]
        to["count"] += 1
        to["sum"] += f["total"]
        for pt, (s, n) in f["payments"].items():
            ps, pn = to["pay"].get(pt, (0, 0))
            to["pay"][pt] = (ps + s, pn + n)
        to["offline"] += 1 if row["offline_number"] is not None else 0
        to["disc"] += f["discounts"]
        to["mark"] += f["markups"]
        to["change"] += f["change"]

    for code in sorted(sections):
        sec = rep.sections.add()
        sec.section_code = code
        for op in OPS:
            o = sec.operations.add()
            o.operation = op
            o.count = sections[code][op][0]
            _m(o.sum, sections[code][op][1])
    for field, src in ((rep.operations, ops), (rep.discounts, disc), (rep.markups, mark),
                       (rep.total_result, total)):
        for op in OPS:
            o = field.add()
            o.operation = op
            o.count = src[op][0]
            _m(o.sum, src[op][1])
    for (tax_type, percent) in sorted(taxes):
        tx = rep.taxes.add()
        tx.tax_type = tax_type
        tx.percent = percent
        for op in OPS:
            turn, s, wo = taxes[(tax_type, percent)][op]
            to = tx.operations.add()
            to.operation = op
            _m(to.turnover, turn)
            _m(to.sum, s)
            _m(to.turnover_without_tax, wo)

    db = store.db
    before = {op: 0 for op in OPS}
    for r in db.execute("SELECT operation, COALESCE(SUM(total), 0) FROM tickets WHERE kkm_id=? AND shift_number<?"
                        " GROUP BY operation", (kkm_id, shift_number)):
        before[r[0]] = r[1]
    all_counts = {op: 0 for op in OPS}
    for r in db.execute("SELECT operation, COUNT(*) FROM tickets WHERE kkm_id=? AND shift_number<=?"
                        " GROUP BY operation", (kkm_id, shift_number)):
        all_counts[r[0]] = r[1]
    for op in OPS:
        n = rep.start_shift_non_nullable_sums.add()
        n.operation = op
        _m(n.sum, before[op])
    for op in OPS:
        to = tops[op]
        t = rep.ticket_operations.add()
        t.operation = op
        t.tickets_total_count = all_counts[op]
        t.tickets_count = to["count"]
        _m(t.tickets_sum, to["sum"])
        for pt in sorted(to["pay"]):
            p = t.payments.add()
            p.payment = pt
            _m(p.sum, to["pay"][pt][0])
            p.count = to["pay"][pt][1]
        t.offline_count = to["offline"]
        _m(t.discount_sum, to["disc"])
        _m(t.markup_sum, to["mark"])
        _m(t.change_sum, to["change"])

    mp_all = {0: 0, 1: 0}
    for r in db.execute("SELECT operation, COUNT(*) FROM money_placements WHERE kkm_id=? AND shift_number<=?"
                        " GROUP BY operation", (kkm_id, shift_number)):
        mp_all[r[0]] = r[1]
    mp = {0: [0, 0, 0], 1: [0, 0, 0]}
    for r in store.money_placements(kkm_id, shift_number=shift_number):
        d = mp[r["operation"]]
        d[0] += 1
        d[1] += r["amount"]
        d[2] += r["offline"]
        first_time = r["date_time"] if first_time is None or r["date_time"] < first_time else first_time
    for op in (0, 1):
        m = rep.money_placements.add()
        m.operation = op
        m.operations_total_count = mp_all[op]
        m.operations_count = mp[op][0]
        _m(m.operations_sum, mp[op][1])
        m.offline_count = mp[op][2]

    cash = db.execute("SELECT COALESCE(SUM(cash), 0) FROM tickets WHERE kkm_id=? AND shift_number<=?",
                      (kkm_id, shift_number)).fetchone()[0]
    cash += db.execute("SELECT COALESCE(SUM(CASE operation WHEN 0 THEN amount ELSE -amount END), 0)"
                       " FROM money_placements WHERE kkm_id=? AND shift_number<=?",
                       (kkm_id, shift_number)).fetchone()[0]
    _m(rep.cash_sum, cash)
    revenue = total[2][1] - total[3][1] - total[0][1] + total[1][1]
    _m(rep.revenue.sum, abs(revenue))
    rep.revenue.is_negative = revenue < 0
    for op in OPS:
        n = rep.non_nullable_sums.add()
        n.operation = op
        _m(n.sum, before[op] + total[op][1])
    if first_time is not None:
        set_dt(rep.open_shift_time, from_iso(first_time))
    else:
        set_dt(rep.open_shift_time, report_dt)
    if close_dt is not None:
        set_dt(rep.close_shift_time, close_dt)
    rep.checksum = ""
    rep.checksum = hashlib.sha256(rep.SerializeToString(deterministic=True)).hexdigest()
    return rep


def build_empty(pb, report_dt):
    """Answer to a Z request before any Z exists: empty report, shift number 0."""
    rep = pb.ZXReport()
    set_dt(rep.date_time, report_dt)
    rep.shift_number = 0
    set_money(rep.cash_sum, 0)
    set_money(rep.revenue.sum, 0)
    rep.revenue.is_negative = False
    rep.checksum = ""
    rep.checksum = hashlib.sha256(rep.SerializeToString(deterministic=True)).hexdigest()
    return rep
