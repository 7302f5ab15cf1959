# The register's telemetry to the service centre over MQTT (docs/fleet.md):
# a retained status per register, events with QoS 1, and two commands.
#
#   t = Telemetry(reg, desk, client, version, idle=None, paper=None,
#                 updater=None, failed=(), updated=None, period_s=60)
#       reg, desk: the register and app.Desk, read only; client:
#       fleet.mqtt.Client; idle(): True while the OFD sender leaves the
#       channel free; paper(): the printer's state; updater: an object with
#       announce(url, version) or None; failed: the lock codes the power-on
#       self-test set; updated: what the boot did with an update on trial
#   await t.run()      the task (it runs the client's task too)
#   t.event(kind, detail=None)   an event for the outbox
#   t.status()         the status as a dict; t.outbox
#   t = for_app(app, settings, version, failed=())   from the board's fleet
#       settings (host, port, client_id, user, password, tls, keepalive,
#       period_s) over the app's channels
#
# Topics under kkm/<factory number>/: status (retained, republished on a
# change and every period), event (QoS 1), online (retained "1"; the
# broker's will says "0"), cmd (in, QoS 1).
#
# Nothing fiscal leaves by this path: the status carries identity, locks,
# counts and ages, never a document, an amount or a buyer. A command can
# only ask for the status or hand an update's address to the updater;
# anything else is counted, logged and ignored. Events wait in a bounded
# outbox in RAM (never in the fiscal journal) until the broker's PUBACK;
# when it is full the oldest goes and is counted.

import asyncio
import json

from aio import Timeout, sleep_ms, wait_for_ms
from compat import const, ticks_diff
from compat import ticks_ms as _ticks_ms
from fleet import mqtt
from kkm import locks as L

OUTBOX = const(16)
EVENT_MAX = const(160)  # bytes of an event's payload at most (detail cut)
STEP_MS = const(1000)
ACK_WAIT_MS = const(3000)
ACK_POLL_MS = const(20)
PERIOD_S = const(60)
CHANGE_GAP_MS = const(2000)  # a changed status goes at most this often

SELFTEST_FAILED = "selftest_failed"
LOCK_ENGAGED = "lock_engaged"
LOCK_CLEARED = "lock_cleared"
UPDATE_APPLIED = "update_applied"
UPDATE_ANNOUNCED = "update_announced"


def _heap():
    import gc

    f = getattr(gc, "mem_free", None)  # MicroPython only
    return f() if f is not None else None


class Outbox:
    # events waiting for their PUBACK, oldest first; at most size of them
    def __init__(self, size=OUTBOX):
        self.size = size
        self.items = []
        self.dropped = 0
        self.n = 0  # events put since the boot: each one's number

    def put(self, payload):
        if len(self.items) >= self.size:
            self.items.pop(0)
            self.dropped += 1
        self.items.append(payload)

    def head(self):
        return self.items[0] if self.items else None

    def done(self, item):
        # the broker has it: it leaves, unless it was dropped meanwhile
        if self.items and self.items[0] is item:
            self.items.pop(0)


