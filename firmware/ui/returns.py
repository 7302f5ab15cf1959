# A return (R-30, KZ-15) found by what is on the buyer's paper: its fiscal
# sign or autonomous number typed, its QR code scanned, or its shift and
# number typed as "shift.number" (kkm.returns finds it in the journal).
# Then what goes back: ENT all that is left, or a quantity and QTY for the
# line under the cursor; PAY refunds by the original's payment types.

from kkm import document as D
from kkm import money
from kkm import texts as T
from ui import keys as K
from ui import texts as U
from ui.screen import Screen
from ui.sale import Done, line_name


class ReturnKey(Screen):
    entry = True

    def key(self, ui, k):
        if k == K.ENT:
            s = ui.entry.s
            shift, _, number = s.partition(K.POINT)
            if number:
                ui.reg.open_return(int(shift), int(number))
            else:
                ui.reg.open_return(s)
            ui.entry.clear()
            ui.replace(ReturnLines())
        else:
            Screen.key(self, ui, k)

    def scan(self, ui, code):
        ui.reg.open_return(code)  # the QR code's text
        ui.replace(ReturnLines())

    def body(self, ui):
        return [ui.t(U.U_RETURN), ui.t(U.U_RETURN_KEY), "> " + ui.entry.s]


class ReturnLines(Screen):
    entry = True
    arrows = True

    def __init__(self):
        self.i = 0  # the original's line under the cursor

    def key(self, ui, k):
        reg = ui.reg
        n = len(reg.returnable.orig.lines)
        if k == K.UP:
            self.i = max(0, self.i - 1)
        elif k == K.DOWN:
            self.i = min(n - 1, self.i + 1)
        elif k == K.ENT:
            reg.return_line()  # all that is left of every line
        elif k == K.QTY:
            reg.return_line(self.i, ui.entry.qty())
        elif k == K.PAY:
            if not reg.draft.lines:
                raise D.DocumentError(T.E_NO_LINES, None)
            ui.fiscal(ui.desk.refund(), lambda res: ui.replace(Done(res, ui)))
        elif k == K.ESC:
            reg.abandon()
            ui.back()

    def body(self, ui):
        # the original's line under the cursor (UP/DOWN), the return's total, the entry
        reg = ui.reg
        lines = reg.returnable.orig.lines
        ln = lines[self.i]
        return ["%d/%d %s x%s" % (self.i + 1, len(lines), line_name(ln, ui.lang),
                                  money.qty_text(ln.qty_milli, D.is_measured(ln.unit_code))),
                ui.lv(U.U_TOTAL_RETURN, reg.draft.total()), "> " + ui.entry.s, ui.t(U.U_RETURN_ALL),
                ui.t(U.U_RETURN_QTY)]
