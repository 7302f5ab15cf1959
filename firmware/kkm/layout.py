# Receipt and report layout: an ordered list of (style, text) lines that the
# printer driver renders. No line is longer than the paper width in
# characters (48 for 80 mm paper with font A, 32 for 58 mm); padding counts
# characters (compat.pad), never UTF-8 bytes.
#
# Timestamps given here are local wall-clock seconds (UTC + the configured
# offset, added by the register before layout).

from compat import const, civil_from_unix, pad
from kkm import document as D
from kkm import money
from kkm import texts as T

# style bits, combined with |
NORMAL = const(0)
BOLD = const(1)
DOUBLE = const(2)  # double height; the text still fits the width
CENTRE = const(4)
QR = const(8)  # the text is the QR payload, printed as a QR code

WIDE = const(48)  # 80 mm paper, font A
NARROW = const(32)  # 58 mm paper
BOTH = "kk+ru"  # the receipt language setting for Kazakh and Russian together

_TITLES = {D.OP_SELL: T.L_SELL, D.OP_SELL_RETURN: T.L_SELL_RETURN, D.OP_BUY: T.L_BUY,
           D.OP_BUY_RETURN: T.L_BUY_RETURN}
_PAY_LABELS = {D.PAY_CASH: T.L_CASH, D.PAY_CARD: T.L_CARD, D.PAY_MOBILE: T.L_MOBILE}


def date_text(ts):
    # "29.06.2028 17:09:16"
    y, mo, d, hh, mi, ss = civil_from_unix(ts)
    return "%02d.%02d.%04d %02d:%02d:%02d" % (d, mo, y, hh, mi, ss)


def qr_payload(check_url, fiscal_sign, rnm, total, ts):
    # KZ-34, KZ-35: "<protocol>://<url>?i=<fiscal sign>&f=<RNM>&s=<tenge.tiyn>
    # &t=<YYYYMMDD>T<HHMMSS>"; a check_url without a protocol gets "http://"
    url = check_url
    if "://" not in url:
        url = "http://" + url
    y, mo, d, hh, mi, ss = civil_from_unix(ts)
    return "%s?i=%s&f=%s&s=%s&t=%04d%02d%02dT%02d%02d%02d" % (
        url, fiscal_sign, rnm, money.dotted(total), y, mo, d, hh, mi, ss)


def wrap(s, width):
    # split text into lines of at most width characters, at spaces if possible
    out = []
    for para in s.split("\n"):
        while len(para) > width:
            cut = para.rfind(" ", 0, width + 1)
            if cut <= 0:
                out.append(para[:width])
                para = para[width:]
            else:
                out.append(para[:cut])
                para = para[cut + 1:]
        out.append(para)
    return out


class _Out:
    # every line is built by one formatting of its pieces: no intermediate
    # strings per line (a report or a receipt has a hundred lines or more)
    def __init__(self, width, lang):
        self.w = width
        self.lang = lang
        self.lines = []
        self._rule = None  # (ch, the rule line) of the last rule()

    def t(self, code):
        if self.lang != BOTH:
            return T.text(code, self.lang)
        kk = T.text(code, "kk")
        ru = T.text(code, "ru")
        # once where the Russian text already carries the Kazakh one (the
        # fiscal mark, "Автономды") or is the same
        return ru if ru.startswith(kk) else "%s / %s" % (kk, ru)

    def text(self, s, style=NORMAL):
        if len(s) <= self.w and "\n" not in s:
            self._line(style, s)  # one line: nothing to wrap
            return
        for part in wrap(s, self.w):
            self._line(style, part)

    def _line(self, style, part):
        if style & CENTRE:
            # centred: the left half of the gap; the right half would be
            # stripped with the line's trailing spaces
            gap = (self.w - len(part)) // 2
            if gap > 0:
                part = "%s%s" % (" " * gap, part)
            part = part.rstrip()
        self.lines.append((style, part))

    def lv(self, label, value, style=NORMAL, colon=True):
        # "label:       value" on one line, or the label and then the value
        # right-aligned when they do not fit together
        n = len(label) + 1 if colon else len(label)
        if n + 1 + len(value) <= self.w:
            self.lines.append((style, "%s%s%s%s" % (label, ":" if colon else "", " " * (self.w - n - len(value)),
                                                    value)))
            return
        self.text(label + ":" if colon else label, style)
        for part in wrap(value, self.w):
            self.lines.append((style, pad(part, self.w, ">")))

    def copy_mark(self, copy):
        if copy:
            self.text(self.t(T.L_COPY), CENTRE | BOLD)

    def rule(self, ch="-"):
        r = self._rule
        if r is None or r[0] != ch:
            r = self._rule = (ch, ch * self.w)
        self.lines.append((NORMAL, r[1]))


