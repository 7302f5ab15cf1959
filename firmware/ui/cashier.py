# The cashier UI as a state machine: key(name) and scan(code) change the
# state at once (nothing awaited), frame() gives the lines to show. A fiscal
# document is issued at the key that completes it and its sign awaited by
# the app's UI task (work(): Desk.fiscal's awaitable, the live sign's
# countdown on the screen); the next keys wait for it. So does a scanned
# code the catalogue cache does not hold (Desk.lookup: the OFD is asked).
#
# Screens (ui.login, ui.sale, ui.returns, ui.menus) form a stack: ESC goes
# back. A refusal (a lock, bad input) is shown over the screen in the
# cashier's language with what to do; ESC, CLR or ENT takes it away and
# the screen under it is as it was: the open receipt and the typed digits
# are kept.

from compat import is_int
from kkm import auth as A
from kkm import document as D
from kkm import locks as L
from kkm import money
from kkm import texts as T
from ui import keys as K
from ui import screen as S
from ui import texts as U
from ui.entry import Entry


class Ui:
    def __init__(self, reg, desk, cols=20, rows=4, feed=None):
        # desk: app.Desk (issue and fiscalise documents, the OFD status);
        # feed(): paper feed, or None
        self.reg = reg
        self.desk = desk
        self.cols = cols
        self.rows = rows
        self.feed = feed
        lang = reg.settings.get("lang")
        self.lang = lang if lang == "ru" else "kk"  # the cashier's, chosen at login
        self.entry = Entry()
        self.stack = []
        self.screen = None
        self.creds = None  # (code, password, base mode) of the user logged in
        self.message = None  # lines of a refusal shown over the screen
        self.top = 0  # first body line shown (scrolling)
        self.job = None  # (awaitable, done, restore): an awaited step (work)
        self.says = None  # what the screen says while it is awaited
        self.running = False
        self.left = None  # seconds left of the live sign's wait
        self.status = {}  # the strip's status (app: refresh)
        self.locks = []  # lock codes in force (app: refresh)
        self.told = []  # notices shown (each once while it stands)
        self.fault = None  # the last unexpected exception, for the log
        self.typed = ""  # the entry before the last key or scan
        self.asked_time = False  # the clock screen came up for a lost RTC time
        from ui.login import Login

        self.show(Login())

    # --- text ---------------------------------------------------------------

    def t(self, code):
        return T.text(code, self.lang)

    def lv(self, code, amount):
        # "Label      1 234.00" fitted to the width
        label = self.t(code)
        value = amount if isinstance(amount, str) else money.fmt(amount)
        gap = self.cols - len(label) - len(value)
        if gap < 1:
            return value
        return label + " " * gap + value

    # --- screens -------------------------------------------------------------

    def show(self, scr):
        # a new screen over the current one
        if self.screen is not None:
            self.stack.append(self.screen)
        self.screen = scr
        self.entry.clear()
        self.top = 0

    def replace(self, scr):
        self.screen = None
        self.show(scr)

    def back(self):
        self.screen = self.stack.pop() if self.stack else self.screen
        self.entry.clear()
        self.top = 0

    def home(self):
        # the user's first screen: the sale, or the service menu
        if self.stack:
            self.screen = self.stack[0]
            self.stack = []
        self.entry.clear()
        self.top = 0

    # --- input -----------------------------------------------------------------

    def key(self, k):
        # -> False when the key was not taken (a document is being fiscalised)
        if self.job is not None:
            return False
        if self.message is not None:
            if k == K.ESC or k == K.CLR or k == K.ENT:
                self.message = None
                self.top = 0
            elif k == K.UP or k == K.DOWN:
                self._scroll(k, len(self.message))
            return True
        scr = self.screen
        typed = self.entry.s  # a refusal gives the typed digits back
        self.typed = typed
        try:
            if k in K.ENTRY and scr.entry:
                self.entry.key(k)
            elif k == K.CLR and self.entry.s:
                self.entry.clear()
            elif k == K.FEED and self.feed is not None:
                self.feed()
            elif (k == K.UP or k == K.DOWN) and not scr.arrows:
                self._scroll(k, len(scr.body(self)))
            else:
                scr.key(self, k)
        except Exception as e:
            self._refused_input(scr, typed, e)
        return True

    def scan(self, code):
        if self.job is not None:
            return False
        if self.message is not None:
            self.message = None
        scr = self.screen
        typed = self.entry.s
        self.typed = typed
        try:
            if not code:
                # the scanner read nothing whole (a partial read, noise)
                raise D.DocumentError(T.E_SCAN, None)
            scr.scan(self, code)
        except Exception as e:
            self._refused_input(scr, typed, e)
        return True

    def _refused_input(self, scr, typed, e):
        # the typed digits come back, a password does not
        self.entry.s = "" if scr.secret else typed
        self.refused(e)

    def _scroll(self, k, n):
        if k == K.UP:
            self.top = max(0, self.top - 1)
        elif self.top + self.rows - 1 < n:
            self.top += 1

    def refused(self, e):
        # the message of a refusal in the cashier's language, what to do, and the way back
        code = None
        if isinstance(e, (L.Refused, D.DocumentError)) and e.args and is_int(e.args[0]):
            code = e.args[0]
            detail = e.args[1] if len(e.args) > 1 else None
            text = self.reg.lock_message(code, self.lang, detail)
        elif isinstance(e, ValueError):
            text = self.t(U.U_BAD_ENTRY)
        else:
            self.fault = e
            text = self.t(U.U_FAULT)
        self.tell([text], code)

    def tell(self, texts, code=None):
        # a message over the screen (code: what to do about it is added)
        todo = None if code is None else U.todo(code, self.lang)
        if todo:
            texts = texts + [self.t(U.U_TODO), todo]
        self.message = S.lines_of(texts + [self.t(U.U_BACK)], self.cols)
        self.top = 0

    # --- modes (KZ-1.1 .. KZ-1.3: one password, the register's modes) ----------

    def login(self, code, password):
        # sales for a cashier or an administrator, service for the engineer
        u = self.reg.auth.users.get(code)
        mode = A.MODE_SERVICE if u is not None and u.role == A.ROLE_SERVICE else A.MODE_SALES
        self.reg.login(code, password, mode)
        self.creds = (code, password, mode)
        return mode

    def as_mode(self, mode):
        # the user logged in for `mode` (Z, programming, clock) with the
        # password given at login; base() goes back
        cur = self.reg.auth.current
        if cur is None or cur[1] != mode:
            self.reg.login(self.creds[0], self.creds[1], mode)

    def base(self):
        if self.creds is not None:
            self.as_mode(self.creds[2])

    def in_mode(self, mode, fn, *args):
        self.as_mode(mode)
        try:
            return fn(*args)
        finally:
            self.base()

    def logout(self):
        self.reg.logout()
        self.creds = None
        from ui.login import Login

        self.stack = []
        self.screen = None
        self.show(Login())

    # --- awaited steps: fiscal documents, the connection test -------------------

    def fiscal(self, pending, done, restore=False):
        # pending: from the desk (None: an amount is still due, nothing to
        # fiscalise); done(result) when the document is fiscalised;
        # restore: back to the base mode after it
        if pending is None:
            return
        try:
            aw = self.desk.fiscal(pending, self.tick)
        except Exception:
            if restore:
                self.base()
            raise
        self.await_(aw, done, restore)

    def await_(self, aw, done, restore=False, says=None):
        # aw: the awaitable the app's UI task awaits (work); says: the lines
        # shown meanwhile (None: testing)
        self.job = (aw, done, restore)
        self.says = says
        self.left = None

    def tick(self, seconds_left):
        self.left = seconds_left

    async def work(self):
        # the app's UI task runs the awaited step
        job = self.job
        if job is None or self.running:
            return
        self.running = True
        aw, done, restore = job
        try:
            res = await aw
        except Exception as e:
            self._end(restore)
            self.entry.s = self.typed  # as typed before the key that issued it
            self.refused(e)
            return
        self._end(restore)
        try:
            done(res)
        except Exception as e:
            self.refused(e)

    def _end(self, restore):
        self.job = None
        self.says = None
        self.running = False
        self.left = None
        if restore:
            try:
                self.base()
            except Exception as e:
                self.refused(e)

    # --- what the app refreshes ---------------------------------------------------

    def refresh(self, status, locks):
        # the strip's status and the locks in force; a new text from the OFD
        # comes up on the screen when the cashier is idle (KZ-17)
        self.status = status
        self.locks = locks
        if L.CLOCK_LOST not in locks:
            self.asked_time = False
        if self.job is None and self.message is None and self.creds is not None and not self.stack \
                and self.reg.draft is None and not self.entry.s:
            if self.new_texts():
                from ui.menus import Messages

                self.show(Messages())
            elif L.CLOCK_LOST in locks and not self.asked_time and self._may_set_clock():
                # KZ-41: the RTC lost its time: the register asks for it once
                # (again from MENU); with a shift open the Z comes first
                from ui.menus import Clock

                self.asked_time = True
                self.show(Clock())

    def _may_set_clock(self):
        u = self.reg.auth.users.get(self.creds[0])
        return u is not None and u.role != A.ROLE_CASHIER and not self.reg.shift_open

    def new_texts(self):
        t = self.reg.ofd_texts
        if t is None:
            return []
        from ofd.texts import SHOW

        return t.pending(SHOW)

    def notices(self):
        # the register's notices not shown yet (each once while it stands)
        now = self.reg.notices
        self.told = [c for c in self.told if c in now]
        new = [c for c in now if c not in self.told]
        self.told.extend(new)
        return new

    # --- the display ------------------------------------------------------------------

    def body(self):
        if self.job is not None:
            if self.left is not None:
                return [self.t(U.U_WAIT_OFD) % self.left]
            return self.says or [self.t(U.U_TESTING)]
        if self.message is not None:
            return self.message
        return self.screen.body(self)

    def frame(self):
        body = self.body()
        top = self.top
        cur = self.screen.cursor if self.message is None and self.job is None else None
        if cur is not None:
            # a list screen: its cursor line is always in view
            n = self.rows - 1
            if cur < top:
                top = cur
            elif cur >= top + n:
                top = cur - n + 1
            self.top = top
        return S.frame(S.strip(self.status, self.lang, self.cols), body, self.cols, self.rows, top)
