# Menus and the screens behind them: cash in and out (KZ-27), reports (X,
# by cashier, by section: KZ-31), the copy of the last document, messages
# and locks with what to do (KZ-17, KZ-29.2), the administrator's settings
# (receipt language, National Catalogue rule, clock, token) and the
# service engineer's menu (token, set-aside of a document the OFD refused,
# connection test, journal self-test).

from compat import unix_from_civil
from kkm import auth as A
from kkm import layout
from kkm import locks as L
from kkm import texts as T
from ui import keys as K
from ui import screen as S
from ui import texts as U
from ui.screen import Screen


class Menu(Screen):
    # items: [(text code, action(ui), value(ui) or None)]; UP/DOWN and ENT,
    # or the item's digit
    arrows = True

    def __init__(self, items):
        self.items = items
        self.cursor = 0

    def key(self, ui, k):
        n = len(self.items)
        if k == K.UP:
            self.cursor = (self.cursor - 1) % n
        elif k == K.DOWN:
            self.cursor = (self.cursor + 1) % n
        elif k == K.ENT:
            self.items[self.cursor][1](ui)
        elif k in K.DIGITS and 1 <= int(k) <= n:
            self.cursor = int(k) - 1
            self.items[self.cursor][1](ui)
        else:
            Screen.key(self, ui, k)

    def body(self, ui):
        out = []
        for i in range(len(self.items)):
            code, action, value = self.items[i]
            s = "%d%s%s" % (i + 1, ">" if i == self.cursor else " ", ui.t(code))
            if value is not None:
                s = "%s: %s" % (s, value(ui))
            out.append(s)
        return out


class Info(Screen):
    # lines to read; any key goes back
    def __init__(self, lines, cols):
        self.lines = S.lines_of(lines, cols)

    def key(self, ui, k):
        ui.back()

    def body(self, ui):
        return self.lines


class Confirm(Screen):
    # ENT runs action(ui), ESC goes back
    def __init__(self, code, action):
        self.code = code
        self.action = action

    def key(self, ui, k):
        if k == K.ENT:
            ui.back()
            self.action(ui)
        elif k == K.ESC:
            ui.back()

    def body(self, ui):
        return [ui.t(self.code), ui.t(U.U_CONFIRM)]


def info(ui, *codes):
    ui.show(Info([ui.t(c) for c in codes], ui.cols))


# --- keys of the sale screen: X, Z, COPY ----------------------------------------

def report_key(ui, k):
    if k == K.X:
        x_report(ui)
    elif k == K.Z:
        ui.show(Confirm(U.U_Z_ASK, close_shift))
    elif k == K.COPY:
        copy(ui)


def x_report(ui):
    # KZ-31.4: through the sender (the OFD's X when it answers, else the own)
    ui.reg.x_counters()  # rights and locks, refused at the key
    ui.await_(ui.desk.x_report(), lambda zx: info(ui, U.U_X_REPORT, U.U_PRINTED))


def cashier_report(ui):
    ui.reg.cashier_report()
    info(ui, U.U_CASHIER_REPORT, U.U_PRINTED)


def section_report(ui):
    ui.reg.section_report()
    info(ui, U.U_SECTION_REPORT, U.U_PRINTED)


def copy(ui):
    ui.reg.copy_last()
    info(ui, U.U_COPY, U.U_PRINTED)


def close_shift(ui):
    # KZ-1.3: the shift close is its own mode, entered with the user's password
    ui.as_mode(A.MODE_SHIFT_CLOSE)
    try:
        pending = ui.desk.close_shift()
    except Exception:
        ui.base()
        raise

    def done(zx):
        ui.show(Info([ui.t(U.U_Z_DONE), "%s %d" % (T.text(T.L_SHIFT, ui.lang), zx["shift_number"])], ui.cols))

    ui.fiscal(pending, done, True)


class Amount(Screen):
    # cash in or out (KZ-27): the amount, ENT
    entry = True

    def __init__(self, code):
        self.code = code

    def key(self, ui, k):
        if k == K.ENT:
            from ui.sale import Done

            amount = ui.entry.money()
            desk = ui.desk
            pending = desk.deposit(amount) if self.code == U.U_DEPOSIT else desk.withdraw(amount)
            ui.fiscal(pending, lambda res: ui.replace(Done(res, ui)))
        else:
            Screen.key(self, ui, k)

    def body(self, ui):
        return [ui.t(self.code), ui.t(U.U_AMOUNT), "> " + ui.entry.s]