def receipt_lines(receipt, info, lang, width=WIDE):
    # info: taxpayer, bin, address, factory_no, rnm, vat_payer, number,
    # shift_no, ts (local seconds), fiscal_sign (None before fiscalisation),
    # offline, ofd_name, check_url; optional: table (kkm.tax.TaxTable, for
    # a receipt without stamped rates: a draft or an old journal record; a
    # stamped receipt prints its own rates and VAT status), cashier_name,
    # dual_totals (exchange/scrap/glass/pawnshop, R-56), copy (a second
    # paper of a printed document: marked as a copy first)
    o = _Out(width, lang)
    o.copy_mark(info.get("copy"))
    sign = info.get("fiscal_sign")
    offline = bool(info.get("offline"))
    table = info.get("table")
    if receipt.stamped():
        vat_payer = receipt.vat_payer
    else:
        vat_payer = info.get("vat_payer", table.vat_payer)
    # header: R-56(1)...(5)
    o.text(info["taxpayer"], CENTRE | BOLD)
    o.text(info["address"], CENTRE)
    o.lv(o.t(T.L_BIN), info["bin"])
    o.lv(o.t(T.L_FACTORY), str(info["factory_no"]))
    o.lv(o.t(T.L_RNM), str(info["rnm"]))
    if not vat_payer:
        o.text(o.t(T.L_NON_VAT_PAYER))
    o.rule()
    # fiscal mark only once a fiscal sign exists (KZ-39); offline mark (KZ-29.5)
    if sign:
        o.text(o.t(T.L_FISCAL), CENTRE | BOLD)
        if offline:
            o.text(o.t(T.L_OFFLINE), CENTRE | BOLD)
    else:
        o.text(o.t(T.L_NOT_FISCAL), CENTRE | BOLD)
    o.text(o.t(_TITLES[receipt.op]), CENTRE | BOLD)
    # R-56(6), R-56(13)
    o.lv(o.t(T.L_RECEIPT_NO), str(info["number"]))
    if info.get("shift_no") is not None:
        o.lv(o.t(T.L_SHIFT), str(info["shift_no"]))
    cashier = str(receipt.cashier_code)
    if info.get("cashier_name"):
        cashier = "%s %s" % (cashier, info["cashier_name"])
    o.lv(o.t(T.L_CASHIER), cashier)
    o.lv(o.t(T.L_DATETIME), date_text(info["ts"]))
    o.rule()
    # lines: R-56(7)...(11)
    for i in range(len(receipt.lines)):
        ln = receipt.lines[i]
        # R-56(7), S001-3: a catalogue line's names in Kazakh and Russian,
        # the receipt's language first (Kazakh on a bilingual one)
        kk = ln.name_kk
        o.text("%d. %s" % (i + 1, kk if kk and lang != "ru" else ln.name))
        if kk and kk != ln.name:
            o.text("   %s" % (ln.name if lang != "ru" else kk))
        if ln.gtin:
            o.lv(o.t(T.L_GTIN), ln.gtin)
        if ln.ntin:
            o.lv(o.t(T.L_NTIN), ln.ntin)
        for m in ln.marks:
            o.lv(o.t(T.L_MARK), _printable(m))
        qty = "%s %s x %s" % (money.qty_text(ln.qty_milli, D.is_measured(ln.unit_code)),
                              _unit(ln.unit_code, lang), money.fmt(ln.price))
        o.lv(qty, money.fmt(ln.gross()), NORMAL, False)
        if ln.discount:
            o.lv(o.t(T.L_DISCOUNT), "-" + money.fmt(ln.discount))
        if ln.markup:
            o.lv(o.t(T.L_MARKUP), "+" + money.fmt(ln.markup))
        if ln.discount or ln.markup:
            o.lv(o.t(T.L_AMOUNT), money.fmt(ln.total()))
    o.rule()
    total = receipt.total()
    o.lv(o.t(T.L_TOTAL), money.fmt(total), BOLD | DOUBLE)
    if info.get("dual_totals"):
        # R-56 special: both the sale and the purchase amounts
        sale = total if receipt.op in (D.OP_SELL, D.OP_BUY_RETURN) else 0
        buy = total if receipt.op in (D.OP_BUY, D.OP_SELL_RETURN) else 0
        o.lv(o.t(T.L_SALE_SUM), money.fmt(sale))
        o.lv(o.t(T.L_BUY_SUM), money.fmt(buy))
    # payments (KZ-24¶3)
    for kind in (D.PAY_CASH, D.PAY_CARD, D.PAY_MOBILE):
        p = receipt.payment(kind)
        if p is None:
            continue
        o.lv(o.t(_PAY_LABELS[kind]), money.fmt(p.amount))
        if kind == D.PAY_CASH and p.tendered is not None:
            o.lv(o.t(T.L_TENDERED), money.fmt(p.tendered))
            o.lv(o.t(T.L_CHANGE), money.fmt(p.change()))
        if p.terminal:
            o.lv(o.t(T.L_TERMINAL), p.terminal)
        if p.auth_code:
            o.lv(o.t(T.L_AUTH), p.auth_code)
        if p.rrn:
            o.lv(o.t(T.L_RRN), p.rrn)
        if p.qr_id:
            o.lv(o.t(T.L_QR_ID), p.qr_id)
    # VAT: R-56(15), only for a VAT payer
    if vat_payer:
        for code, rate, turnover, vat in receipt.taxes(table):
            if rate > 0:
                o.lv("%s %s%%" % (o.t(T.L_VAT_INCL), money.percent_text(rate)), money.fmt(vat))
            else:
                o.lv(o.t(T.L_NO_VAT), money.fmt(turnover))
    # return: the original receipt (KZ-15)
    pa = receipt.parent
    if pa is not None:
        o.rule()
        o.lv(o.t(T.L_PARENT), pa.number)
        o.lv(o.t(T.L_DATETIME), date_text(pa.ts + info.get("utc_offset", 18000)))
        o.lv(o.t(T.L_AMOUNT), money.fmt(pa.total))
        o.lv(o.t(T.L_RNM), pa.kkm_rnm)
        if pa.offline:
            o.text(o.t(T.L_PARENT_OFFLINE))
    # buyer: R-57, KZ-24¶2
    if receipt.buyer_iin or receipt.buyer_email or receipt.buyer_phone:
        o.rule()
    if receipt.buyer_iin:
        o.lv(o.t(T.L_BUYER_BIN), receipt.buyer_iin)
    if receipt.buyer_email:
        o.lv(o.t(T.L_EMAIL), receipt.buyer_email)
    if receipt.buyer_phone:
        o.lv(o.t(T.L_PHONE), receipt.buyer_phone)
    o.rule()
    # R-56(14), KZ-29.4: the fiscal sign (autonomous when offline)
    if sign:
        o.lv(o.t(T.L_OFFLINE_SIGN if offline else T.L_FISCAL_SIGN), str(sign), BOLD)
    # R-56(12): OFD and check site
    if info.get("ofd_name"):
        o.lv(o.t(T.L_OFD), info["ofd_name"])
    if info.get("check_url"):
        o.lv(o.t(T.L_CHECK_SITE), info["check_url"])
    # R-56(16), KZ-33..35
    if sign and info.get("check_url"):
        o.lines.append((QR | CENTRE, qr_payload(info["check_url"], sign, info["rnm"], total, info["ts"])))
    if sign:
        o.text(o.t(T.L_FISCAL), CENTRE | BOLD)
    return o.lines


