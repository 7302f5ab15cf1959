# Fiscal documents before and after fiscalisation: receipts (sale, sale
# return, purchase, purchase return) and money placements (deposit,
# withdrawal) with their checks. Their journal form: kkm.doccodec; the
# checks of the identifiers in them: kkm.ids.
#
# A Receipt is built while open (lines may be added and removed, the whole
# receipt may be abandoned: it is not a fiscal document yet). The register
# seals it when it fiscalises it; a sealed receipt can never change and
# there is no "cancel": a correction is a return receipt whose Parent names
# the original (S001-4, KZ-15).

from compat import const, is_int
from kkm import money
from kkm import texts
from kkm.ids import digits, check_iin_bin, check_gtin, check_ntin, check_mark, check_email, check_phone
from kkm.tax import vat_in

# OperationTypeEnum values of the OFD protocol
OP_BUY = const(0)
OP_BUY_RETURN = const(1)
OP_SELL = const(2)
OP_SELL_RETURN = const(3)
OPS = (0, 1, 2, 3)

# PaymentTypeEnum values (1 = card, 4 = mobile/QR; 2, 3 are deprecated)
PAY_CASH = const(0)
PAY_CARD = const(1)
PAY_MOBILE = const(4)
PAY_KINDS = (0, 1, 4)

# MoneyPlacementEnum values
DEPOSIT = const(0)
WITHDRAWAL = const(1)

# Units of measure (ESF/OKEI codes as the protocol's measure_unit_code)
UNIT_PIECE = "796"
UNIT_KG = "166"
UNIT_G = "163"
UNIT_M = "006"
UNIT_L = "112"
UNIT_SERVICE = "5114"
# code -> (kk, ru, measured)
UNITS = {
    "796": ("дана", "шт", False),
    "166": ("кг", "кг", True),
    "163": ("г", "г", True),
    "006": ("м", "м", True),
    "112": ("л", "л", True),
    "5114": ("қызмет", "услуга", False),
    "715": ("жұп", "пара", False),
}

MAX_LINES = const(200)
MAX_MARKS = const(100)
MAX_NAME = const(128)
MAX_AMOUNT = const(99999999999999)  # tiyn: just under 1e12 tenge
MAX_QTY = const(99999999)  # thousandths: 99 999.999 units
MAX_NKT = (1 << 64) - 1  # the commodity's code is a uint64
MAX_OPERATOR = const(40)  # bytes of an operator's name in a stamp
MIN_OFFSET = const(-43200)  # UTC offsets of the local time: -12 h ..
MAX_OFFSET = const(50400)  # .. +14 h


def operator_stamp(name):
    # an operator's name as stamped: at most MAX_OPERATOR bytes of UTF-8,
    # cut on a character boundary (None or "" stays None)
    if not name:
        return None
    b = name.encode()
    if len(b) <= MAX_OPERATOR:
        return name
    n = MAX_OPERATOR
    while n > 0 and (b[n] & 0xC0) == 0x80:
        n -= 1
    return b[:n].decode()


def check_offset(v):
    if not is_int(v) or not (MIN_OFFSET <= v <= MAX_OFFSET):
        raise ValueError(v)


class DocumentError(Exception):
    # args = (code from kkm.texts, detail); detail is a line index, value...
    pass


def _err(code, detail=None):
    raise DocumentError(code, detail)


def is_return(op):
    return op == OP_SELL_RETURN or op == OP_BUY_RETURN


def unit_name(code, lang):
    u = UNITS.get(code)
    if u is None:
        return code
    return u[0] if lang == "kk" else u[1]


def is_measured(code):
    u = UNITS.get(code)
    return bool(u and u[2])


