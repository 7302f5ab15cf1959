# The sale: goods by scan, by product code (PLU) or at a free price (PRICE),
# a quantity before them (QTY; a fraction only for weighed goods, kkm.document
# refuses it for pieces), a discount or markup of the last line (DISC),
# then payment (PAY): cash with the amount tendered and the change, in
# parts, by card, mobile/QR, or mixed. The open receipt is the register's
# draft: leaving a screen or a refusal never loses it; ESC on the sale
# abandons it after a confirmation.

from kkm import catalog
from kkm import document as D
from kkm import ids
from kkm import locks as L
from kkm import money
from kkm import texts as T
from ui import keys as K
from ui import screen as S
from ui import texts as U
from ui.screen import Screen


def add_line(ui, line):
    # a line into the open receipt, opened for it if none is; a receipt
    # opened for a refused line is dropped again
    reg = ui.reg
    opened = reg.draft is None
    if opened:
        reg.open_receipt(D.OP_SELL)
    try:
        reg.add_line(line)
    except Exception:
        if opened:
            reg.abandon()
        raise


def free_line(price, qty):
    # a line at a free price: pieces, or kilograms when the quantity is a fraction
    unit = D.UNIT_PIECE if qty % 1000 == 0 else D.UNIT_KG
    return D.Line(T.text(U.U_GOODS, "ru"), price, qty, unit, 1, 1, name_kk=T.text(U.U_GOODS, "kk"))


def line_name(ln, lang):
    return ln.name_kk if lang == "kk" and ln.name_kk else ln.name


class Sale(Screen):
    entry = True

    def __init__(self):
        self.qty = None  # QTY typed for the next line (thousandths)

    def take_qty(self):
        q = self.qty
        self.qty = None
        return q

    def key(self, ui, k):
        reg = ui.reg
        if k == K.QTY:
            self.qty = ui.entry.qty()
        elif k == K.CLR:
            self.qty = None
        elif k == K.PLU:
            self.goods(ui, ui.entry.take())
        elif k == K.PRICE:
            price = ui.entry.money()
            add_line(ui, free_line(price, self.take_qty() or 1000))
        elif k == K.DISC:
            self._lines(reg)
            ui.show(Modifier())
        elif k == K.PAY:
            self._lines(reg)
            ui.show(Pay())
        elif k == K.ESC:
            if reg.draft is not None:
                from ui.menus import Confirm

                ui.show(Confirm(U.U_ABANDON, abandon))
        elif k == K.RET:
            if reg.draft is not None:
                raise L.Refused(L.E_RECEIPT_OPEN, None)
            from ui.returns import ReturnKey

            ui.show(ReturnKey())
        elif k == K.MENU:
            from ui.menus import Menu, sales_items

            ui.show(Menu(sales_items(ui)))
        else:
            from ui import menus

            menus.report_key(ui, k)

    def _lines(self, reg):
        if reg.draft is None or not reg.draft.lines:
            raise D.DocumentError(T.E_NO_LINES, None)

    def scan(self, ui, code):
        # a barcode (EAN-8/13, UPC-A, GTIN-14) is the good; a marking code
        # is the good of its GTIN (AI 01) with this piece's code taken
        gtin = None
        if not ids.digits(code):
            from kkm import gs1

            gtin = gs1.mark_gtin(code)
        if gtin is not None:
            self.goods(ui, _catalogue_form(gtin), code)
        else:
            self.goods(ui, _catalogue_form(code))

    def goods(self, ui, code, mark=None):
        # a GTIN/NTIN scanned or typed: the National Catalogue's element from
        # the cache (kkm.catalog), else asked of the OFD by the sender
        # (Desk.lookup, awaited by the UI task; a refusal is shown), then
        # its weight, price and marking codes
        item = ui.reg.catalogue_item(code)
        if item is None:
            ui.await_(ui.desk.lookup(code), lambda it: self.found(ui, it, mark), says=[ui.t(U.U_ASK_NKT), code])
        else:
            self.found(ui, item, mark)

    def found(self, ui, item, mark=None):
        qty = self.take_qty()
        if qty is not None and qty % 1000 and not D.is_measured(item.unit):
            raise D.DocumentError(T.E_QTY_WHOLE, None)
        scr = Item(item, qty)
        if mark is not None:
            scr.take_mark(mark)
        ui.show(scr)

    def body(self, ui):
        reg = ui.reg
        r = reg.draft
        typed = "> " + ui.entry.s
        if self.qty is not None:
            typed = "%s x %s" % (money.qty_text(self.qty, self.qty % 1000 != 0), typed)
        if r is None or not r.lines:
            if ui.locks:
                # the first lock in force, as much of it as the screen takes
                # besides the entry (MENU: messages, for all and what to do)
                msg = S.lines_of([reg.lock_message(ui.locks[0], ui.lang)], ui.cols)
                return msg[:ui.rows - 2] + [typed]
            return [ui.t(U.U_READY) + " " + _clock(reg), ui.lv(U.U_TOTAL, 0), typed]
        ln = r.lines[-1]
        out = ["%d.%s" % (len(r.lines), line_name(ln, ui.lang)), ui.lv(U.U_TOTAL, r.total()), typed]
        if not catalog.coded(ln) and ln.unit_code != D.UNIT_SERVICE:
            out.append(T.text(catalog.N_NOT_IN_NKT, ui.lang))
        return out


def _catalogue_form(code):
    # the catalogue keys goods by GTIN-13/NTIN (EAN-8 for small goods): a
    # GTIN-14 with leading zeros and a UPC-A (12 digits) are the same good's
    # EAN-13 or EAN-8
    if len(code) == 14 and code[0] == "0" and ids.digits(code):
        return code[6:] if code.startswith("000000") else code[1:]
    if len(code) == 12 and ids.digits(code):
        return "0" + code
    return code