def _unit(code, lang):
    if lang != BOTH:
        return D.unit_name(code, lang)
    kk = D.unit_name(code, "kk")
    ru = D.unit_name(code, "ru")
    return kk if kk == ru else "%s/%s" % (kk, ru)


def _printable(m):
    # marking codes carry GS (0x1D) separators: print them as spaces
    return m.replace("\x1d", " ")


def printable(s):
    # text that came from outside (the OFD's texts, catalogue titles) with
    # every control character but a line break as a space: ESC or GS would
    # be printer commands; no copy in the usual case
    for ch in s:
        if not _plain(ch):
            return "".join([c if _plain(c) else " " for c in s])
    return s


def _plain(c):
    return c == "\n" or (c >= " " and c != "\x7f")


def placement_lines(placement, info, lang, width=WIDE):
    # KZ-27 money placement slip (header, kind, amount, cash, fiscal sign)
    o = _Out(width, lang)
    o.copy_mark(info.get("copy"))
    o.text(info["taxpayer"], CENTRE | BOLD)
    o.text(info["address"], CENTRE)
    o.lv(o.t(T.L_BIN), info["bin"])
    o.lv(o.t(T.L_FACTORY), str(info["factory_no"]))
    o.lv(o.t(T.L_RNM), str(info["rnm"]))
    o.rule()
    if info.get("offline"):
        o.text(o.t(T.L_OFFLINE), CENTRE | BOLD)
    o.text(o.t(T.L_DEPOSIT if placement.kind == D.DEPOSIT else T.L_WITHDRAWAL), CENTRE | BOLD)
    o.lv(o.t(T.L_RECEIPT_NO), str(info["number"]))
    if info.get("shift_no") is not None:
        o.lv(o.t(T.L_SHIFT), str(info["shift_no"]))
    o.lv(o.t(T.L_CASHIER), str(placement.cashier_code))
    o.lv(o.t(T.L_DATETIME), date_text(info["ts"]))
    o.lv(o.t(T.L_AMOUNT), money.fmt(placement.amount), BOLD | DOUBLE)
    if info.get("cash") is not None:
        o.lv(o.t(T.L_CASH_SUM), money.fmt(info["cash"]))
    return o.lines


