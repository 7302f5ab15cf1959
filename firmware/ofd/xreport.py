# The OFD's X report (ReportResponse.zx_report, KZ-31.4) in the shape of
# kkm.counters.ShiftCounters.zx_report, which kkm.layout.report_lines
# prints: proto2 decoding leaves out absent fields (zero) and operations
# without entries; here every operation is listed (4, placements 2) and
# every field the layout reads is there. Loaded by ofd.port.server_x with
# the first X the OFD answers (the register's RAM is kept for documents).


def complete(zx):
    # zx: the decoded ZXReport (date_time, shift_number, cash_sum present)
    r = dict(zx)
    r.pop("close_shift_time", None)  # an X has none
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


def _with_ops(e):
    if "operations" in e:
        return e
    e = dict(e)
    e["operations"] = []
    return e
