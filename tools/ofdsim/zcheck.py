"""Compare the register's own Z (CloseShiftRequest.z_report) with the Z the
simulated OFD forms from the documents it received (PROTOCOL.md section 8),
and the register's X (ReportRequest.zx_report of a REPORT X) with the
server's X of the open shift (``check_x``: the same walk without the fields
only a Z has).

Both reports are first turned into a normalised flat dict ``path -> value``:

- money as integer tiyn (bills * 100 + coins), the revenue as one signed
  value (sum, negative when ``is_negative``);
- repeated entries keyed by what identifies them (operation type, section
  code, tax type and percent, payment type), so their order never matters;
  an entry whose key repeats is summed and counted in ``<path>.duplicates``;
- proto2 rules for absence: a missing optional scalar, Money or a missing
  repeated entry reads as its default (zero), so "absent" and "zero" agree;
  only leaves with a non-default value are kept.

``compare(device, server)`` walks the union of both key sets and returns the
differences as ``[path, device value, server value]`` (an absent number
shows as 0, an absent time as None).

Not compared, on purpose:

- ``checksum``: the protocol leaves its algorithm open (the register uses a
  CRC-32 of a canonical text, this simulator a SHA-256 of the serialized
  report), so the two digests differ for identical counters;
- ``date_time``: the moment the report was made; the server has no reading of
  its own for a Z (it takes the request's close time), so it would only
  compare two fields of the register's request with each other. The close
  time itself is compared (``close_shift_time``), and so is the shift's
  opening (``open_shift_time``: the first document of the shift on both
  sides).
"""

from tools.ofdsim.pbutil import dt_tuple, iso, tiyn

OPERATION_NAMES = {0: "BUY", 1: "BUY_RETURN", 2: "SELL", 3: "SELL_RETURN"}
PLACEMENT_NAMES = {0: "DEPOSIT", 1: "WITHDRAWAL"}
PAYMENT_NAMES = {0: "CASH", 1: "CARD", 2: "CREDIT", 3: "TARE", 4: "MOBILE"}

MATCHES = "matches"
DIFFERS = "differs"
ABSENT = "absent"          # CLOSE_SHIFT without z_report: nothing to compare

MAX_STORED = 50            # differences kept with the shift (the count is kept in full)

# Normalised leaves only a Z has: an X is made while the shift is open
Z_ONLY = ("close_shift_time",)

# Normalised leaves (the last part of a path) that are money, in tiyn; the
# others are counts or times
MONEY_LEAVES = frozenset(("sum", "turnover", "turnover_without_tax", "tickets_sum", "discount_sum", "markup_sum",
                          "change_sum", "operations_sum", "cash_sum", "revenue"))


def _name(names, v):
    return names.get(int(v), str(int(v)))


def _money(msg, field):
    # proto2: an absent Money reads as zero
    return tiyn(getattr(msg, field)) if msg.HasField(field) else 0


def _opt(msg, field):
    # an optional scalar: its value (the default when absent)
    return int(getattr(msg, field))


class _Flat:
    def __init__(self):
        self.d = {}
        self.seen = {}

    def add(self, path, value):
        if value:
            self.d[path] = self.d.get(path, 0) + value

    def entry(self, path):
        # a keyed repeated entry: a second one with the same key is a duplicate
        n = self.seen.get(path, 0)
        self.seen[path] = n + 1
        if n:
            self.add(path + ".duplicates", 1)
        return path


def _operations(f, base, entries):
    for o in entries:
        p = f.entry("%s[%s]" % (base, _name(OPERATION_NAMES, o.operation)))
        f.add(p + ".count", int(o.count))
        f.add(p + ".sum", _money(o, "sum"))


