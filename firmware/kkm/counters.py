# Shift counters kept in the shape of the OFD protocol's ZXReport
# (PROTOCOL §8) so the OFD client can send them as they are, plus the
# cashier and section reports (KZ-31.2, KZ-31.3), a checkpoint encoding and
# a compact Z summary for the accumulator's Z area.
#
# Counter rules (one entry per operation type 0..3 = buy, buy return, sell,
# sell return):
#   operations[op]   count = receipt lines, sum = lines before modifiers
#   discounts[op]    count = lines with a discount, sum = discounts
#   markups[op]      count = lines with a markup, sum = markups
#   total_result[op] count = receipts, sum = receipt totals
#                    (= operations - discounts + markups)
#   taxes            per effective VAT rate (> 0) and op: turnover, VAT,
#                    turnover without VAT
#   ticket_operations[op] tickets_total_count (never reset), tickets_count,
#                    tickets_sum, payments per type {sum, count},
#                    offline_count, discount_sum, markup_sum, change_sum
#   money_placements[kind] operations_total_count (never reset),
#                    operations_count, operations_sum, offline_count
#   cash             drawer cash: + cash of sell and buy return, - cash of
#                    buy and sell return, + deposits, - withdrawals; it is
#                    carried into the next shift (cash_start)
#   revenue          sells - sell returns - buys + buy returns (signed)
#   non_nullable[op] never-reset sum of receipt totals; the shift starts
#                    from the previous shift's end values

from compat import const, civil_from_unix, crc32, crc32_text
from kkm import document as D
from kkm.compact import Writer, Reader
from kkm.money import split

REPORT_Z = const(0)
REPORT_X = const(1)
TAX_TYPE_VAT = const(100)
_VERSION = const(1)
_MAX_KEYS = const(1000)


_ZERO = {"bills": 0, "coins": 0}  # shared, read only: most of a shift's report is zero


def _money(tiyn):
    if tiyn <= 0:
        return _ZERO
    b, c = split(tiyn)
    return {"bills": b, "coins": c}


_ZERO_OPS = tuple({"operation": op, "count": 0, "sum": _ZERO} for op in range(4))  # shared as _ZERO


def _op_entry(op, count, tiyn):
    if not count and tiyn <= 0:
        return _ZERO_OPS[op]
    return {"operation": op, "count": count, "sum": _money(tiyn)}


def date_time(ts):
    # local wall-clock seconds -> protocol DateTime dict
    y, mo, d, hh, mi, ss = civil_from_unix(ts)
    return {"date": {"year": y, "month": mo, "day": d}, "time": {"hour": hh, "minute": mi, "second": ss}}


def cash_delta(doc):
    # effect of a receipt or placement on the drawer cash (tiyn, signed)
    if isinstance(doc, D.Placement):
        return doc.amount if doc.kind == D.DEPOSIT else -doc.amount
    c = doc.cash_part()
    if doc.op == D.OP_SELL or doc.op == D.OP_BUY_RETURN:
        return c
    return -c


def revenue_delta(receipt):
    t = receipt.total()
    if receipt.op == D.OP_SELL or receipt.op == D.OP_BUY_RETURN:
        return t
    return -t


def _pairs(n):
    out = []
    for _ in range(n):
        out.append([0, 0])
    return out


