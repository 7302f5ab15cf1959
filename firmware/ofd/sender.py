# The sender: the one asyncio task that talks to the OFD (PROTOCOL.md
# section 13, KZ-2.4, KZ-29, KZ-30, R-81). It owns the queue of documents
# the OFD has not acknowledged, sends a live document, and hands every
# answer to the register (settle, acknowledge); the register never waits
# on the network.
#
#   s = Sender(reg, port, interval=None, batch=4, now=None, ticks_ms=None, sleep_ms=None)
#       port: ofd.port.OfdPort bound to reg; interval: the retry interval
#       in seconds, at least MIN_INTERVAL (None: the setting retry_s, read
#       at every step); now(): seconds of the schedule (the register's
#       clock); ticks_ms(), await sleep_ms(ms): the live budget's clock
#   await s.run()            the task: step(), then sleep until the next is due
#   await s.step()           one scheduling step -> None or what it did:
#                            "test", "probe", "replay", "catalogue"
#   await s.live(iss, on_tick=None) -> kkm Fiscalised (a Z: its report)
#   await s.x_report(lang=None)      -> the printed X (the OFD's or own)
#   await s.replay(limit)    -> documents acknowledged (journal order)
#   await s.probe()          -> Outcome or None: a connection test now
#   await s.catalogue_item(code)     -> kkm.catalog Item (S000-1): the cache,
#                            else the OFD by barcode; Refused E_NKT_...
#   s.set_aside(seq, lang=None)      a refused head leaves the queue
#   s.kick(), s.retest(), s.status(), s.test, s.test_code
#   s.idle()                 no exchange under way or due now: other
#                            traffic (the fleet's telemetry) may use the channel
#
# Rules:
# - a live document goes at once only when the queue was empty before it
#   (Issued.queued; nothing overtakes the queue, KZ-30.2; the port sends
#   nothing while the token is refused); the cashier waits at most the budget (the settings' total
#   transaction time, >= 5 s), on_tick(seconds left) about once a second
#   for the countdown; then it is settled with the OFD's sign, or with the
#   autonomous sign (a lost answer: its resend keeps TOKEN and REQNUM and
#   says offline, ofd.port);
# - the first step is the power-on connection test (KZ-2.4): COMMAND_SYSTEM;
#   when a document still waits for its answer the port sends no probe and
#   the test is that document's resend. A failed test locks nothing (note
#   under KZ-3): the register works offline;
# - a failed exchange (no answer, 254/255, 6/7) starts the retry clock: the
#   next attempt one interval after each failure; with documents queued it
#   is a replay of at most batch documents in journal order (the offline
#   period from offline_since, KZ-30.1), with none a probe (the idle break);
#   after a success the rest of the queue goes on the next steps;
# - 15 (OFD_SUSPEND) and 1 (DATA_MISMATCH), the server block: a probe with
#   reg_info every interval (a document owed an answer goes instead); the
#   port ends the lock on a result 0;
# - 2 (INVALID_TOKEN): nothing is sent until a token is entered;
# - 8, 9 (the session's request number or token) and 11 (the shift's
#   time): nothing against the document, it goes again after the interval;
# - any other refusal of a queued document: it is stuck at the head until
#   kick(), a reboot or the head changes; set_aside removes it from the
#   queue after analysis (a service engineer; not for KEEP_CODES);
# - online and idle: the National Catalogue cache's daily version check
#   (COMMAND_NOMENCLATURE by version; a newer catalogue refreshes the cache).

from compat import const, ticks_diff
from compat import ticks_ms as _ticks_ms
from kkm import locks as L
from kkm import texts as T
from kkm.records import KIND
from ofd import client as cl

try:
    import asyncio
except ImportError:  # pragma: no cover - older MicroPython
    import uasyncio as asyncio

MIN_INTERVAL = const(60)  # PROTOCOL.md section 13: retry interval >= 60 s
POLL_MS = const(50)  # a live document's wait: how often the answer is looked for
IDLE_MS = const(1000)  # run(): the longest sleep between steps
AGAIN_CODES = (8, 9, 11)  # refusals that say nothing against the document
# result codes a document is never set aside for: 0 accepted; 254, 255, 6,
# 7 (no verdict: retried); 2 (ends with a token entered); 1, 15 (the
# server block, ends with a result 0); AGAIN_CODES (sent again)
KEEP_CODES = (0, 1, 2, 6, 7, 8, 9, 11, 15, 254, 255)
_NOT_FOUND = const(18)  # ELEMENT_NOT_FOUND_BY_BARCODE: no such code in the catalogue
# NomenclatureResponse results (PROTOCOL.md section 10)
_NKT_OK = const(0)
_NKT_ACTUAL = const(1)

