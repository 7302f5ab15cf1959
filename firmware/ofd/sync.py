# When to talk to the OFD (PROTOCOL.md section 13, KZ-2.4, KZ-29, KZ-30,
# the connection scheduler of the device's idle loop. Pure and
# clock-driven: no threads, no sleeping; the caller calls tick() from its
# idle loop and reads status() for the display.
#
#   s = OfdSync(reg, port=None, interval=None, batch=4, now=None)
#       reg: kkm.register.Register; port: its ofd.port.OfdPort (reg.ofd);
#       interval: the retry interval in seconds, at least MIN_INTERVAL
#       (ValueError below it); None: the register's setting retry_s, read
#       again at every tick (a change applies from the next attempt
#       planned); batch: documents sent per tick at most;
#       now(): integer seconds of the schedule (default the register's clock)
#   s.tick()    -> None, or what it did: "test", "probe", "replay",
#               "catalogue" (the cache's version check, kkm.catalog)
#   s.note()    take in the port's last exchange now (the register's own
#               document or X report): the retry clock starts at the
#               failure, not at the next tick; status() does it too
#   s.kick()    the situation changed (an operator's "send now", a setting
#               fixed after analysis, a refused document set aside by the
#               service engineer, Register.set_aside): the next tick tries
#               at once, also a document the OFD refused (a set-aside alone
#               does it too: the queue's head changed)
#   s.retest()  the next tick runs the connection test again (KZ-2: the
#               self-test also runs when the Z report is taken)
#   s.status()  -> dict for the display (see status())
#   s.test      None until the first tick, then the power-on connection
#               test's result: "ok", "failed" or "not_sent"; s.test_code
#               the result code of its answer (None: no answer)
#
# Rules:
# - the first tick is the power-on connection test (KZ-2.4): COMMAND_SYSTEM
#   through port.probe(); when a document still waits for its answer the
#   port sends no probe, and the test is that document's resend (section
#   13: the last unanswered command first, with the offline period). A
#   failed test locks nothing (REQUIREMENTS.md note under KZ-3): the
#   register simply works offline;
# - an exchange that failed (no answer, 254/255, 6/7) starts the retry
#   clock: the next attempt is one interval after the failure, and one
#   interval after every failed attempt; while the queue is not empty the
#   attempt is Register.replay(batch) (the port adds the offline period,
#   KZ-30.1; documents go in journal order, KZ-30.2), with an empty queue a
#   COMMAND_SYSTEM probe (the idle break) carrying the offline period from
#   the first failure (the port keeps it: OfdPort.offline_since); after a success the
#   rest of the queue goes on the next ticks, batch documents per tick;
# - result 15 (OFD_SUSPEND) and 1 (DATA_MISMATCH): the server block; a
#   probe with reg_info every interval (while a document is owed an answer,
#   e.g. a Z closed under the block, the port sends no probe: that document
#   goes again instead); a result 0 ends the lock (the port does that) and
#   the queue follows in order;
# - result 2 (INVALID_TOKEN): the port sends nothing until a token is
#   entered; nothing is tried until the lock is gone (a code 2 for an older
#   token, the one a document owed an answer was sent with before a token
#   was entered, sets no lock: the document goes again at once);
# - 8, 9 (request number or token of the session) and 11 (the shift's
#   time): nothing against the document; it goes again after the interval;
# - any other refusing code for a queued document: BLOCKED; that document
#   is not sent again until kick(), a reboot or the queue's head changes
#   (no retry storm; section 13: until the message is dealt with; the
#   service engineer sets it aside after analysis, Register.set_aside, and
#   the queue goes on with the next document at the next tick). A
#   refusal the register's own exchange got is taken for the queue's head
#   when documents wait (a live document refused joins the queue's head;
#   the register sends an X report only when nothing waits).
# Each tick makes at most one probe or one replay of at most batch
# documents, and nothing while a receipt is being entered (reg.draft): an
# exchange may take the whole transaction time (5 s).

from compat import const
from kkm import locks as L
from ofd import client as cl

MIN_INTERVAL = const(60)  # PROTOCOL.md section 13: retry interval >= 60 s
AGAIN_CODES = (8, 9, 11)  # refusals that say nothing against the document (_observe)

ONLINE = "online"
OFFLINE = "offline"
SERVER_BLOCKED = "server_blocked"
BLOCKED = "blocked"