class ShiftCounters:
    def __init__(self):
        self.ops = _pairs(4)
        self.disc = _pairs(4)
        self.mark = _pairs(4)
        self.tot = _pairs(4)
        self.taxes = {}  # percent_milli -> [[turnover, vat] x 4]
        self.groups = {}  # tax group code -> [[turnover, vat] x 4]
        self.tk_all = [0, 0, 0, 0]  # tickets_total_count (never reset)
        self.tk_off = [0, 0, 0, 0]
        self.tk_change = [0, 0, 0, 0]
        self.pays = [{}, {}, {}, {}]  # per op: payment kind -> [sum, count]
        self.mp = _pairs(2)  # [count, sum] this shift
        self.mp_all = [0, 0]  # never reset
        self.mp_off = [0, 0]
        self.cash_start = 0
        self.cash = 0
        self.revenue = 0
        self.nn_start = [0, 0, 0, 0]
        self.nn = [0, 0, 0, 0]
        self.sections = {}  # section -> [[count, sum] x 4]
        self.cashiers = {}  # cashier -> [[count, sum] x 4 ops, then x 2 placements]

    # --- counting -------------------------------------------------------

    def add_receipt(self, receipt, offline, table=None):
        # count a fiscalised receipt at the rates stamped in it (table: only
        # for a receipt without stamped rates, an old journal record: the
        # table in force on its date); never raises on a validated receipt
        op = receipt.op
        total = 0
        for ln in receipt.lines:
            g = ln.gross()
            t = ln.total()
            total += t
            self.ops[op][0] += 1
            self.ops[op][1] += g
            if ln.discount:
                self.disc[op][0] += 1
                self.disc[op][1] += ln.discount
            if ln.markup:
                self.mark[op][0] += 1
                self.mark[op][1] += ln.markup
            s = self.sections.get(ln.section)
            if s is None:
                s = self.sections[ln.section] = _pairs(4)
            s[op][0] += 1
            s[op][1] += g
        for code, rate, turnover, vat in receipt.taxes(table):
            gr = self.groups.get(code)
            if gr is None:
                gr = self.groups[code] = _pairs(4)
            gr[op][0] += turnover
            gr[op][1] += vat
            if rate > 0:
                tx = self.taxes.get(rate)
                if tx is None:
                    tx = self.taxes[rate] = _pairs(4)
                tx[op][0] += turnover
                tx[op][1] += vat
        self.tot[op][0] += 1
        self.tot[op][1] += total
        self.tk_all[op] += 1
        if offline:
            self.tk_off[op] += 1
        self.tk_change[op] += receipt.change()
        pays = self.pays[op]
        for p in receipt.payments:
            a = pays.get(p.kind)
            if a is None:
                a = pays[p.kind] = [0, 0]
            a[0] += p.amount
            a[1] += 1
        self.cash += cash_delta(receipt)
        self.revenue += revenue_delta(receipt)
        self.nn[op] += total
        c = self._cashier(receipt.cashier_code)
        c[op][0] += 1
        c[op][1] += total

    def add_placement(self, p, offline):
        k = p.kind
        self.mp[k][0] += 1
        self.mp[k][1] += p.amount
        self.mp_all[k] += 1
        if offline:
            self.mp_off[k] += 1
        self.cash += cash_delta(p)
        c = self._cashier(p.cashier_code)
        c[4 + k][0] += 1
        c[4 + k][1] += p.amount

    def _cashier(self, code):
        c = self.cashiers.get(code)
        if c is None:
            c = self.cashiers[code] = _pairs(6)
        return c

    # --- simple views ---------------------------------------------------

    def tickets_count(self, op=None):
        if op is None:
            return self.tot[0][0] + self.tot[1][0] + self.tot[2][0] + self.tot[3][0]
        return self.tot[op][0]

    def tickets_sum(self, op):
        return self.tot[op][1]

    def documents(self):
        # payment documents and placements of this shift
        return self.tickets_count() + self.mp[0][0] + self.mp[1][0]

    def offline_count(self):
        return sum(self.tk_off) + self.mp_off[0] + self.mp_off[1]

    def placements(self, kind):
        # (count, sum) of deposits or withdrawals this shift
        return (self.mp[kind][0], self.mp[kind][1])

    def by_cashier(self):
        # KZ-31.2: sorted list of (cashier, [(count, sum) per op 0..3],
        # [(count, sum) deposit, withdrawal])
        out = []
        for code in sorted(self.cashiers):
            c = self.cashiers[code]
            out.append((code, [(c[i][0], c[i][1]) for i in range(4)], [(c[4][0], c[4][1]), (c[5][0], c[5][1])]))
        return out

    def by_section(self):
        # KZ-31.3: sorted list of (section, [(count, sum) per op 0..3]);
        # sums are line sums before discounts and markups (as the protocol)
        out = []
        for sec in sorted(self.sections):
            s = self.sections[sec]
            out.append((sec, [(s[i][0], s[i][1]) for i in range(4)]))
        return out

    def by_tax_group(self):
        # sorted list of (tax group code, [(turnover, vat) per op 0..3])
        out = []
        for code in sorted(self.groups):
            g = self.groups[code]
            out.append((code, [(g[i][0], g[i][1]) for i in range(4)]))
        return out

    # --- protocol report ------------------------------------------------

    def zx_report(self, kind, shift_no, now_ts, open_ts, close_ts=None):
        # dict in the ZXReport shape; ts values are local wall-clock seconds.
        # kind REPORT_Z sets close_shift_time (close_ts, default now_ts).
        r = {"date_time": date_time(now_ts), "shift_number": shift_no}
        secs = []
        for sec in sorted(self.sections):
            s = self.sections[sec]
            ops = []
            for op in range(4):
                if s[op][0]:
                    ops.append({"operation": op, "count": s[op][0], "sum": _money(s[op][1])})
            secs.append({"section_code": str(sec), "operations": ops})
        r["sections"] = secs
        r["operations"] = self._oplist(self.ops)
        r["discounts"] = self._oplist(self.disc)
        r["markups"] = self._oplist(self.mark)
        r["total_result"] = self._oplist(self.tot)
        taxes = []
        for rate in sorted(self.taxes):
            tx = self.taxes[rate]
            ops = []
            for op in range(4):
                ops.append({"operation": op, "turnover": _money(tx[op][0]), "sum": _money(tx[op][1]),
                            "turnover_without_tax": _money(tx[op][0] - tx[op][1])})
            taxes.append({"tax_type": TAX_TYPE_VAT, "percent": rate, "operations": ops})
        r["taxes"] = taxes
        r["start_shift_non_nullable_sums"] = [{"operation": op, "sum": _money(self.nn_start[op])} for op in range(4)]
        tks = []
        for op in range(4):
            pays = []
            for k in sorted(self.pays[op]):
                a = self.pays[op][k]
                pays.append({"payment": k, "sum": _money(a[0]), "count": a[1]})
            tks.append({"operation": op, "tickets_total_count": self.tk_all[op], "tickets_count": self.tot[op][0],
                        "tickets_sum": _money(self.tot[op][1]), "payments": pays, "offline_count": self.tk_off[op],
                        "discount_sum": _money(self.disc[op][1]), "markup_sum": _money(self.mark[op][1]),
                        "change_sum": _money(self.tk_change[op])})
        r["ticket_operations"] = tks
        r["money_placements"] = [{"operation": k, "operations_total_count": self.mp_all[k],
                                  "operations_count": self.mp[k][0], "operations_sum": _money(self.mp[k][1]),
                                  "offline_count": self.mp_off[k]} for k in range(2)]
        r["cash_sum"] = _money(self.cash)
        r["revenue"] = {"sum": _money(abs(self.revenue)), "is_negative": self.revenue < 0}
        r["non_nullable_sums"] = [{"operation": op, "sum": _money(self.nn[op])} for op in range(4)]
        r["open_shift_time"] = date_time(open_ts)
        if kind == REPORT_Z:
            r["close_shift_time"] = date_time(now_ts if close_ts is None else close_ts)
        r["checksum"] = report_checksum(r)
        return r

    def _oplist(self, pairs):
        return [_op_entry(op, pairs[op][0], pairs[op][1]) for op in range(4)]

    # --- persistence ----------------------------------------------------

    def encode(self):
        # every counter, for checkpoints (decode(encode()) == self)
        w = Writer()
        w.uint(_VERSION)
        for tbl in (self.ops, self.disc, self.mark, self.tot, self.mp):
            for a in tbl:
                w.uint(a[0])
                w.uint(a[1])
        for lst in (self.tk_all, self.tk_off, self.tk_change, self.mp_all, self.mp_off, self.nn_start, self.nn):
            for v in lst:
                w.uint(v)
        _zig(w, self.cash_start)
        _zig(w, self.cash)
        _zig(w, self.revenue)
        for op in range(4):
            _dict_pairs(w, self.pays[op], 1)
        _dict_pairs(w, self.taxes, 4)
        _dict_pairs(w, self.groups, 4)
        _dict_pairs(w, self.sections, 4)
        _dict_pairs(w, self.cashiers, 6)
        return w.done()

    @staticmethod
    def decode(b):
        # ValueError on damaged bytes
        try:
            r = Reader(b)
            if r.uint() != _VERSION:
                raise ValueError
            c = ShiftCounters()
            for tbl in (c.ops, c.disc, c.mark, c.tot, c.mp):
                for a in tbl:
                    a[0] = r.uint()
                    a[1] = r.uint()
            for lst in (c.tk_all, c.tk_off, c.tk_change, c.mp_all, c.mp_off, c.nn_start, c.nn):
                for i in range(len(lst)):
                    lst[i] = r.uint()
            c.cash_start = _unzig(r)
            c.cash = _unzig(r)
            c.revenue = _unzig(r)
            for op in range(4):
                c.pays[op] = _read_dict_pairs(r, 1)
            c.taxes = _read_dict_pairs(r, 4)
            c.groups = _read_dict_pairs(r, 4)
            c.sections = _read_dict_pairs(r, 4)
            c.cashiers = _read_dict_pairs(r, 6)
            r.end()
        except (IndexError, UnicodeError):
            raise ValueError("counters")
        return c

    def z_summary(self, shift_no, close_ts):
        # compact Z record (<= 256 bytes): shift number, close time, per op
        # tickets count/sum and never-reset sums, placements, cash, revenue,
        # offline count and the CRC-32 of the full counters
        w = Writer()
        w.uint(_VERSION)
        w.uint(shift_no)
        w.uint(close_ts)
        for op in range(4):
            w.uint(self.tot[op][0])
            w.uint(self.tot[op][1])
            w.uint(self.nn[op])
        for k in range(2):
            w.uint(self.mp[k][0])
            w.uint(self.mp[k][1])
        _zig(w, self.cash)
        _zig(w, self.revenue)
        w.uint(self.offline_count())
        w.uint(crc32(self.encode()))
        b = w.done()
        if len(b) > 256:
            raise ValueError("summary")
        return b

    def next_shift(self):
        # a new shift: never-reset totals, ticket/placement total counts and
        # the drawer cash carry forward; everything else starts at zero
        n = ShiftCounters()
        n.nn_start = list(self.nn)
        n.nn = list(self.nn)
        n.tk_all = list(self.tk_all)
        n.mp_all = list(self.mp_all)
        n.cash_start = self.cash
        n.cash = self.cash
        return n

    def __eq__(self, other):
        return isinstance(other, ShiftCounters) and self.encode() == other.encode()


