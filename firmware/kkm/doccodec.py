# The journal form of fiscal documents: receipts, money placements and the
# stamps of a Z document, in the compact encoding (kkm.compact). A decoded
# document is sealed: a journalled document never changes.

from compat import const
from kkm import texts
from kkm.compact import Writer, Reader
from kkm.document import (Receipt, Line, Payment, Parent, Placement, DocumentError, MAX_LINES, MAX_MARKS,
                          MIN_OFFSET, check_offset, operator_stamp)
from kkm.tax import MAX_PERCENT_MILLI

# a receipt fits one journal record (2048 bytes) after the register's 8-byte
# header (shift number, document number)
MAX_ENCODED = const(2040)
# Record versions: a receipt is version 3 (the seller's VAT status, each
# line's stamped rate and the issuer stamp: the operator's name and the UTC
# offset of the local time) or 4 (also each line's National Catalogue
# element and Kazakh name, written only when a line has them); a placement
# is version 2 (with the issuer stamp). With the stamps the paper, the
# counters and the OFD request stay the same however the settings change
# while the document waits in the queue.
_V_RECEIPT = const(3)
_V_CATALOGUE = const(4)
_V_PLACEMENT = const(2)
# a Z document body starts with this byte, then the closing operator's code
# and name and the UTC offset, then the counters
Z_STAMPED = const(0x5A)


def _err(code, detail=None):
    raise DocumentError(code, detail)


# The issuer stamp of a journalled document: operator name, UTC offset
# (stored unsigned).
def _write_issuer(w, name, utc_offset):
    check_offset(utc_offset)
    w.opt(name)
    w.uint(utc_offset - MIN_OFFSET)


def _read_issuer(r):
    name = r.opt()
    off = r.uint() + MIN_OFFSET
    check_offset(off)
    return name, off


def encode_receipt(rc):
    # the journal form of a receipt stamped with its rates and issuer
    # (Receipt.validate); DocumentError(E_TOO_MANY) when it would not fit
    # one journal record
    if not rc.stamped():
        raise ValueError("not stamped")
    cat = _from_catalogue(rc)
    w = Writer()
    w.uint(_V_CATALOGUE if cat else _V_RECEIPT)
    w.uint(rc.op)
    w.uint(rc.cashier_code)
    w.uint(1 if rc.vat_payer else 0)
    _write_issuer(w, rc.operator_name, rc.utc_offset)
    w.uint(len(rc.lines))
    for ln in rc.lines:
        w.text(ln.name)
        w.uint(ln.price)
        w.uint(ln.qty_milli)
        w.text(ln.unit_code)
        w.uint(ln.section)
        w.uint(ln.tax_code)
        w.opt(ln.gtin)
        w.opt(ln.ntin)
        w.uint(len(ln.marks))
        for m in ln.marks:
            w.text(m)
        w.uint(ln.discount)
        w.uint(ln.markup)
        w.uint(1 if ln.marking_required else 0)
        w.uint(ln.percent)
        if cat:
            w.uint(0 if ln.nkt is None else ln.nkt + 1)
            w.opt(ln.name_kk)
    w.uint(len(rc.payments))
    for p in rc.payments:
        w.uint(p.kind)
        w.uint(p.amount)
        w.uint(0 if p.tendered is None else p.tendered + 1)
        w.opt(p.terminal)
        w.opt(p.auth_code)
        w.opt(p.rrn)
        w.opt(p.qr_id)
    w.opt(rc.buyer_iin)
    w.opt(rc.buyer_email)
    w.opt(rc.buyer_phone)
    if rc.parent is None:
        w.uint(0)
    else:
        pa = rc.parent
        w.uint(1)
        w.text(pa.number)
        w.uint(pa.ts)
        w.uint(pa.total)
        w.uint(1 if pa.offline else 0)
        w.text(pa.kkm_rnm)
    b = w.done()
    if len(b) > MAX_ENCODED:
        _err(texts.E_TOO_MANY, len(b))
    return b


def _from_catalogue(rc):
    for ln in rc.lines:
        if ln.nkt is not None or ln.name_kk is not None:
            return True
    return False


def decode_receipt(b):
    # inverse of encode_receipt; DocumentError(E_DECODE) on damaged bytes
    try:
        r = Reader(b)
        v = r.uint()
        if v != _V_RECEIPT and v != _V_CATALOGUE:
            raise ValueError
        rc = Receipt(r.uint(), r.uint())
        f = r.uint()
        if f > 1:
            raise ValueError
        vat_payer = f == 1
        op_name, off = _read_issuer(r)
        for _ in range(r.count(MAX_LINES)):
            name = r.text()
            price = r.uint()
            qty = r.uint()
            unit = r.text()
            section = r.uint()
            tax = r.uint()
            gtin = r.opt()
            ntin = r.opt()
            marks = []
            for _ in range(r.count(MAX_MARKS)):
                marks.append(r.text())
            ln = Line(name, price, qty, unit, section, tax, gtin, ntin, marks, r.uint(), r.uint(),
                      r.uint() == 1)
            ln.percent = r.uint()
            if ln.percent >= MAX_PERCENT_MILLI:
                raise ValueError
            if v == _V_CATALOGUE:
                k = r.uint()
                ln.nkt = None if k == 0 else k - 1
                ln.name_kk = r.opt()
            rc.lines.append(ln)
        for _ in range(r.count(4)):
            kind = r.uint()
            amount = r.uint()
            t = r.uint()
            rc.payments.append(Payment(kind, amount, None if t == 0 else t - 1, r.opt(), r.opt(),
                                       r.opt(), r.opt()))
        rc.buyer_iin = r.opt()
        rc.buyer_email = r.opt()
        rc.buyer_phone = r.opt()
        if r.uint():
            rc.parent = Parent(r.text(), r.uint(), r.uint(), r.uint() == 1, r.text())
        r.end()
    except DocumentError:
        raise
    except (ValueError, IndexError, UnicodeError):
        _err(texts.E_DECODE)
    rc.vat_payer = vat_payer
    rc.operator_name = op_name
    rc.utc_offset = off
    rc.sealed = True
    return rc


def encode_placement(p):
    # ValueError for a placement without the issuer stamp
    w = Writer()
    w.uint(_V_PLACEMENT)
    w.uint(p.kind)
    w.uint(p.amount)
    w.uint(p.cashier_code)
    _write_issuer(w, p.operator_name, p.utc_offset)
    return w.done()


def decode_placement(b):
    try:
        r = Reader(b)
        v = r.uint()
        if v != _V_PLACEMENT:
            raise ValueError
        p = Placement(r.uint(), r.uint(), r.uint())
        p.operator_name, p.utc_offset = _read_issuer(r)
        r.end()
    except DocumentError:
        raise
    except (ValueError, IndexError, UnicodeError):
        _err(texts.E_DECODE)
    return p


def encode_z(counters, code, name, utc_offset):
    # a Z document body: who closed the shift and the UTC offset of its
    # local time, then counters (ShiftCounters.encode() bytes)
    w = Writer()
    w.uint(Z_STAMPED)
    w.uint(code)
    _write_issuer(w, operator_stamp(name), utc_offset)
    return w.done() + counters


def decode_z(b):
    # -> (operator code, name, utc_offset, counters bytes)
    try:
        r = Reader(b)
        if r.uint() != Z_STAMPED:
            raise ValueError
        code = r.uint()
        name, off = _read_issuer(r)
    except (ValueError, IndexError, UnicodeError):
        _err(texts.E_DECODE)
    return code, name, off, bytes(b[r.i:])