def ofd_text_lines(texts, info, lang, width=WIDE):
    # KZ-17: texts received from the OFD as a non-fiscal slip of their own
    # (the fiscal receipt keeps exactly its R-56 details). texts: [(is_info,
    # text)] (ofd.texts): is_info for an information message (e.g. of the
    # state revenue bodies), else a text of the OFD's; info: rnm,
    # factory_no, ts (local seconds). Wrapped by characters, not bytes.
    o = _Out(width, lang)
    o.text(o.t(T.L_NOT_FISCAL), CENTRE | BOLD)
    o.lv(o.t(T.L_FACTORY), str(info["factory_no"]))
    o.lv(o.t(T.L_RNM), str(info["rnm"]))
    o.lv(o.t(T.L_DATETIME), date_text(info["ts"]))
    for is_info, text in texts:
        o.rule()
        o.text(o.t(T.L_OFD_INFO if is_info else T.L_OFD_TEXT), CENTRE | BOLD)
        o.text(text)
    o.rule()
    return o.lines


def aside_lines(info, lang, width=WIDE):
    # PROTOCOL.md section 13: the non-fiscal slip of a document the OFD
    # refused and the service engineer set aside (kkm.register.set_aside).
    # info: factory_no, rnm, ts (local seconds, now), shift_no, number, seq
    # (journal), sign (its autonomous fiscal sign; None for a Z), code (the
    # OFD's result code), text (the OFD's result text or None)
    o = _Out(width, lang)
    o.text(o.t(T.L_NOT_FISCAL), CENTRE | BOLD)
    o.lv(o.t(T.L_FACTORY), str(info["factory_no"]))
    o.lv(o.t(T.L_RNM), str(info["rnm"]))
    o.lv(o.t(T.L_DATETIME), date_text(info["ts"]))
    o.rule()
    o.text(o.t(T.L_REFUSED), CENTRE | BOLD)
    o.lv(o.t(T.L_SHIFT), str(info["shift_no"]))
    o.lv(o.t(T.L_DOC_NO), str(info["number"]))
    o.lv(o.t(T.L_JOURNAL_NO), str(info["seq"]))
    if info.get("sign"):
        o.lv(o.t(T.L_OFFLINE_SIGN), info["sign"])
    o.lv(o.t(T.L_RESULT_CODE), str(info["code"]))
    if info.get("text"):
        o.text(info["text"])
    o.text(o.t(T.L_SET_ASIDE), CENTRE)
    o.rule()
    return o.lines