def decode_z_summary(b):
    # inverse of z_summary(): dict with shift_no, close_ts, tickets
    # [(count, sum, non_nullable) x 4], placements [(count, sum) x 2], cash,
    # revenue, offline, crc
    r = Reader(b)
    if r.uint() != _VERSION:
        raise ValueError("summary")
    out = {"shift_no": r.uint(), "close_ts": r.uint()}
    out["tickets"] = [(r.uint(), r.uint(), r.uint()) for _ in range(4)]
    out["placements"] = [(r.uint(), r.uint()) for _ in range(2)]
    out["cash"] = _unzig(r)
    out["revenue"] = _unzig(r)
    out["offline"] = r.uint()
    out["crc"] = r.uint()
    r.end()
    return out


def _zig(w, v):
    w.uint(v * 2 if v >= 0 else -v * 2 - 1)


def _unzig(r):
    v = r.uint()
    return v // 2 if v % 2 == 0 else -(v + 1) // 2


def _dict_pairs(w, d, n):
    # int key -> n pairs [a, b] (n == 1: the value is the pair itself)
    keys = sorted(d)
    w.uint(len(keys))
    for k in keys:
        w.uint(k)
        v = d[k]
        if n == 1:
            v = [v]
        for a in v:
            w.uint(a[0])
            w.uint(a[1])


