# The OFD's X or Z report (ReportResponse.zx_report, KZ-31.4, KZ-31.5) in
# the shape of kkm.counters.ShiftCounters.zx_report, which
# kkm.layout.report_lines prints: proto2 decoding leaves out absent fields
# (zero) and operations without entries; here every operation is listed (4,
# placements 2) and every field the layout reads is there. differences()
# names the figures of the OFD's Z that are not the register's own. Loaded
# by ofd.port with the first report the OFD answers (the register's RAM is
# kept for documents).

from kkm import texts as T


def complete(zx, z=False):
    # zx: the decoded ZXReport (date_time, shift_number, cash_sum present);
    # z: a Z report (it has a close time), else an X (it has none)
    r = dict(zx)
    if z:
        r.setdefault("close_shift_time", r["date_time"])
    else:
        r.pop("close_shift_time", None)
    z = {"bills": 0, "coins": 0}
    r.setdefault("open_shift_time", r["date_time"])
    r.setdefault("revenue", {"sum": z, "is_negative": False})
    # a tax or section listed without operations has no "operations" key
    r["sections"] = [_with_ops(e) for e in r.get("sections") or ()]
    r["taxes"] = [_with_ops(e) for e in r.get("taxes") or ()]
    for k in ("operations", "discounts", "markups", "total_result"):
        r[k] = every_op(r.get(k), 4, {"count": 0, "sum": z})
    for k in ("start_shift_non_nullable_sums", "non_nullable_sums"):
        r[k] = every_op(r.get(k), 4, {"sum": z})
    r["money_placements"] = every_op(r.get("money_placements"), 2, {
        "operations_total_count": 0, "operations_count": 0, "operations_sum": z, "offline_count": 0})
    r["ticket_operations"] = every_op(r.get("ticket_operations"), 4, {
        "tickets_total_count": 0, "tickets_count": 0, "tickets_sum": z, "payments": [], "offline_count": 0,
        "discount_sum": z, "markup_sum": z, "change_sum": z})
    for t in r["ticket_operations"]:
        for p in t["payments"]:
            p.setdefault("count", 0)
    return r


def every_op(lst, n, blank):
    # entries for operations 0..n-1 in order, each with blank's fields where
    # its own are absent
    have = {}
    for e in lst or ():
        have[e.get("operation", 0)] = e
    out = []
    for op in range(n):
        e = dict(blank)
        e["operation"] = op
        e.update(have.get(op) or {})
        out.append(e)
    return out


def _t(m):
    return m["bills"] * 100 + m["coins"]


def _fmt(v):
    return "%d.%02d" % (v // 100, v % 100) if v >= 0 else "-%d.%02d" % (-v // 100, -v % 100)


def differences(ofd, own):
    # the shift figures where the OFD's Z (ofd) and the register's (own),
    # both complete, disagree: [(text code, operation or None, the OFD's
    # value, the register's)] as printed, empty when they agree
    out = []

    def cmp(code, op, a, b, money=True):
        if a != b:
            out.append((code, op, _fmt(a) if money else str(a), _fmt(b) if money else str(b)))

    for a, b in zip(ofd["ticket_operations"], own["ticket_operations"]):
        op = a["operation"]
        cmp(T.L_TICKETS, op, a["tickets_count"], b["tickets_count"], False)
        cmp(T.L_AMOUNT, op, _t(a["tickets_sum"]), _t(b["tickets_sum"]))
        cmp(T.L_OFFLINE_DOCS, op, a["offline_count"], b["offline_count"], False)
    for a, b in zip(ofd["money_placements"], own["money_placements"]):
        code = T.L_DEPOSIT if a["operation"] == 0 else T.L_WITHDRAWAL
        cmp(code, None, a["operations_count"], b["operations_count"], False)
        cmp(code, None, _t(a["operations_sum"]), _t(b["operations_sum"]))
    cmp(T.L_CASH_SUM, None, _t(ofd["cash_sum"]), _t(own["cash_sum"]))
    ra, rb = ofd["revenue"], own["revenue"]
    cmp(T.L_REVENUE, None, -_t(ra["sum"]) if ra["is_negative"] else _t(ra["sum"]),
        -_t(rb["sum"]) if rb["is_negative"] else _t(rb["sum"]))
    for a, b in zip(ofd["non_nullable_sums"], own["non_nullable_sums"]):
        cmp(T.L_NN, a["operation"], _t(a["sum"]), _t(b["sum"]))
    return out


def _with_ops(e):
    if "operations" in e:
        return e
    e = dict(e)
    e["operations"] = []
    return e