_ZERO = money.fmt(0)  # most amounts of a report are zero: formatted once


def _m(v):
    t = v["bills"] * 100 + v["coins"]
    return money.fmt(t) if t else _ZERO


def _dt(v):
    d = v["date"]
    t = v["time"]
    return "%02d.%02d.%04d %02d:%02d:%02d" % (d["day"], d["month"], d["year"], t["hour"], t["minute"], t["second"])


def channel_lines(states, last, lang, width=WIDE):
    # the X report's channels block: [(name, "up" | other)] in priority
    # order; last: the name of the channel of the last exchange
    o = _Out(width, lang)
    o.rule()
    o.text(o.t(T.L_CHANNELS), BOLD)
    for name, st in states:
        v = o.t(T.L_CH_UP if st == "up" else T.L_CH_DOWN)
        if name == last:
            v = "%s, %s" % (v, o.t(T.L_CH_LAST))
        o.lv(name, v)
    return o.lines


def report_lines(zx, lang, width=WIDE, copy=False):
    # X or Z report from a ZXReport dict (kkm.counters.ShiftCounters.zx_report
    # or the server's answer converted to the same dict shape); copy: a
    # second paper of a Z, marked as a copy first
    o = _Out(width, lang)
    o.copy_mark(copy)
    z = "close_shift_time" in zx
    o.text(o.t(T.L_Z_REPORT if z else T.L_X_REPORT), CENTRE | BOLD)
    o.lv(o.t(T.L_SHIFT), str(zx["shift_number"]))
    o.lv(o.t(T.L_DATETIME), _dt(zx["date_time"]))
    o.lv(o.t(T.L_OPENED), _dt(zx["open_shift_time"]))
    if z:
        o.lv(o.t(T.L_CLOSED), _dt(zx["close_shift_time"]))
    tk = _by_op(zx["ticket_operations"])
    disc = _by_op(zx["discounts"])
    mark = _by_op(zx["markups"])
    for op in (D.OP_SELL, D.OP_SELL_RETURN, D.OP_BUY, D.OP_BUY_RETURN):
        t = tk[op]
        o.rule()
        o.text(o.t(_TITLES[op]), BOLD)
        o.lv(o.t(T.L_TICKETS), "%d / %s" % (t["tickets_count"], _m(t["tickets_sum"])))
        for p in t["payments"]:
            o.lv(o.t(_PAY_LABELS.get(p["payment"], T.L_AMOUNT)), "%d / %s" % (p["count"], _m(p["sum"])))
        if disc[op]["count"]:
            o.lv(o.t(T.L_DISCOUNT), _m(disc[op]["sum"]))
        if mark[op]["count"]:
            o.lv(o.t(T.L_MARKUP), _m(mark[op]["sum"]))
        if t["change_sum"]["bills"] or t["change_sum"]["coins"]:
            o.lv(o.t(T.L_CHANGE), _m(t["change_sum"]))
        if t["offline_count"]:
            o.lv(o.t(T.L_OFFLINE_DOCS), str(t["offline_count"]))
    o.rule()
    for mp in zx["money_placements"]:
        label = T.L_DEPOSIT if mp["operation"] == D.DEPOSIT else T.L_WITHDRAWAL
        o.lv(o.t(label), "%d / %s" % (mp["operations_count"], _m(mp["operations_sum"])))
    for tx in zx["taxes"]:
        o.rule()
        o.text("%s %s%%" % (o.t(T.L_VAT), money.percent_text(tx["percent"])), BOLD)
        for to in tx["operations"]:
            if to["turnover"]["bills"] or to["turnover"]["coins"]:
                o.lv(o.t(_TITLES[to["operation"]]), "%s / %s" % (_m(to["turnover"]), _m(to["sum"])))
    if zx["sections"]:
        o.rule()
        for s in zx["sections"]:
            for so in s["operations"]:
                o.lv("%s %s %s" % (o.t(T.L_SECTION), s["section_code"], o.t(_TITLES[so["operation"]])),
                     "%d / %s" % (so["count"], _m(so["sum"])))
    o.rule()
    o.lv(o.t(T.L_CASH_SUM), _m(zx["cash_sum"]), BOLD)
    rev = _m(zx["revenue"]["sum"])
    if zx["revenue"]["is_negative"]:
        rev = "-" + rev
    o.lv(o.t(T.L_REVENUE), rev, BOLD)
    nn0 = _by_op(zx["start_shift_non_nullable_sums"])
    nn = _by_op(zx["non_nullable_sums"])
    for op in (D.OP_SELL, D.OP_SELL_RETURN, D.OP_BUY, D.OP_BUY_RETURN):
        o.text("%s: %s" % (o.t(T.L_NN), o.t(_TITLES[op])))
        o.lv(o.t(T.L_NN_START), _m(nn0[op]["sum"]))
        o.lv(o.t(T.L_AMOUNT), _m(nn[op]["sum"]))
    if zx.get("checksum"):
        o.lv(o.t(T.L_CHECKSUM), zx["checksum"])
    diff = zx.get("differs")
    if diff:
        # the OFD's Z printed (KZ-31.5): what the register's own Z says otherwise
        o.rule()
        o.text(o.t(T.L_Z_DIFFERS), BOLD)
        for code, op, ofd, own in diff:
            label = o.t(code) if op is None else "%s %s" % (o.t(code), o.t(_TITLES[op]))
            o.lv(label, "%s / %s" % (ofd, own))
    return o.lines