class Messages(Screen):
    # the locks in force with what to do, the register's notices, the OFD's
    # texts (KZ-17); leaving marks the texts shown
    def __init__(self):
        self.lines = None
        self.texts = []

    def body(self, ui):
        if self.lines is None:
            reg = ui.reg
            out = [ui.t(U.U_MESSAGES)]
            for code in reg.active_locks() + reg.notices:
                out.append(reg.lock_message(code, ui.lang))
                todo = U.todo(code, ui.lang)
                if todo:
                    out.append("> " + todo)
            self.texts = ui.new_texts()
            for kind, version, text in self.texts:
                out.append(text)
            if len(out) == 1:
                out.append(ui.t(U.U_NO_MESSAGES))
            self.lines = S.lines_of(out, ui.cols)
        return self.lines

    def key(self, ui, k):
        if k == K.ESC or k == K.ENT:
            t = ui.reg.ofd_texts
            if t is not None:
                from ofd.texts import SHOW

                for kind, version, text in self.texts:
                    t.done(kind, version, SHOW)
            ui.back()


def legend(ui):
    # the key legend on paper, in the cashier's language
    p = ui.reg.printer
    st = p.status()
    if st != "ok":
        raise L.Refused(L.NO_PAPER if st == "no_paper" else L.PRINTER_FAULT, None)
    p.print([(layout.NORMAL, s) for s in K.legend(ui.lang, p.width)])
    info(ui, U.U_LEGEND, U.U_PRINTED)


def messages(ui):
    ui.show(Messages())


def deposit(ui):
    ui.show(Amount(U.U_DEPOSIT))


def withdraw(ui):
    ui.show(Amount(U.U_WITHDRAW))


def logout(ui):
    ui.logout()


def sales_items(ui):
    items = [(U.U_DEPOSIT, deposit, None), (U.U_WITHDRAW, withdraw, None), (U.U_X_REPORT, x_report, None),
             (U.U_CASHIER_REPORT, cashier_report, None), (U.U_SECTION_REPORT, section_report, None),
             (U.U_COPY, copy, None), (U.U_MESSAGES, messages, None)]
    u = ui.reg.auth.current
    if u is not None and u[0].role == A.ROLE_ADMIN:
        items.append((U.U_SETTINGS, settings, None))
    items.append((U.U_LEGEND, legend, None))
    items.append((U.U_LOGOUT, logout, None))
    return items


# --- settings (administrator, service engineer: KZ-1.2 programming mode) ---------

_LANGS = ("kk", U.S_KK, "ru", U.S_RU, "kk+ru", U.S_BOTH)
_RULES = ("strict", U.U_STRICT, "soft", U.U_SOFT)


def _label(table, v):
    return table[table.index(v) + 1] if v in table else U.U_NONE


def _next(table, v):
    i = table.index(v) + 2 if v in table else 0
    return table[i % len(table)]


def _set(ui, changes):
    ui.in_mode(A.MODE_PROGRAMMING, ui.reg.change_settings, changes)


def receipt_lang(ui):
    _set(ui, {"lang": _next(_LANGS, ui.reg.settings.get("lang"))})


def catalogue_rule(ui):
    _set(ui, {"catalogue": _next(_RULES, ui.reg.settings.get("catalogue"))})


def settings(ui):
    ui.show(Menu([
        (U.U_RECEIPT_LANG, receipt_lang, lambda ui: ui.t(_label(_LANGS, ui.reg.settings.get("lang")))),
        (U.U_CATALOGUE, catalogue_rule, lambda ui: ui.t(_label(_RULES, ui.reg.settings.get("catalogue")))),
        (U.U_CLOCK, lambda ui: ui.show(Clock()), None),
        (U.U_TOKEN, lambda ui: ui.show(Token()), None),
    ]))


