# Returns against their original receipt (R-30, KZ-15), loaded with the
# first return (Register.open_return, Register.fiscalise): a return names a
# receipt of this register, found in the journal by what the buyer brings
# (find_original), and is bounded by it: per line and per payment type no
# more than is left after the returns journalled against it (Returnable),
# checked at fiscalisation from the journal (check). Its ParentTicket names
# the original as the OFD knows it: the OFD's fiscal sign of a receipt
# issued online, the number its request carries as offline_ticket_number
# (records.autonomous_sign) of one issued offline. docs/register.md "Returns".

import struct

from compat import const
from journal import ACK, JournalCorrupt
from kkm import document as D
from kkm import doccodec as DC
from kkm import locks as L
from kkm import records as R
from kkm import texts as T

# refusals of a return, DocumentError (15x, as kkm.document's) or
# kkm.locks.Refused (650)
E_RETURN_LINE = const(150)  # goods not in the original
E_RETURN_QTY = const(151)  # more than is left of a line
E_RETURN_LEFT = const(152)  # more than is left of a line's amount
E_RETURN_PAY = const(153)  # more than is left of a payment type
E_RETURN_OP = const(154)  # a return of a return, or not of its original's kind
E_RETURNED = const(155)  # nothing is left of the original
E_NO_ORIGINAL = const(650)  # no receipt of this register by that number

# code, kk, ru (kkm.texts)
_TEXTS = (
    E_RETURN_LINE, "Бұл тауар бастапқы чекте жоқ", "Этой позиции нет в исходном чеке",
    E_RETURN_QTY, "Қайтарылатын саны қайтаруға қалғанынан көп", "Количество больше оставшегося к возврату",
    E_RETURN_LEFT, "Қайтару сомасы қайтаруға қалған сомадан көп", "Сумма больше оставшейся к возврату",
    E_RETURN_PAY, "Қайтару бастапқы чекте осы түрмен төленгеннен көп",
        "Возврат больше оплаченного этим видом оплаты в исходном чеке",
    E_RETURN_OP, "Тек сату чегі (сатуды қайтару) не сатып алу чегі (сатып алуды қайтару) қайтарылады",
        "Возвращается только чек продажи (возврат продажи) или покупки (возврат покупки)",
    E_RETURNED, "Чек толық қайтарылған", "Чек уже возвращён полностью",
    E_NO_ORIGINAL, "Бастапқы чек осы ККМ журналында табылмады", "Исходный чек не найден в журнале этой ККМ",
)

T.add_table(_TEXTS, 3)


def return_op(op):
    # the return of a sale is a sale return, of a purchase a purchase
    # return; a return is not returned (None)
    if op == D.OP_SELL:
        return D.OP_SELL_RETURN
    if op == D.OP_BUY:
        return D.OP_BUY_RETURN
    return None


def _same_goods(a, b):
    return (a.name == b.name and a.price == b.price and a.unit_code == b.unit_code and a.section == b.section
            and a.tax_code == b.tax_code and a.gtin == b.gtin and a.ntin == b.ntin)