def normalise(rep):
    """pb ZXReport -> {path: value} of its non-default leaves (see the module text)."""
    f = _Flat()
    f.add("shift_number", int(rep.shift_number))
    for s in rep.sections:
        _operations(f, f.entry("sections[%s]" % s.section_code) + ".operations", s.operations)
    _operations(f, "operations", rep.operations)
    _operations(f, "discounts", rep.discounts)
    _operations(f, "markups", rep.markups)
    _operations(f, "total_result", rep.total_result)
    for t in rep.taxes:
        tp = f.entry("taxes[%d/%d]" % (int(t.tax_type), int(t.percent)))
        for o in t.operations:
            p = f.entry("%s.operations[%s]" % (tp, _name(OPERATION_NAMES, o.operation)))
            f.add(p + ".turnover", _money(o, "turnover"))
            f.add(p + ".sum", _money(o, "sum"))
            f.add(p + ".turnover_without_tax", _money(o, "turnover_without_tax"))
    for field in ("start_shift_non_nullable_sums", "non_nullable_sums"):
        for n in getattr(rep, field):
            p = f.entry("%s[%s]" % (field, _name(OPERATION_NAMES, n.operation)))
            f.add(p + ".sum", _money(n, "sum"))
    for t in rep.ticket_operations:
        p = f.entry("ticket_operations[%s]" % _name(OPERATION_NAMES, t.operation))
        f.add(p + ".tickets_total_count", int(t.tickets_total_count))
        f.add(p + ".tickets_count", int(t.tickets_count))
        f.add(p + ".tickets_sum", _money(t, "tickets_sum"))
        for pay in t.payments:
            pp = f.entry("%s.payments[%s]" % (p, _name(PAYMENT_NAMES, pay.payment)))
            f.add(pp + ".sum", _money(pay, "sum"))
            f.add(pp + ".count", _opt(pay, "count"))
        f.add(p + ".offline_count", _opt(t, "offline_count"))
        f.add(p + ".discount_sum", _money(t, "discount_sum"))
        f.add(p + ".markup_sum", _money(t, "markup_sum"))
        f.add(p + ".change_sum", _money(t, "change_sum"))
    for m in rep.money_placements:
        p = f.entry("money_placements[%s]" % _name(PLACEMENT_NAMES, m.operation))
        f.add(p + ".operations_total_count", int(m.operations_total_count))
        f.add(p + ".operations_count", int(m.operations_count))
        f.add(p + ".operations_sum", _money(m, "operations_sum"))
        f.add(p + ".offline_count", _opt(m, "offline_count"))
    if rep.HasField("annulled_tickets"):
        # deprecated since 203 and always empty: anything in it is a difference
        a = rep.annulled_tickets
        f.add("annulled_tickets.annulled_tickets_total_count", int(a.annulled_tickets_total_count))
        f.add("annulled_tickets.annulled_tickets_count", int(a.annulled_tickets_count))
        _operations(f, "annulled_tickets.annulled_operations", a.annulled_operations)
    f.add("cash_sum", _money(rep, "cash_sum"))
    rev = _money(rep.revenue, "sum") if rep.HasField("revenue") else 0
    f.add("revenue", -rev if rep.revenue.is_negative else rev)
    for field in ("open_shift_time", "close_shift_time"):
        if rep.HasField(field):
            f.d[field] = iso(dt_tuple(getattr(rep, field)))
    return f.d


def compare(device, server, skip=()):
    """Differences of two pb ZXReports: sorted [[path, device value, server value]].
    An empty list means they match. skip: normalised paths left out."""
    d, s = normalise(device), normalise(server)
    for path in skip:
        d.pop(path, None)
        s.pop(path, None)
    out = []
    for path in sorted(set(d) | set(s)):
        dv, sv = d.get(path), s.get(path)
        if dv == sv:
            continue
        # numeric leaves: absent means zero (proto2); a missing time stays None
        if dv is None and not isinstance(sv, str):
            dv = 0
        if sv is None and not isinstance(dv, str):
            sv = 0
        out.append([path, dv, sv])
    return out


def check(device, server, fr_shift_number=None, skip=()):
    """The stored result of one Z: {"status", "count", "differences"}.
    device: the register's pb ZXReport or None (not sent); fr_shift_number:
    CloseShiftRequest.fr_shift_number when the register sent it; skip as
    for compare()."""
    if device is None:
        return {"status": ABSENT, "count": 0, "differences": []}
    diffs = compare(device, server, skip)
    if fr_shift_number is not None and int(fr_shift_number) != int(server.shift_number):
        diffs.append(["close_shift.fr_shift_number", int(fr_shift_number), int(server.shift_number)])
    return {"status": DIFFERS if diffs else MATCHES, "count": len(diffs), "differences": diffs[:MAX_STORED]}


def check_x(device, server):
    """The stored result of one X: check() without the fields only a Z has
    (Z_ONLY). device: the register's pb ZXReport or None (not sent)."""
    return check(device, server, skip=Z_ONLY)


def is_money(path):
    """True for a normalised path whose value is money in tiyn."""
    leaf = path.rsplit(".", 1)[-1]
    return leaf in MONEY_LEAVES


def tenge(v):
    """Integer tiyn -> '1 190.00' (a space between thousands, '-' before a negative sum)."""
    sign = "-" if v < 0 else ""
    whole, frac = divmod(abs(int(v)), 100)
    g = "{:,}".format(whole).replace(",", " ")
    return "%s%s.%02d" % (sign, g, frac)


def display(path, value):
    """A difference's value for people: money in tenge, counts as counts,
    times as they are, None (absent) as None."""
    if value is None or isinstance(value, str):
        return value
    return tenge(value) if is_money(path) else str(int(value))


def _one_line(text, limit=80):
    # a path holds the register's text (section codes): no line breaks or
    # other control characters in a log line, and no more than limit of it
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))
    return text if len(text) <= limit else text[:limit - 1] + "…"


def summary(result, limit=8):
    """One English line listing the first differences (log lines, 13 answers)."""
    parts = ["%s device=%s server=%s" % (_one_line(p), "absent" if dv is None else _one_line(dv),
                                         "absent" if sv is None else _one_line(sv))
             for p, dv, sv in result["differences"][:limit]]
    more = result["count"] - len(parts)
    if more > 0:
        parts.append("and %d more" % more)
    return "; ".join(parts)