def _read_dict_pairs(r, n):
    d = {}
    for _ in range(r.count(_MAX_KEYS)):
        k = r.uint()
        v = []
        for _ in range(n):
            v.append([r.uint(), r.uint()])
        d[k] = v[0] if n == 1 else v
    return d


# Report checksum (ZXReport field 18; the protocol leaves the algorithm
# open): CRC-32 of a canonical text of the report without "checksum", as 8
# lower-case hex digits. Canonical text: dict -> "{" key ":" value ";" ...
# "}" with keys sorted; list -> "[" items "," ... "]"; int -> decimal;
# bool -> "1"/"0"; str -> the string itself.


_DIGITS = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")


class _Crc:
    # CRC-32 fed piece by piece: the canonical text is never built whole,
    # and no piece is copied (crc32_text reads a str as it is; an int goes
    # digit by digit instead of through str())
    def __init__(self):
        self.v = 0

    def add(self, s):
        self.v = crc32_text(s, self.v)

    def num(self, n):
        if n < 0:
            self.add("-")
            n = -n
        p = 1
        while p * 10 <= n:
            p *= 10
        while p:
            d = n // p
            self.add(_DIGITS[d])
            n -= d * p
            p //= 10


def _canon(v, out):
    if isinstance(v, dict):
        # keys in sorted order without a sorted copy: each round takes the
        # smallest key above the previous one (a report's dicts are small)
        out.add("{")
        prev = None
        for _ in range(len(v)):
            k = None
            for c in v:
                if (prev is None or c > prev) and (k is None or c < k):
                    k = c
            prev = k
            if k == "checksum":
                continue
            out.add(k)
            out.add(":")
            _canon(v[k], out)
            out.add(";")
        out.add("}")
    elif isinstance(v, list):
        out.add("[")
        for x in v:
            _canon(x, out)
            out.add(",")
        out.add("]")
    elif isinstance(v, bool):
        out.add("1" if v else "0")
    elif isinstance(v, int):
        out.num(v)
    elif isinstance(v, str):
        out.add(v)
    else:
        out.add(str(v))


def report_checksum(report):
    out = _Crc()
    _canon(report, out)
    return "%08x" % out.v