class Returnable:
    # What of an original receipt may still be returned: per line the
    # quantity and the amount (lines of the same goods at the same price
    # count as one: their first line holds the figures), per payment type
    # the amount paid, less every return already made against it (take).
    # A new return is held to it (check).
    # parent: the ParentTicket a return of it names (original).
    def __init__(self, orig, parent):
        self.orig = orig
        self.parent = parent
        self.op = return_op(orig.op)
        lines = orig.lines
        self.qty = [0] * len(lines)
        self.amount = [0] * len(lines)
        for i in range(len(lines)):
            j = self._position(lines[i])
            self.qty[j] += lines[i].qty_milli
            self.amount[j] += lines[i].total()
        self.pay = [(p.kind, p.amount) for p in orig.payments]

    def _position(self, ln):
        lines = self.orig.lines
        for j in range(len(lines)):
            if _same_goods(lines[j], ln):
                return j
        return None

    def used_up(self):
        # nothing is left to return
        for q in self.qty:
            if q > 0:
                return False
        return True

    def paid(self, kind):
        # what may still be refunded by this payment type
        for k, a in self.pay:
            if k == kind:
                return a
        return 0

    def check(self, ret):
        # refuse (DocumentError) a return that is not of this kind of
        # receipt or exceeds what is left of a line or of a payment type;
        # nothing changes (the return may still not be fiscalised)
        if self.op is None or ret.op != self.op:
            raise D.DocumentError(E_RETURN_OP, ret.op)
        self._less(ret, True)

    def take(self, ret):
        # subtract a journalled return
        self.qty, self.amount, self.pay = self._less(ret, False)

    def _less(self, ret, check):
        # -> (qty, amount, pay) left after ret
        qty = list(self.qty)
        amount = list(self.amount)
        for i in range(len(ret.lines)):
            ln = ret.lines[i]
            j = self._position(ln)
            if j is None:
                if check:
                    raise D.DocumentError(E_RETURN_LINE, i)
                continue
            qty[j] -= ln.qty_milli
            amount[j] -= ln.total()
            if check and qty[j] < 0:
                raise D.DocumentError(E_RETURN_QTY, i)
            if check and amount[j] < 0:
                raise D.DocumentError(E_RETURN_LEFT, i)
        pay = self.pay
        for p in ret.payments:
            left = self.paid(p.kind) - p.amount
            if check and left < 0:
                raise D.DocumentError(E_RETURN_PAY, p.kind)
            pay = [(k, left if k == p.kind else a) for k, a in pay]
        return qty, amount, pay

    def line(self, i, qty_milli=None, draft=None):
        # the return line of the original's line i: qty_milli (default: all
        # that is left of it, less what the draft return holds already) at
        # the amount left in proportion, so that the lines of partial
        # returns add up to the original line exactly
        if not isinstance(i, int) or not (0 <= i < len(self.orig.lines)):
            raise D.DocumentError(T.E_INDEX, i)
        o = self.orig.lines[i]
        j = self._position(o)
        left_q = self.qty[j]
        left_a = self.amount[j]
        for ln in draft.lines if draft is not None else ():
            if _same_goods(ln, o):
                left_q -= ln.qty_milli
                left_a -= ln.total()
        q = left_q if qty_milli is None else qty_milli
        if not isinstance(q, int) or q <= 0 or q > left_q:
            raise D.DocumentError(E_RETURN_QTY, i)
        a = left_a * q // left_q
        ln = D.Line(o.name, o.price, q, o.unit_code, o.section, o.tax_code, o.gtin, o.ntin,
                    o.marks if q == o.qty_milli else None)
        g = ln.gross()
        if a < g:
            ln.discount = g - a
        else:
            ln.markup = a - g
        return ln

    def refunds(self, total):
        # the payments of a return of `total`: by the original's payment
        # types, non-cash first (to the card or account it came from, with
        # the original's terminal data), cash for the rest
        out = []
        for cash in (False, True):
            for p in self.orig.payments:
                if (p.kind == D.PAY_CASH) != cash:
                    continue
                a = min(self.paid(p.kind), total)
                if a > 0:
                    out.append(D.Payment(p.kind, a, None, p.terminal, p.auth_code, p.rrn, p.qr_id))
                    total -= a
        return out


def _qr_number(s):
    # a scanned QR code is the check page's address: its i= parameter is
    # the number on the paper
    for sep in ("?i=", "&i="):
        k = s.find(sep)
        if k >= 0:
            s = s[k + 3:]
            e = s.find("&")
            return s if e < 0 else s[:e]
    return s.strip()


def _same_parent(a, b):
    return (a is not None and a.number == b.number and a.ts == b.ts and a.total == b.total
            and a.offline == b.offline and a.kkm_rnm == b.kkm_rnm)


def _walk(reg, since):
    # the journal's records with the ACKs from since on; a damaged record
    # on the way is the accumulator-integrity lock (KZ-3.3)
    try:
        for x in reg.acc.records(since, True):
            yield x
    except JournalCorrupt as e:
        reg.locks.set(L.ACC_INTEGRITY, e.args[0] if e.args else None)
        raise L.Locked(L.ACC_INTEGRITY, [L.ACC_INTEGRITY])