TEST_OK = "ok"
TEST_FAILED = "failed"
TEST_NOT_SENT = "not_sent"


class OfdSync:
    def __init__(self, reg, port=None, interval=None, batch=4, now=None):
        if interval is not None and (not isinstance(interval, int) or interval < MIN_INTERVAL):
            raise ValueError("interval", interval)
        if not isinstance(batch, int) or batch < 1:
            raise ValueError("batch", batch)
        self.reg = reg
        self.port = port if port is not None else reg.ofd
        self.fixed = interval  # None: the setting retry_s
        self.interval = MIN_INTERVAL
        self._period()
        self.batch = batch
        self.now = now if now is not None else reg.clock.now
        self.test = None
        self.test_code = None
        self.failing = True  # no exchange known to work yet
        self.since = None  # register time of the first failure (offline since)
        self.due = None  # schedule time of the next attempt, None: not waiting
        self.stuck = None  # journal seq of a queued document the OFD refused
        self.code = None  # result code of the last answer (None: no answer)
        self.seen = self.port.last  # the last Outcome looked at

    # --- what the register and the port say ----------------------------------

    def _period(self):
        # the retry interval: the one given, else the register's setting
        v = self.fixed
        if v is None:
            v = self.reg.settings.get("retry_s")
            if not isinstance(v, int) or v < MIN_INTERVAL:
                v = MIN_INTERVAL
        self.interval = v
        return v

    def _queued(self):
        return self.reg.acc.oldest_unacked_ts() is not None

    def _lock(self):
        # the port's lock that decides the mode, or None
        lk = self.reg.locks
        if lk.is_set(L.INVALID_TOKEN):
            return L.INVALID_TOKEN
        if lk.is_set(L.OFD_SUSPEND):
            return L.OFD_SUSPEND
        if lk.is_set(L.DATA_MISMATCH):
            return L.DATA_MISMATCH
        return None

    def mode(self):
        lock = self._lock()
        if lock == L.INVALID_TOKEN:
            return BLOCKED
        if lock is not None:
            return SERVER_BLOCKED
        if self.stuck is not None and self._stuck():
            return BLOCKED
        if self.failing or self._queued():
            # documents wait, or the last exchange failed: a new document goes
            # behind a non-empty queue (autonomous sign); with an empty queue
            # the register still tries it live (Register._send)
            return OFFLINE
        return ONLINE

    def _stuck(self):
        # the refused document still heads the queue?
        if self.reg.acc.first_unacked() == self.stuck:
            return True
        self.stuck = None  # the situation changed
        return False

    def _observe(self, t, mine=False, doc=True):
        # take in the port's last Outcome if it is new (an exchange of ours,
        # mine=True, doc: a document; or of the register: a live document,
        # an X report)
        out = self.port.last
        if out is None or out is self.seen:
            return None
        self.seen = out
        self.code = out.code
        st = out.status
        if st == cl.OK:
            self.failing = False
            self.since = None
            self.due = None
        elif st == cl.BLOCKED and out.code in AGAIN_CODES and self._lock() is None:
            # the link works and the document is not at fault: the session's
            # request number or token did not match (8, 9; the client takes
            # a new number next time), or the OFD still counts the shift as
            # open (11, "not returned for offline replay"): the same
            # document again after the retry interval, never stuck
            self.failing = False
            self.due = t + self.interval
        elif st != cl.BLOCKED or self._lock() is not None:
            # no answer, 254/255, 6/7; or the server block: the retry clock
            # runs from the first failure, and from each attempt of ours
            if self.since is None:
                self.since = self.reg.clock.now()
            if not self.failing or mine or self.due is None:
                self.due = t + self.interval
            self.failing = True
        else:
            # refused (section 13: BLOCKED): the link works; a queued
            # document (ours, or the register's live one now at the head of
            # the queue) is not sent again until the situation changes
            # A code 2 without the INVALID_TOKEN lock refused an older token
            # (a document owed an answer keeps the token it was sent with; a
            # token was entered since, ofd.port): no refusal of the document,
            # it goes again at once with the entered token
            self.failing = False
            self.due = None
            head = self.reg.acc.first_unacked()
            if head is not None and doc and out.code != 2:
                self.stuck = head
        return out

    # --- the idle loop ------------------------------------------------------

    def note(self):
        self._period()
        self._observe(self.now())

    def retest(self):
        self.test = None
        self.test_code = None

    def kick(self):
        self.stuck = None
        self.due = None

    def tick(self):
        reg = self.reg
        if reg.draft is not None:
            return None  # the cashier is entering a receipt
        t = self.now()
        self._period()
        self._observe(t)
        if self.test is None:
            return self._power_on(t)
        if self.due is not None:
            if t < self.due - self.interval:
                self.due = t + self.interval  # the clock went back
            if t < self.due:
                return None
        lock = self._lock()
        if lock == L.INVALID_TOKEN:
            self.due = None  # nothing can be sent until a token is entered
            return None
        if lock is not None:
            return self._probe(t)  # server block: COMMAND_SYSTEM with reg_info
        if self._queued():
            if self.stuck is not None and self._stuck():
                self.due = None
                return None
            return self._replay(t)
        if self.failing:
            return self._probe(t)  # the idle break
        return self._catalogue()

    def _catalogue(self):
        # online and idle: the National Catalogue cache's daily version check
        reg = self.reg
        if getattr(reg, "catalog", None) is None:
            return None  # nothing cached yet
        from kkm import catalog

        now = reg.clock.now()
        if not catalog.version_due(reg, now):
            return None
        catalog.check_version(reg, now)
        return "catalogue"

    def _power_on(self, t):
        # KZ-2.4: the connection test; the outcome is kept, never a lock
        before = self.port.last
        out = self.port.probe(True)
        doc = False
        if out is None and self._queued():
            doc = True
            self.reg.replay(1)  # the unanswered document first (section 13)
            out = self.port.last
            if out is before:
                out = None
        if out is None:
            self.test = TEST_NOT_SENT
            if self.due is None:
                self.due = t + self.interval
            return "test"
        self._observe(t, True, doc)
        self.test = TEST_OK if out.status == cl.OK else TEST_FAILED
        self.test_code = out.code
        return "test"

    def _probe(self, t):
        # the idle break and the server block: the offline period from the
        # first failure (PROTOCOL.md section 13)
        if self.port.probe(True) is None:
            if self.port.owed():
                # a document holds the session (e.g. a Z closed under the
                # server block whose answer was lost): the port sends no
                # probe before it, so it goes again alone (section 13: the
                # last unanswered command first; it heads the queue)
                return self._replay(t, 1)
            self.due = t + self.interval  # the port would not send: later
            return None
        self._observe(t, True, False)
        return "probe"

    def _replay(self, t, batch=0):
        reg = self.reg
        before = self.port.last
        n = reg.replay(batch or self.batch)
        if self.port.last is before:
            self.due = t + self.interval  # nothing was sent (a lock, no room)
            return None
        out = self._observe(t, True)
        if n == 0 and out.status == cl.OK:
            self.due = t + self.interval  # answered, but the ACK did not fit
        return "replay"

    # --- for the display ----------------------------------------------------

    def status(self):
        # mode: ONLINE, OFFLINE, SERVER_BLOCKED or BLOCKED; test: the power-on
        # test; queue: documents waiting; next: seconds to the next attempt
        # (0: the next tick; None: none planned); code: the last result code;
        # lock: the port's lock (INVALID_TOKEN, OFD_SUSPEND, DATA_MISMATCH) or
        # None; stuck: the refused document's journal seq; since: offline
        # since (register time); oldest: time of the oldest unsent document;
        # lock_in: seconds until the 72 h lock (KZ-29.6, R-81), None when
        # nothing waits; refusal: the port's last refusal of a document
        # (seq, code, text) or None (ofd.port; Register.set_aside)
        reg = self.reg
        self.note()
        now = reg.clock.now()
        oldest = reg.acc.oldest_unacked_ts()
        mode = self.mode()
        nxt = None
        if mode == BLOCKED:
            pass  # nothing is tried until the situation changes
        elif self.due is not None:
            nxt = max(0, self.due - self.now())
        elif self.test is None or (self._queued() and not self.failing):
            nxt = 0
        return {
            "mode": mode,
            "test": self.test,
            "queue": reg.acc.unacked_count(),
            "next": nxt,
            "code": self.code,
            "lock": self._lock(),
            "stuck": self.stuck,
            "since": self.since,
            "oldest": oldest,
            "lock_in": None if oldest is None else max(0, L.SECONDS_72H - (now - oldest)),
            "refusal": getattr(self.port, "refusal", None),
        }