class Telemetry:
    def __init__(self, reg, desk, client, version, idle=None, paper=None, updater=None, failed=(), updated=None,
                 period_s=PERIOD_S, ticks_ms=None):
        self.reg = reg
        self.desk = desk
        self.client = client
        self.version = version
        self.idle = idle or (lambda: True)
        self.paper = paper
        self.updater = updater
        self.period_ms = period_s * 1000
        self.ticks_ms = ticks_ms or _ticks_ms
        self.topic = "kkm/" + (reg.settings.get("factory_no") or client.client_id)
        self.outbox = Outbox()
        self.ignored = 0  # commands ignored
        self.published = 0  # statuses published
        self.shown = None  # what the last status said that matters for an alert
        self.sent_ms = None  # ticks of the last status published
        self.want = True  # a status is due at once
        self.wake = asyncio.Event()
        self.locks = None  # the locks of the last look
        self.pending = None  # (event, packet id) published, its PUBACK awaited
        self.started = self.ticks_ms()
        client.subscribe(self.topic + "/cmd", 1)
        client.on_message = self.command
        if client.will is None:
            client.will = (self.topic + "/online", "0", True)
        if failed:
            self.event(SELFTEST_FAILED, list(failed))
        if updated:
            self.event(UPDATE_APPLIED, {"version": version, "result": updated})

    # --- what goes out ------------------------------------------------------------

    def event(self, kind, detail=None):
        ob = self.outbox
        ob.n += 1
        p = json.dumps({"n": ob.n, "t": self.reg.clock.now(), "kind": kind, "detail": detail})
        if len(p) > EVENT_MAX:
            p = json.dumps({"n": ob.n, "t": self.reg.clock.now(), "kind": kind, "detail": None})
        ob.put(p.encode())

    def look(self):
        # the locks now: an event for each one engaged or cleared since the
        # last look -> what a status shows for alerts (a change goes soon)
        reg = self.reg
        now = reg.active_locks()
        if self.locks is not None:
            for c in now:
                if c not in self.locks:
                    self.event(LOCK_ENGAGED, c)
            for c in self.locks:
                if c not in now:
                    self.event(LOCK_CLEARED, c)
        self.locks = now
        st = self.desk.status()
        return (tuple(now), st["mode"], st["queue"] > 0, self.paper() if self.paper else None)

    def status(self):
        reg = self.reg
        acc = reg.acc
        now = reg.clock.now()
        st = self.desk.status()
        oldest = st["oldest"]
        ch = self.desk.channels
        return {
            "factory_no": reg.settings.get("factory_no"),
            "rnm": reg.settings.get("rnm"),
            "version": self.version,
            "t": now,
            "uptime": ticks_diff(self.ticks_ms(), self.started) // 1000,
            "locks": self.locks if self.locks is not None else reg.active_locks(),
            "mode": st["mode"],
            "queue": st["queue"],
            "oldest_age": None if oldest is None else now - oldest,
            "lock_in_h": None if st["lock_in"] is None else st["lock_in"] // 360 / 10,
            "shift_age": now - reg.shift_open_ts if reg.shift_open else None,
            "paper": self.paper() if self.paper else None,
            "channel": self.desk.channel(),
            "channels": ch.states() if ch is not None else [],
            "signal": _signal(ch),
            "heap": _heap(),
            "z_left": acc.z_slots_left(),
            "journal_free": acc.free_bytes(now),
            "dropped": self.outbox.dropped,
            "ignored": self.ignored,
        }

    # --- what comes in ------------------------------------------------------------

    def command(self, topic, payload):
        # only "refresh" and "update" (an update's address for the updater)
        try:
            m = json.loads(payload)
            cmd = m.get("cmd")
        except (ValueError, AttributeError, TypeError):
            m = None
            cmd = None
        if cmd == "refresh":
            self.want = True
            self.wake.set()
            return True
        if cmd == "update" and self.updater is not None:
            url = m.get("url")
            ver = m.get("version")
            if isinstance(url, str) and isinstance(ver, str):
                try:
                    taken = self.updater.announce(url, ver)  # False: not newer than what it has
                except Exception as e:  # the updater's fault must not end the connection
                    print("telemetry: update %s: %r" % (ver, e))
                    taken = False
                if taken is not False:
                    self.event(UPDATE_ANNOUNCED, ver)
                    return True
        self.ignored += 1
        print("telemetry: command ignored: %r" % (bytes(payload[:40]),))
        self.want = True  # the count shows on the dashboard
        return False

    # --- the task -----------------------------------------------------------------

    async def run(self):
        task = asyncio.create_task(self.client.run())
        try:
            while True:
                await self.step()
                self.wake.clear()
                try:
                    await wait_for_ms(self.wake.wait(), STEP_MS)
                except Timeout:
                    pass
        finally:
            task.cancel()

    async def step(self):
        # one look; the status when due and the events, while the OFD
        # leaves the channel free -> True when something was published
        shown = self.look()
        t = self.ticks_ms()
        since = None if self.sent_ms is None else ticks_diff(t, self.sent_ms)
        if shown != self.shown and (since is None or since >= CHANGE_GAP_MS):
            self.want = True
        if since is None or since >= self.period_ms:
            self.want = True
        if not self.client.connected or not self.idle():
            return False
        out = False
        try:
            if self.want:
                await self.client.publish(self.topic + "/online", "1", True)
                await self.client.publish(self.topic + "/status", json.dumps(self.status()), True)
                self.want = False
                self.shown = shown
                self.sent_ms = t
                self.published += 1
                out = True
            while self.outbox.head() is not None and self.idle():
                if not await self._send_event():
                    break
                out = True
        except OSError:
            pass  # the client reconnects; what is due stays due
        return out

    async def _send_event(self):
        # the outbox's head with QoS 1 -> True when the broker has it. One
        # still waiting for its PUBACK is not published again: the client
        # sends it with DUP after a reconnect (a copy would be a second event)
        item = self.outbox.head()
        c = self.client
        p = self.pending
        if p is None or p[0] is not item or c.state(p[1]) == mqtt.LOST:
            p = self.pending = (item, await c.publish(self.topic + "/event", item, False, 1))
        waited = 0
        while c.state(p[1]) == mqtt.WAITING and waited < ACK_WAIT_MS:
            await sleep_ms(ACK_POLL_MS)
            waited += ACK_POLL_MS
        if c.state(p[1]) != mqtt.ACKED:
            return False
        self.outbox.done(item)
        self.pending = None
        return True


def _signal(ch):
    # a modem's CSQ (0..31), or None
    for c in getattr(ch, "channels", ()):
        m = getattr(c, "modem", None)
        if m is not None and getattr(m, "csq", 99) != 99:
            return m.csq
    return None


def for_app(app, f, version, failed=()):
    # the board's fleet settings -> the telemetry of this app over its channels
    reg = app.reg
    desk = app.desk
    ch = desk.channels
    tls = f.get("tls")
    host = f["host"]
    port = f.get("port") or (8883 if tls else 1883)

    def opener(timeout_ms):
        ch.reach(host, port)  # again after the OFD's hosts were configured anew
        return ch.open(host, port, timeout_ms, tls)

    def idle():
        # no document being fiscalised and the sender leaves the channel free
        return app.done.is_set() and desk.sender.idle()

    cid = f.get("client_id") or "kkm-" + (reg.settings.get("factory_no") or "unset")
    client = mqtt.Client(opener, cid, f.get("user"), f.get("password"), f.get("keepalive") or 60, gate=idle)
    return Telemetry(reg, desk, client, version, idle, lambda: app.paper, getattr(app, "updater", None), failed,
                     getattr(app, "updated", None), f.get("period_s") or PERIOD_S)