def _clock(reg):
    y, mo, d, hh, mi, ss = reg.clock.civil()
    return "%02d:%02d" % (hh, mi)


def abandon(ui):
    ui.reg.abandon()


class Item(Screen):
    # one catalogue good: its weight (weighed goods without QTY), its price,
    # its marking codes (marked goods: one scanned per piece, KZ-7.1)
    entry = True

    def __init__(self, item, qty):
        self.item = item
        self.qty = qty
        self.price = None
        self.marks = []

    def weighed(self):
        return D.is_measured(self.item.unit)

    def need(self):
        return 1 if self.weighed() else (self.qty or 1000) // 1000

    def key(self, ui, k):
        if k == K.ENT:
            if self.qty is None and self.weighed():
                self.qty = ui.entry.qty()
            elif self.price is None:
                self.price = ui.entry.money()
                if not self.item.marked or len(self.marks) >= self.need():
                    self.add(ui)  # a marked good's code may have come with its scan
        else:
            Screen.key(self, ui, k)

    def scan(self, ui, code):
        if self.price is None or not self.item.marked:
            raise ValueError(code)
        self.take_mark(code)
        if len(self.marks) >= self.need():
            self.add(ui)

    def take_mark(self, code):
        # KZ-7.1: a marking code (GS1: GTIN with its check digit, serial) of
        # this very good; a plain barcode or another good's code is refused
        from kkm import gs1

        gtin = gs1.mark_gtin(code)
        if gtin is None:
            raise D.DocumentError(T.E_MARK, None)
        it = self.item
        if not (gs1.same_gtin(gtin, it.gtin) or gs1.same_gtin(gtin, it.ntin)):
            raise D.DocumentError(T.E_MARK_GOODS, None)
        if code not in self.marks:  # the same code scanned twice counts once
            self.marks.append(code)

    def add(self, ui):
        add_line(ui, self.item.line(self.price, self.qty or 1000, marks=self.marks))
        ui.back()

    def body(self, ui):
        it = self.item
        name = it.name_kk if ui.lang == "kk" and it.name_kk else it.name
        if self.qty is None and self.weighed():
            prompt = "%s, %s:" % (ui.t(U.U_QTY), D.unit_name(it.unit, ui.lang))
        elif self.price is None:
            prompt = ui.t(U.U_PRICE)
        else:
            prompt = "%s %d/%d" % (ui.t(U.U_MARK), len(self.marks), self.need())
        return [name, prompt, "> " + ui.entry.s]


class Modifier(Screen):
    # a discount (or, after DISC again, a markup) of the last line, in tenge
    entry = True

    def __init__(self):
        self.markup = False

    def key(self, ui, k):
        if k == K.DISC:
            self.markup = not self.markup
        elif k == K.ENT:
            r = ui.reg.draft
            ln = r.lines[-1]
            v = ui.entry.money()
            old = (ln.discount, ln.markup)
            ln.discount, ln.markup = (0, v) if self.markup else (v, 0)
            try:
                ln.check(len(r.lines) - 1)
            except Exception:
                ln.discount, ln.markup = old
                raise
            ui.back()
        else:
            Screen.key(self, ui, k)

    def body(self, ui):
        r = ui.reg.draft
        ln = r.lines[-1]
        return [line_name(ln, ui.lang), ui.t(U.U_MARKUP if self.markup else U.U_DISCOUNT), "> " + ui.entry.s,
                "DISC: %s/%s" % (ui.t(U.U_DISCOUNT)[:-1], ui.t(U.U_MARKUP)[:-1])]


_KINDS = (K.CASH, D.PAY_CASH, K.CARD, D.PAY_CARD, K.MOBILE, D.PAY_MOBILE)


class Pay(Screen):
    # the amount typed (none: what is due) paid by the key's kind; cash
    # above the amount due is the change; a part leaves the rest due
    entry = True

    def key(self, ui, k):
        if k in (K.CASH, K.CARD, K.MOBILE):
            r = ui.reg.draft
            kind = _KINDS[_KINDS.index(k) + 1]
            amount = ui.entry.money() if ui.entry.s else r.total() - r.paid()
            ui.fiscal(ui.desk.pay(kind, amount), lambda res: ui.replace(Done(res, ui)))
        else:
            Screen.key(self, ui, k)

    def body(self, ui):
        r = ui.reg.draft
        return [ui.lv(U.U_TOTAL, r.total()), ui.lv(U.U_DUE, r.total() - r.paid()), "> " + ui.entry.s,
                ui.t(U.U_PAY_KEYS)]


class Done(Screen):
    # a fiscalised document: the change, its number, the autonomous mode and
    # the register's notices (KZ-29.2: the OFD unreachable, autonomous mode)
    # with what to do; any key goes on (a digit or a scan starts the next sale)
    def __init__(self, res, ui):
        doc = res.doc
        rec = isinstance(doc, D.Receipt)
        lines = [ui.t(U.U_DONE_RETURN if rec and D.is_return(doc.op) else U.U_DONE)]
        if rec and doc.change():
            lines.append(ui.lv(U.U_CHANGE, doc.change()))
        lines.append(ui.t(U.U_DOC_NO) % res.number)
        if res.offline:
            lines.append(ui.t(U.U_OFFLINE_DOC))
        for code in ui.notices():
            lines.append(ui.reg.lock_message(code, ui.lang))
            todo = U.todo(code, ui.lang)
            if todo:
                lines.append(todo)
        self.lines = S.lines_of(lines, ui.cols)

    def key(self, ui, k):
        ui.home()
        if k in K.ENTRY:
            ui.key(k)

    def scan(self, ui, code):
        ui.home()
        ui.scan(code)

    def body(self, ui):
        return self.lines