class Line:
    # One position of a receipt. price: tiyn per unit; qty_milli: quantity in
    # thousandths (pieces are whole thousands); unit_code: key of UNITS;
    # section: department number 1..99; tax_code: TaxTable group code; gtin
    # or ntin: NKT code; marks: marking codes / excise stamps (S000-4);
    # discount / markup: tiyn off / on this line (one of them at most);
    # nkt: the National Catalogue element's id and name_kk its Kazakh
    # title, for a line taken from the catalogue (kkm.catalog; name is the
    # Russian title then).
    def __init__(self, name, price, qty_milli, unit_code, section, tax_code, gtin=None, ntin=None,
                 marks=None, discount=0, markup=0, marking_required=False, nkt=None, name_kk=None):
        self.name = name
        self.price = price
        self.qty_milli = qty_milli
        self.unit_code = unit_code
        self.section = section
        self.tax_code = tax_code
        self.gtin = gtin
        self.ntin = ntin
        self.marks = list(marks) if marks else []
        self.discount = discount
        self.markup = markup
        self.marking_required = marking_required
        self.nkt = nkt
        self.name_kk = name_kk
        # effective VAT rate (thousandths of a percent: 0 when exempt or the
        # seller pays no VAT) stamped at fiscalisation; None: not stamped
        self.percent = None

    def gross(self):
        # price x quantity, before discount and markup
        return money.line_sum(self.price, self.qty_milli)

    def total(self):
        # the line's sum with its discount and markup (VAT included)
        return self.gross() - self.discount + self.markup

    def check(self, i=None):
        # raises DocumentError naming the first problem; i = line index
        if not isinstance(self.name, str) or not self.name.strip() or len(self.name) > MAX_NAME:
            _err(texts.E_NAME, i)
        if self.name_kk is not None and (not isinstance(self.name_kk, str) or not self.name_kk.strip()
                                         or len(self.name_kk) > MAX_NAME):
            _err(texts.E_NAME, i)
        if self.nkt is not None and (not isinstance(self.nkt, int) or isinstance(self.nkt, bool)
                                     or not (0 <= self.nkt <= MAX_NKT)):
            _err(texts.E_LINE, i)
        for v in (self.price, self.qty_milli, self.discount, self.markup, self.section, self.tax_code):
            if not is_int(v):
                _err(texts.E_LINE, i)
        if self.price < 0 or not (0 < self.qty_milli <= MAX_QTY):
            _err(texts.E_LINE, i)
        if self.price > MAX_AMOUNT or self.gross() > MAX_AMOUNT:
            _err(texts.E_LINE_SUM, i)
        if self.unit_code not in UNITS:
            _err(texts.E_UNIT, i)
        if not is_measured(self.unit_code) and self.qty_milli % 1000:
            _err(texts.E_QTY_WHOLE, i)  # pieces and services are counted whole
        if not (1 <= self.section <= 99):
            _err(texts.E_SECTION, i)
        if self.discount < 0 or self.markup < 0 or (self.discount and self.markup):
            _err(texts.E_MODIFIER, i)
        if self.discount > self.gross() or self.total() > MAX_AMOUNT:
            _err(texts.E_MODIFIER, i)
        if self.gtin is not None and not check_gtin(self.gtin):
            _err(texts.E_GTIN, i)
        if self.ntin is not None and not check_ntin(self.ntin):
            _err(texts.E_NTIN, i)
        if len(self.marks) > MAX_MARKS:
            _err(texts.E_TOO_MANY, i)
        for m in self.marks:
            if not check_mark(m):
                _err(texts.E_MARK, i)
        if self.marking_required:
            # KZ-7.1: a marked good is registered only with its scanned
            # code(s): one per piece, at least one for measured goods
            need = 1 if is_measured(self.unit_code) else self.qty_milli // 1000
            if len(self.marks) < need:
                _err(texts.E_MARK_REQUIRED, i)