ONLINE = "online"
OFFLINE = "offline"
SERVER_BLOCKED = "server_blocked"
BLOCKED = "blocked"

TEST_OK = "ok"
TEST_FAILED = "failed"
TEST_NOT_SENT = "not_sent"


def _nomenclature(out):
    # the nomenclature block of an accepted answer, or None
    if out is None or out.code != 0 or not out.response:
        return None
    return out.response.get("nomenclature")


async def _sleep_ms(ms):
    await asyncio.sleep(ms / 1000)


class Sender:
    def __init__(self, reg, port, interval=None, batch=4, now=None, ticks_ms=None, sleep_ms=None):
        if interval is not None and (not isinstance(interval, int) or interval < MIN_INTERVAL):
            raise ValueError("interval", interval)
        if not isinstance(batch, int) or batch < 1:
            raise ValueError("batch", batch)
        self.reg = reg
        self.port = port
        self.fixed = interval  # None: the setting retry_s
        self.interval = MIN_INTERVAL
        self._period()
        self.batch = batch
        self.now = now if now is not None else reg.clock.now
        self.ticks_ms = ticks_ms if ticks_ms is not None else _ticks_ms
        self.sleep_ms = sleep_ms if sleep_ms is not None else _sleep_ms
        self.busy = False  # an exchange is under way: one at a time (one session)
        self.test = None
        self.test_code = None
        self.failing = True  # no exchange known to work yet
        self.since = None  # register time of the first failure
        self.due = None  # schedule time of the next attempt, None: not waiting
        self.stuck = None  # journal seq of a queued document the OFD refused
        self.code = None  # result code of the last answer (None: no answer)

    # --- what the register and the port say ----------------------------------

    def _period(self):
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
        for code in (L.INVALID_TOKEN, L.OFD_SUSPEND, L.DATA_MISMATCH):
            if lk.is_set(code):
                return code
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
            return OFFLINE
        return ONLINE

    def _stuck(self):
        # the refused document still heads the queue?
        if self.reg.acc.first_unacked() == self.stuck:
            return True
        self.stuck = None  # the situation changed
        return False

    def _observe(self, out, t, mine=True, doc=True):
        # take in an exchange's Outcome (mine: the scheduler's own attempt;
        # doc: about a document)
        if out is None:
            return
        self.code = out.code
        st = out.status
        if st == cl.OK:
            self.failing = False
            self.since = None
            self.due = None
        elif st == cl.BLOCKED and out.code in AGAIN_CODES and self._lock() is None:
            # the link works and the document is not at fault: again after
            # the retry interval, never stuck
            self.failing = False
            self.due = t + self.interval
        elif st != cl.BLOCKED or self._lock() is not None:
            # no answer, 254/255, 6/7, or the server block: the retry clock
            # runs from the first failure and from each attempt of ours
            if self.since is None:
                self.since = self.reg.clock.now()
            if not self.failing or mine or self.due is None:
                self.due = t + self.interval
            self.failing = True
        else:
            # refused (section 13: BLOCKED): the queue's head is not sent
            # again until the situation changes; a code 2 without the lock
            # refused an older token (ofd.port): the document goes again
            self.failing = False
            self.due = None
            head = self.reg.acc.first_unacked()
            if head is not None and doc and out.code != 2:
                self.stuck = head

    # --- a live document --------------------------------------------------------

    async def live(self, iss, on_tick=None):
        # see the header; -> what Register.settle returns
        reg = self.reg
        self._period()
        if iss.queued:
            return reg.settle(iss, None)
        budget = self.port.budget_ms()
        start = self.ticks_ms()
        t0 = reg.clock.now()
        box = []

        async def send():
            while self.busy:  # a probe under way: it ends within its budget
                await self.sleep_ms(POLL_MS)
            box.append(await self._exchange(self.port.send, iss.kind, iss.seq, iss.payload, True))

        task = asyncio.create_task(send())
        await asyncio.sleep(0)  # a client that does not suspend answers here
        shown = None
        while not box:
            left = budget - ticks_diff(self.ticks_ms(), start)
            if left <= 0:
                # the budget is spent: the session keeps the request owed, its
                # resend keeps TOKEN and REQNUM and says offline (ofd.port)
                task.cancel()
                self.busy = False
                self.port.no_answer(t0)
                box.append(cl.Outcome(cl.RETRY, "timeout"))
                break
            n = (left + 999) // 1000
            if on_tick is not None and n != shown:
                shown = n
                on_tick(n)
            await self.sleep_ms(min(left, POLL_MS))
        out = box[0]
        self._observe(out, self.now(), False)
        res = reg.settle(iss, self.port.accepted(out, iss.kind, iss.seq, iss.payload))
        reg.print_ofd_texts()
        return res

    # --- the X report (KZ-31.4) ---------------------------------------------------

    async def x_report(self, lang=None, channels=None):
        # the register's X goes to the OFD when nothing is queued; the OFD's
        # X is printed when it answers with one, else the register's own;
        # channels: see Register.print_x
        reg = self.reg
        zx = reg.x_counters()
        srv = None
        if not reg.acc.unacked_count() and not self.busy:
            out = await self._exchange(self.port.report_x, zx)
            self._observe(out, self.now(), False, False)
            srv = self.port.server_x(out)
            out = None  # the rest of the answer, before the paper is laid out
        if srv is not None:
            zx = None
            return reg.print_x(srv, "ofd", lang, channels)
        return reg.print_x(zx, "own", lang, channels)

    # --- the queue ---------------------------------------------------------------

    async def replay(self, limit=100):
        # unacknowledged documents in journal order; stops at the first not
        # accepted (KZ-30.2) -> how many were acknowledged
        reg = self.reg
        port = self.port
        n = 0
        for seq in reg.acc.unacked(limit):
            rec = reg.queued(seq)
            if rec is None:
                break
            kind = KIND[rec[0]]
            out = await self._exchange(port.send, kind, seq, rec[1])
            ans = port.accepted(out, kind, seq, rec[1])
            if ans is None or not reg.acknowledge(seq, ans):
                break
            n += 1
            await asyncio.sleep(0)  # the keys and the display between documents, whatever the channel
        reg.print_ofd_texts()  # texts that came with the answers (KZ-17)
        return n

    def set_aside(self, seq, lang=None):
        # the queue's head the OFD refused (the port's refusal names it),
        # after analysis: Register.set_aside journals it; the queue goes on
        ref = self.port.refusal
        if ref is None or ref[0] != seq or ref[1] in KEEP_CODES:
            raise L.Refused(T.E_NOT_REFUSED, seq)
        lines = self.reg.set_aside(seq, ref[1], ref[2], lang)
        self.port.refusal = None
        self.kick()
        return lines

    # --- the schedule ------------------------------------------------------------

    def retest(self):
        self.test = None
        self.test_code = None

    def kick(self):
        self.stuck = None
        self.due = None

    def idle(self):
        if self.busy or self.test is None:
            return False
        if self.due is not None:
            return self.now() < self.due  # waiting out the retry interval
        return self.mode() == BLOCKED or not self._queued()

    async def run(self):
        while True:
            await self.step()
            nxt = self.status()["next"]
            await self.sleep_ms(IDLE_MS if nxt is None or nxt > 1 else max(nxt * 1000, POLL_MS))

    async def step(self):
        if self.busy:
            return None  # a live document or an X report is under way
        t = self.now()
        self._period()
        if self.test is None:
            return await self._power_on(t)
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
            return await self._probe(t)  # server block: COMMAND_SYSTEM with reg_info
        if self._queued():
            if self.stuck is not None and self._stuck():
                self.due = None
                return None
            return await self._replay(t)
        if self.failing:
            return await self._probe(t)  # the idle break
        return await self._catalogue()

    # --- the National Catalogue (S000-1) -------------------------------------------

    async def catalogue_item(self, code):
        # the Item of a scanned GTIN/NTIN: the cache, else the OFD's answer
        # by barcode (then cached). Refused: E_NKT_CODE (not a GTIN/NTIN),
        # E_NKT_UNKNOWN (result 18), E_NKT_NO_ANSWER (not sent, no answer
        # or another refusal)
        from kkm import catalog

        reg = self.reg
        it = reg.catalogue_item(code)
        if it is not None:
            return it
        while self.busy:  # an exchange under way: it ends within its budget
            await self.sleep_ms(POLL_MS)
        out = await self._exchange(self.port.nomenclature, code)
        self._link(out)
        if out is not None and out.code == _NOT_FOUND:
            raise L.Refused(catalog.E_NKT_UNKNOWN, code)
        n = _nomenclature(out)
        if n is not None and n.get("result") == _NKT_OK:
            it = catalog.learn(reg, code, n.get("version"), n.get("elements") or ())
            if it is not None:
                return it
        raise L.Refused(catalog.E_NKT_NO_ANSWER, code)

    async def _catalogue(self):
        # online and idle: the National Catalogue cache's daily version check,
        # not under a receipt being entered (its lines come from the cache)
        reg = self.reg
        c = reg.catalog
        if c is None or reg.draft is not None:
            return None  # nothing cached yet
        from kkm import catalog

        now = reg.clock.now()
        if not catalog.version_due(reg, now):
            return None
        out = await self._exchange(self.port.nomenclature, None, c.version)
        self._link(out)
        if out is None or out.code is None:
            return None  # not sent or no answer: again once the link is back
        c.checked = now  # answered, refused included: again in VERSION_EVERY
        n = _nomenclature(out)
        if n is not None and n.get("result") != _NKT_ACTUAL:
            # a newer catalogue (its elements), or the OFD does not know our
            # version (NO_VERSION): what is cached is not to be trusted
            c.refresh(n.get("version", 0), n.get("elements") or () if n.get("result") == _NKT_OK else ())
        return "catalogue"

    def _link(self, out):
        # a catalogue exchange tells about the link, never about a document:
        # a failure starts the retry clock, a refusal leaves the queue alone
        if out is not None and out.status != cl.BLOCKED:
            self._observe(out, self.now(), False, False)

    async def _exchange(self, fn, *args):
        # one exchange of the port's at a time -> its Outcome or None (not
        # sent, or the link failed: no answer, KZ-29)
        if self.busy:
            return None
        self.busy = True
        try:
            return await fn(*args)
        except Exception:
            return None
        finally:
            self.busy = False

    async def probe(self):
        # COMMAND_SYSTEM now (also the service engineer's connection test)
        # -> Outcome or None (not sent: a document holds the session, ...)
        out = await self._exchange(self.port.probe, True)
        self.reg.print_ofd_texts()  # KZ-17: a text is printed when received
        return out

    async def _power_on(self, t):
        # KZ-2.4: the connection test; the outcome is kept, never a lock
        out = await self.probe()
        doc = False
        if out is None and self._queued():
            doc = True
            before = self.port.last
            await self.replay(1)  # the unanswered document first (section 13)
            out = self.port.last
            if out is before:
                out = None
        if out is None:
            self.test = TEST_NOT_SENT
            if self.due is None:
                self.due = t + self.interval
            return "test"
        self._observe(out, t, True, doc)
        self.test = TEST_OK if out.status == cl.OK else TEST_FAILED
        self.test_code = out.code
        return "test"

    async def _probe(self, t):
        # the idle break and the server block: the offline period from the
        # first failure (PROTOCOL.md section 13)
        out = await self.probe()
        if out is None:
            if self.port.owed():
                # a document holds the session: it goes again alone (the
                # last unanswered command first; it heads the queue)
                return await self._replay(t, 1)
            self.due = t + self.interval  # the port would not send: later
            return None
        self._observe(out, t, True, False)
        return "probe"

    async def _replay(self, t, batch=0):
        before = self.port.last
        n = await self.replay(batch or self.batch)
        out = self.port.last
        if out is before:
            self.due = t + self.interval  # nothing was sent (a lock, no room)
            return None
        self._observe(out, t, True)
        if n == 0 and out.status == cl.OK:
            self.due = t + self.interval  # answered, but the ACK did not fit
        return "replay"

    # --- for the display ------------------------------------------------------------

    def status(self):
        # mode: ONLINE, OFFLINE, SERVER_BLOCKED or BLOCKED; test: the power-on
        # test; queue: documents waiting; next: seconds to the next attempt
        # (0: the next step; None: none planned); code: the last result code;
        # lock: the port's lock or None; stuck: the refused document's seq;
        # since: offline since (register time); oldest: time of the oldest
        # unsent document; lock_in: seconds until the 72 h lock (KZ-29.6,
        # R-81), None when nothing waits; refusal: the port's last refusal
        # of a document (seq, code, text) or None
        reg = self.reg
        self._period()
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
            "refusal": self.port.refusal,
        }