def find_original(reg, key, number=None):
    # -> the journal seq of a document: key is the fiscal sign or the
    # autonomous number on the paper, or the text of its QR code; or key is
    # the shift number and number the receipt's number in it.
    # Refused(E_NO_ORIGINAL) when the journal does not hold it
    if number is None:
        key = _qr_number(str(key))
        want = key.encode()
        n = int(key) if key.isdigit() and len(key) <= 10 else None
    for seq, rtype, ts, p in _walk(reg, reg.acc.oldest_seq):
        if number is not None:
            if rtype == R.R_RECEIPT and struct.unpack_from("<II", p, 0) == (key, number):
                return seq
        elif rtype == ACK or rtype == R.R_SIGN:
            dseq = struct.unpack_from("<I", p, 0)[0]
            got = p[4:] if rtype == R.R_SIGN else R.split_ack(p[4:])[0].encode()
            if got == want or (n is not None and rtype == R.R_SIGN and n == int(got.decode())):
                return dseq
    raise L.Refused(E_NO_ORIGINAL, key)


def original(reg, seq):
    # -> Returnable of the receipt at journal seq: what is left to return of
    # it after the returns journalled since. Its R_SIGN or ACK comes before
    # the next document (Register._issue, recovery)
    doc = left = None
    asign = ofd = None  # its autonomous sign (R_SIGN: issued offline), the OFD's (ACK)
    if seq < reg.acc.oldest_seq:
        raise L.Refused(E_NO_ORIGINAL, seq)  # its ACK is kept, the ring reused the document
    for s, rtype, ts, p in _walk(reg, seq):
        if doc is None:
            if rtype != R.R_RECEIPT:
                break
            doc = DC.decode_receipt(R.split_doc(p)[2])
            doc_ts = ts
        elif left is None and (rtype == R.R_SIGN or rtype == ACK):
            if struct.unpack_from("<I", p, 0)[0] == seq:
                if rtype == R.R_SIGN:
                    asign = p[4:]
                else:
                    ofd = p[4:]
        elif rtype == R.R_RECEIPT:
            if left is None:
                left = Returnable(doc, _parent(reg, seq, doc_ts, doc, asign, ofd))
            if D.is_return(p[9]):  # the receipt's op: after the header and its version
                r = DC.decode_receipt(p[8:])
                if _same_parent(r.parent, left.parent):
                    left.take(r)
    if doc is None:
        raise L.Refused(E_NO_ORIGINAL, seq)
    if left is None:
        left = Returnable(doc, _parent(reg, seq, doc_ts, doc, asign, ofd))
    return left


def _parent(reg, seq, ts, doc, asign, ofd):
    # issued offline: the number its request carries; online: the OFD's sign
    if asign is not None:
        number = asign.decode()
    elif ofd is not None:
        number = R.split_ack(ofd)[0]
    else:
        raise L.Refused(E_NO_ORIGINAL, seq)  # no sign yet
    return D.Parent(number, ts, doc.total(), asign is not None, reg.settings.get("rnm"))


def open_return(reg, key, number=None):
    # the draft return of the receipt find_original(key, number) finds,
    # with its parent; reg.returnable says what is left of the original
    left = original(reg, find_original(reg, key, number))
    if left.op is None:
        raise D.DocumentError(E_RETURN_OP, left.orig.op)
    if left.used_up():
        raise D.DocumentError(E_RETURNED, None)
    r = reg.open_receipt(left.op)
    r.set_parent(left.parent)
    reg.returnable = left
    return r


def return_line(reg, i, qty_milli):
    left = reg.returnable
    r = reg.draft
    if i is not None:
        r.add_line(left.line(i, qty_milli, r))
        return
    for i in range(len(left.qty)):
        if left.qty[i] > 0:
            r.add_line(left.line(i, None, r))


def refund(reg):
    r = reg.draft
    r.clear_payments()
    for p in reg.returnable.refunds(r.total()):
        r.add_payment(p)
    return r.payments


def check(reg, r):
    # the return r against what is left of its original: as open_return
    # read it from the journal (nothing is journalled while its draft is
    # open), else as the journal holds it now
    left = reg.returnable
    if left is None or left.parent is not r.parent:
        left = original(reg, find_original(reg, r.parent.number))
        if not _same_parent(left.parent, r.parent):
            raise L.Refused(E_NO_ORIGINAL, r.parent.number)
    left.check(r)