class Payment:
    # kind: PAY_CASH / PAY_CARD / PAY_MOBILE; amount: tiyn applied to the
    # receipt. Cash: tendered (>= amount; None = exact) gives the change.
    # Card: terminal id, authorisation code, RRN. Mobile: QR payment id.
    def __init__(self, kind, amount, tendered=None, terminal=None, auth_code=None, rrn=None, qr_id=None):
        self.kind = kind
        self.amount = amount
        self.tendered = tendered
        self.terminal = terminal
        self.auth_code = auth_code
        self.rrn = rrn
        self.qr_id = qr_id

    def taken(self):
        # money handed over (cash) or charged (non-cash)
        if self.kind == PAY_CASH and self.tendered is not None:
            return self.tendered
        return self.amount

    def change(self):
        return self.taken() - self.amount

    def check(self):
        if not is_int(self.kind) or self.kind not in PAY_KINDS:
            _err(texts.E_PAY_KIND, self.kind)
        if not is_int(self.amount) or not (0 < self.amount <= MAX_AMOUNT):
            _err(texts.E_AMOUNT, self.amount)
        if self.kind == PAY_CASH:
            if self.terminal is not None or self.auth_code is not None or self.rrn is not None \
                    or self.qr_id is not None:
                _err(texts.E_PAY_FIELDS, self.kind)
            if self.tendered is not None:
                if not is_int(self.tendered) or self.tendered < self.amount \
                        or self.tendered > MAX_AMOUNT:
                    _err(texts.E_TENDERED, self.tendered)
        else:
            if self.tendered is not None:
                _err(texts.E_PAY_FIELDS, self.kind)
            for s in (self.terminal, self.auth_code, self.rrn, self.qr_id):
                if s is not None and (not isinstance(s, str) or not (0 < len(s) <= 40)):
                    _err(texts.E_PAY_FIELDS, self.kind)
            if self.rrn is not None and not digits(self.rrn):
                _err(texts.E_PAY_FIELDS, self.kind)
            if self.auth_code is not None and not digits(self.auth_code):
                _err(texts.E_PAY_FIELDS, self.kind)
            if self.kind == PAY_CARD and self.qr_id is not None:
                _err(texts.E_PAY_FIELDS, self.kind)


class Parent:
    # The original receipt a return refers to (protocol ParentTicket):
    # number = its fiscal sign, ts = its UTC unix time, total in tiyn,
    # offline = was it fiscalised offline, kkm_rnm = the register that made it
    def __init__(self, number, ts, total, offline, kkm_rnm):
        self.number = number
        self.ts = ts
        self.total = total
        self.offline = bool(offline)
        self.kkm_rnm = kkm_rnm

    def check(self):
        if not isinstance(self.number, str) or not (0 < len(self.number) <= 40):
            _err(texts.E_PARENT_REQUIRED, "number")
        if not isinstance(self.kkm_rnm, str) or not (0 < len(self.kkm_rnm) <= 40):
            _err(texts.E_PARENT_REQUIRED, "rnm")
        if not is_int(self.ts) or self.ts <= 0:
            _err(texts.E_PARENT_REQUIRED, "ts")
        if not is_int(self.total) or not (0 < self.total <= MAX_AMOUNT):
            _err(texts.E_PARENT_REQUIRED, "total")