def _by_op(lst):
    d = {}
    for e in lst:
        d[e["operation"]] = e
    return d


def cashier_lines(rows, lang, width=WIDE):
    # KZ-31.2: rows from ShiftCounters.by_cashier()
    o = _Out(width, lang)
    o.text(o.t(T.L_CASHIER_REPORT), CENTRE | BOLD)
    for code, ops, mps in rows:
        o.rule()
        o.text("%s %d" % (o.t(T.L_CASHIER), code), BOLD)
        for op in (D.OP_SELL, D.OP_SELL_RETURN, D.OP_BUY, D.OP_BUY_RETURN):
            if ops[op][0]:
                o.lv(o.t(_TITLES[op]), "%d / %s" % (ops[op][0], money.fmt(ops[op][1])))
        for k in (D.DEPOSIT, D.WITHDRAWAL):
            if mps[k][0]:
                o.lv(o.t(T.L_DEPOSIT if k == D.DEPOSIT else T.L_WITHDRAWAL),
                     "%d / %s" % (mps[k][0], money.fmt(mps[k][1])))
    return o.lines


def section_lines(rows, lang, width=WIDE):
    # KZ-31.3: rows from ShiftCounters.by_section()
    o = _Out(width, lang)
    o.text(o.t(T.L_SECTION_REPORT), CENTRE | BOLD)
    for sec, ops in rows:
        o.rule()
        o.text("%s %d" % (o.t(T.L_SECTION), sec), BOLD)
        for op in (D.OP_SELL, D.OP_SELL_RETURN, D.OP_BUY, D.OP_BUY_RETURN):
            if ops[op][0]:
                o.lv(o.t(_TITLES[op]), "%d / %s" % (ops[op][0], money.fmt(ops[op][1])))
    return o.lines