class Clock(Screen):
    # KZ-41, KZ-42, KZ-ND-32: the local date and time as DDMMYYYYhhmm; a
    # jump of more than a day is entered twice
    entry = True

    def __init__(self):
        self.confirm = None

    def key(self, ui, k):
        if k != K.ENT:
            Screen.key(self, ui, k)
            return
        s = ui.entry.s
        if len(s) != 12 or K.POINT in s:
            raise ValueError(s)
        d, mo, y, hh, mi = int(s[0:2]), int(s[2:4]), int(s[4:8]), int(s[8:10]), int(s[10:12])
        if not (1 <= d <= 31 and 1 <= mo <= 12 and hh < 24 and mi < 60):
            raise ValueError(s)
        ts = unix_from_civil(y, mo, d, hh, mi) - ui.reg.settings.get("tz_offset")
        ui.entry.clear()
        try:
            ui.in_mode(A.MODE_CLOCK, ui.reg.set_clock, ts, self.confirm)
        except L.Refused as e:
            if e.args[0] != L.E_CLOCK_CONFIRM:
                self.confirm = None
                raise
            self.confirm = ts
            return
        ui.replace(Info([ui.t(U.U_CLOCK), ui.t(U.U_SAVED)], ui.cols))

    def body(self, ui):
        return [ui.t(U.U_CLOCK_AGAIN if self.confirm else U.U_CLOCK), ui.t(U.U_CLOCK_FORMAT), "> " + ui.entry.s]


class Token(Screen):
    # KZ-41: the OFD's token, at any time; the sender tries again at once
    entry = True

    def key(self, ui, k):
        if k == K.ENT:
            n = ui.entry.number()
            _set(ui, {"token": n})
            ui.desk.kick()
            ui.replace(Info([ui.t(U.U_TOKEN), ui.t(U.U_SAVED)], ui.cols))
        else:
            Screen.key(self, ui, k)

    def body(self, ui):
        return [ui.t(U.U_TOKEN), "> " + ui.entry.s]


# --- the service engineer (KZ-10(3)) -----------------------------------------------

class Aside(Screen):
    # PROTOCOL.md section 13: the document the OFD refused heads the queue;
    # after analysis ENT sets it aside (the sender's set_aside, journalled) and
    # the queue goes on
    def key(self, ui, k):
        if k == K.ENT:
            ref = ui.desk.status().get("refusal")
            if ref is None:
                raise L.Refused(T.E_NOT_REFUSED, None)
            ui.desk.set_aside(ref[0])  # journalled; the queue goes on
            ui.replace(Info([ui.t(U.U_ASIDE), ui.t(U.U_SAVED)], ui.cols))
        else:
            Screen.key(self, ui, k)

    def body(self, ui):
        ref = ui.desk.status().get("refusal")
        if ref is None:
            return [ui.t(U.U_ASIDE), ui.t(U.U_NONE)]
        out = [ui.t(U.U_REFUSED_DOC), "%s %d" % (T.text(T.L_JOURNAL_NO, ui.lang), ref[0]),
               "%s %d" % (T.text(T.L_RESULT_CODE, ui.lang), ref[1])]
        if ref[2]:
            out.extend(S.lines_of([ref[2]], ui.cols))
        out.append(ui.t(U.U_CONFIRM))
        return out


def conn_test(ui):
    # KZ-2.4: a connection test now (Desk.test), its result on the screen
    def done(ok):
        info(ui, U.U_CONN_TEST, U.U_TEST_OK if ok else U.U_TEST_FAILED)

    ui.await_(ui.desk.test(), done)


def self_test(ui):
    # KZ-2.3: the journal's self-test (the register locks on a failure at
    # its next check, KZ-3.3)
    r = ui.reg.acc.self_test()
    lines = [ui.t(U.U_SELF_TEST), ui.t(U.U_TEST_OK if r.ok else U.U_TEST_FAILED)]
    if not r.ok and r.reason:
        lines.append(str(r.reason))
    ui.show(Info(lines, ui.cols))


def service_items():
    return [(U.U_TOKEN, lambda ui: ui.show(Token()), None), (U.U_ASIDE, lambda ui: ui.show(Aside()), None),
            (U.U_CONN_TEST, conn_test, None), (U.U_SELF_TEST, self_test, None), (U.U_SETTINGS, settings, None),
            (U.U_MESSAGES, messages, None), (U.U_LEGEND, legend, None), (U.U_LOGOUT, logout, None)]