class Receipt:
    def __init__(self, op, cashier_code):
        if not is_int(op) or op not in OPS:
            _err(texts.E_OP, op)
        if not is_int(cashier_code) or not (0 < cashier_code < 1 << 32):
            _err(texts.E_CASHIER, cashier_code)
        self.op = op
        self.cashier_code = cashier_code
        self.lines = []
        self.payments = []
        self.buyer_iin = None
        self.buyer_email = None
        self.buyer_phone = None
        self.parent = None
        self.sealed = False
        # the seller's VAT status and the lines' rates as fiscalised
        # (stamp()); None: not stamped, rates come from a tax table
        self.vat_payer = None
        # the issuer stamp: the operator's name and the UTC offset of the
        # local time at fiscalisation (None until stamped)
        self.operator_name = None
        self.utc_offset = None

    def _open(self):
        if self.sealed:
            _err(texts.E_SEALED)
        self.vat_payer = None  # a change makes any stamp stale

    def stamped(self):
        return self.vat_payer is not None

    def stamp(self, table, operator_name=None, utc_offset=None):
        # fix the rates of the document: each line gets the effective rate
        # of its group in `table` (the table in force on the document's
        # local date), the receipt the seller's VAT status. From now on
        # taxes(), the layout, the counters and the OFD request use these
        # values and never a table again (a fiscal document never changes).
        # utc_offset (seconds) with operator_name: the issuer stamp, which
        # the OFD request takes instead of the settings of the day
        self._open()
        if utc_offset is not None:
            check_offset(utc_offset)
        self.operator_name = operator_stamp(operator_name) if utc_offset is not None else None
        self.utc_offset = utc_offset
        for i in range(len(self.lines)):
            ln = self.lines[i]
            if table.get(ln.tax_code) is None:
                _err(texts.E_TAX_GROUP, i)
            ln.percent = table.rate(ln.tax_code)
        self.vat_payer = bool(table.vat_payer)

    def rate(self, i, table=None):
        # effective rate of line i: the stamped one, else from `table`
        ln = self.lines[i]
        if self.vat_payer is not None:
            return ln.percent
        if table is None or table.get(ln.tax_code) is None:
            _err(texts.E_TAX_GROUP, i)
        return table.rate(ln.tax_code)

    def is_vat_payer(self, table=None):
        # the seller's VAT status as stamped, else the table's
        if self.vat_payer is not None:
            return self.vat_payer
        return bool(table is not None and table.vat_payer)

    def add_line(self, line):
        # checks the line on its own; returns its index
        self._open()
        if len(self.lines) >= MAX_LINES:
            _err(texts.E_TOO_MANY, len(self.lines))
        line.check(len(self.lines))
        self.lines.append(line)
        return len(self.lines) - 1

    def remove_line(self, i):
        # before fiscalisation only (not a fiscal event)
        self._open()
        if not is_int(i) or not (0 <= i < len(self.lines)):
            _err(texts.E_INDEX, i)
        self.lines.pop(i)

    def add_payment(self, p):
        # the protocol has one payment per kind: cash handed over in parts
        # adds up to one cash payment; a second card or mobile payment is
        # refused
        self._open()
        p.check()
        for i in range(len(self.payments)):
            q = self.payments[i]
            if q.kind != p.kind:
                continue
            if p.kind != PAY_CASH:
                _err(texts.E_PAY_DUP, p.kind)
            exact = q.tendered is None and p.tendered is None
            both = Payment(PAY_CASH, q.amount + p.amount, None if exact else q.taken() + p.taken())
            both.check()
            self.payments[i] = both
            return
        self.payments.append(p)

    def set_payments(self, payments):
        # the payments as they were before one that did not fiscalise
        self._open()
        self.payments = list(payments)

    def clear_payments(self):
        self.set_payments(())

    def set_buyer(self, iin=None, email=None, phone=None):
        # R-57, KZ-24¶2: the buyer's IIN/BIN on request; contacts optional
        self._open()
        if iin is not None and not check_iin_bin(iin):
            _err(texts.E_IIN, iin)
        if email is not None and not check_email(email):
            _err(texts.E_EMAIL, email)
        if phone is not None and not check_phone(phone):
            _err(texts.E_PHONE, phone)
        self.buyer_iin = iin
        self.buyer_email = email
        self.buyer_phone = phone

    def set_parent(self, parent):
        self._open()
        if not is_return(self.op):
            _err(texts.E_PARENT_NOT_ALLOWED, self.op)
        parent.check()
        self.parent = parent

    def seal(self):
        # called by the register once the receipt is fiscalised
        self.sealed = True

    def gross(self):
        return sum(ln.gross() for ln in self.lines)

    def discount(self):
        return sum(ln.discount for ln in self.lines)

    def markup(self):
        return sum(ln.markup for ln in self.lines)

    def total(self):
        return sum(ln.total() for ln in self.lines)

    def paid(self):
        return sum(p.amount for p in self.payments)

    def pay_sum(self, kind):
        for p in self.payments:
            if p.kind == kind:
                return p.amount
        return 0

    def payment(self, kind):
        for p in self.payments:
            if p.kind == kind:
                return p
        return None

    def cash_part(self):
        return self.pay_sum(PAY_CASH)

    def taken(self):
        # protocol Amounts.taken: money handed over by the payer
        t = 0
        for p in self.payments:
            t += p.taken()
        return t

    def change(self):
        t = 0
        for p in self.payments:
            t += p.change()
        return t

    def taxes(self, table=None):
        # sorted list of (tax_code, percent_milli, turnover, vat): VAT is
        # computed per line on the line's final sum and then summed per
        # group and rate. A stamped receipt uses its own rates (table is
        # not needed); an unstamped one the rates of `table`.
        acc = {}
        for i in range(len(self.lines)):
            ln = self.lines[i]
            p = self.rate(i, table)
            t = ln.total()
            v = vat_in(t, p)
            k = (ln.tax_code, p)
            a = acc.get(k)
            if a is None:
                acc[k] = [t, v]
            else:
                a[0] += t
                a[1] += v
        out = []
        for k in sorted(acc):
            a = acc[k]
            out.append((k[0], k[1], a[0], a[1]))
        return out

    def line_vat(self, i, table=None):
        return vat_in(self.lines[i].total(), self.rate(i, table))

    def validate(self, table, seller_bin=None, operator_name=None, utc_offset=None):
        # the whole receipt, just before fiscalisation; seller_bin: the
        # register's IIN/BIN, which the buyer's may not equal (the OFD
        # answers SAME_TAXPAYER_AND_CUSTOMER, protocol result 17). Stamps
        # the rates of `table` (stamp()): the register passes the table in
        # force on the document's local date.
        if not self.lines:
            _err(texts.E_NO_LINES)
        for i in range(len(self.lines)):
            self.lines[i].check(i)
            if table.get(self.lines[i].tax_code) is None:
                _err(texts.E_TAX_GROUP, i)
        total = self.total()
        # a fiscal receipt for nothing is refused (lines may round to 0 tiyn)
        if not (0 < total <= MAX_AMOUNT):
            _err(texts.E_AMOUNT, total)
        noncash = 0
        for p in self.payments:
            p.check()
            if p.kind != PAY_CASH:
                noncash += p.amount
        if noncash > total:
            _err(texts.E_PAY_OVER, noncash)
        paid = self.paid()
        if paid < total:
            _err(texts.E_PAY_SHORT, total - paid)
        if paid > total:
            _err(texts.E_PAY_OVER, paid - total)
        if is_return(self.op):
            if self.parent is None:
                _err(texts.E_PARENT_REQUIRED)
            self.parent.check()
            if total > self.parent.total:
                _err(texts.E_RETURN_OVER, total)
        elif self.parent is not None:
            _err(texts.E_PARENT_NOT_ALLOWED, self.op)
        if self.buyer_iin is not None and not check_iin_bin(self.buyer_iin):
            _err(texts.E_IIN, self.buyer_iin)
        if self.buyer_iin is not None and self.buyer_iin == seller_bin:
            _err(texts.E_SAME_TAXPAYER, self.buyer_iin)
        if not self.sealed:
            self.stamp(table, operator_name, utc_offset)

class Placement:
    # A money placement (KZ-27): DEPOSIT or WITHDRAWAL of amount tiyn;
    # utc_offset with operator_name: the issuer stamp, which the journal
    # form needs (kkm.doccodec)
    def __init__(self, kind, amount, cashier_code, operator_name=None, utc_offset=None):
        if not is_int(kind) or kind not in (DEPOSIT, WITHDRAWAL):
            _err(texts.E_OP, kind)
        if not is_int(amount) or not (0 < amount <= MAX_AMOUNT):
            _err(texts.E_AMOUNT, amount)
        if not is_int(cashier_code) or not (0 < cashier_code < 1 << 32):
            _err(texts.E_CASHIER, cashier_code)
        if utc_offset is not None:
            try:
                check_offset(utc_offset)
            except ValueError:
                _err(texts.E_DECODE, utc_offset)
        self.kind = kind
        self.amount = amount
        self.cashier_code = cashier_code
        self.operator_name = operator_stamp(operator_name) if utc_offset is not None else None
        self.utc_offset = utc_offset
