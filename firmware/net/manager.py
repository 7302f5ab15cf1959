# The OFD's channels in their configured priority as one channel (KZ-18,
# KZ-40.5): open() connects through the first channel whose link is up and
# that has not just failed; the session (OFD id, token, request number) is
# above, in ofd.client, so the same id and token go over every channel.
#
#   m = ChannelManager(channels, ticks_ms=None)   channels: the board's order
#   m.priority    None, or () -> the configured order by name (the setting
#                 "channels", KZ-40.5): those named go first in that order,
#                 the others after them in the board's order
#   m.settings    None, or () -> the register's settings: before each upkeep
#                 a channel with params(settings) takes its parameters
#                 (wifi_ssid, wifi_key, gsm_apn; KZ-40.5)
#   reader, writer = await m.open(host, port, timeout_ms)
#   m.name        the channel of the last connection made (None: none yet)
#   m.states()    [(name, state)] of the named channels, for the X report
#   await m.run() the upkeep task: every channel's tend() (connect,
#                 reconnect with backoff, health probe) on its own loop
#   m.configure(hosts), m.refresh(), m.reach(host, port): passed on to
#                 every channel that has them
#   await m.position() (latitude, longitude, source) from the first channel
#                 that can tell (a modem's cell or GNSS fix), or None
#
# Failover within the budget: a channel whose connect fails, or whose link
# drops or stream breaks while an exchange uses it, is held back for
# HOLD_MS (the others go first); while more than one channel is left to
# try, one connect gets at most half of the time left. A connection's
# reads watch the link (up()) every WATCH_MS, so a dead Wi-Fi ends the
# attempt at once, not at the budget, and the client's next attempt goes
# over the next channel with the same TOKEN and REQNUM.

import asyncio
import errno

from aio import Timeout, sleep_ms, wait_for_ms
from compat import const, ticks_diff
from compat import ticks_ms as now_ms
from net import EHOSTUNREACH

HOLD_MS = const(30000)
WATCH_MS = const(20)
TEND_MS = const(1000)


class ChannelManager:
    def __init__(self, channels, ticks_ms=None):
        if not channels:
            raise ValueError("channels")
        self.channels = list(channels)
        self.ticks_ms = ticks_ms or now_ms
        self.failed = {}  # channel -> ticks of its last failure
        self.name = None
        self.priority = None
        self.settings = None
        self.switches = 0  # connections made over another channel than the one before

    def _up(self, ch):
        f = getattr(ch, "up", None)
        return f is None or f()

    def _held(self, ch):
        t = self.failed.get(ch)
        if t is None:
            return False
        if ticks_diff(self.ticks_ms(), t) >= HOLD_MS:
            del self.failed[ch]
            return False
        return True

    def order(self):
        # the channels to try now: up ones by priority, those held back last
        up = [c for c in self.ranked() if self._up(c)]
        return [c for c in up if not self._held(c)] + [c for c in up if self._held(c)]

    def ranked(self):
        names = self.priority() if self.priority is not None else None
        if not names:
            return self.channels
        first = [c for n in names for c in self.channels if _name(c) == n]
        return first + [c for c in self.channels if c not in first]

    def fail(self, ch):
        self.failed[ch] = self.ticks_ms()

    async def open(self, host, port, timeout_ms, tls=None):
        # tls: None, True or an SSLContext: only channels with tls = True
        start = self.ticks_ms()
        err = None
        todo = self.order()
        if tls is not None:
            todo = [c for c in todo if getattr(c, "tls", False)]
        for i, ch in enumerate(todo):
            left = timeout_ms - ticks_diff(self.ticks_ms(), start)
            if left <= 0:
                break
            if i < len(todo) - 1:
                left = max(left // 2, 1)
            try:
                r, w = await (ch.open(host, port, left) if tls is None else ch.open(host, port, left, tls))
            except OSError as e:
                if not e.args or e.args[0] != EHOSTUNREACH:
                    self.fail(ch)
                    err = e
                continue
            if self.name is not None and _name(ch) != self.name:
                self.switches += 1
            self.name = _name(ch)
            s = _Watched(self, ch, r, w)
            return s, s
        raise err or OSError(EHOSTUNREACH)

    def states(self):
        out = []
        for c in self.ranked():
            if _name(c) is None:
                continue  # nothing to show it by
            f = getattr(c, "state", None)
            out.append((_name(c), f() if f is not None else ("up" if self._up(c) else "down")))
        return out

    def configure(self, hosts):
        for c in self.channels:
            f = getattr(c, "configure", None)
            if f is not None:
                f(hosts)

    def refresh(self):
        for c in self.channels:
            f = getattr(c, "refresh", None)
            if f is not None:
                f()

    def reach(self, host, port):
        for c in self.channels:
            f = getattr(c, "reach", None)
            if f is not None:
                f(host, port)

    async def position(self):
        for c in self.channels:
            f = getattr(c, "position", None)
            if f is not None:
                try:
                    p = await f()
                except OSError:
                    p = None
                if p is not None:
                    return p
        return None

    async def _tend(self, ch):
        while True:
            f = getattr(ch, "params", None)
            if f is not None and self.settings is not None:
                f(self.settings())
            try:
                await ch.tend()
            except OSError:
                pass  # the channel's own state says what is wrong; tried again
            await sleep_ms(TEND_MS)

    async def run(self):
        tasks = [asyncio.create_task(self._tend(c)) for c in self.channels if hasattr(c, "tend")]
        try:
            while True:
                await sleep_ms(60000)
        finally:
            for t in tasks:
                t.cancel()


def _name(ch):
    return getattr(ch, "name", None)


class _Watched:
    # a connection's streams: a dropped link or a broken stream holds the
    # channel back and ends the read or write with OSError
    def __init__(self, m, ch, r, w):
        self.m = m
        self.ch = ch
        self.r = r
        self.w = w

    async def readexactly(self, n):
        try:
            if not hasattr(self.ch, "up"):
                return await self.r.readexactly(n)  # no link state to watch
            return await self._watched(n)
        except EOFError:  # CPython: the peer closed (IncompleteReadError)
            self.m.fail(self.ch)
            raise OSError(errno.ECONNRESET)
        except OSError:
            self.m.fail(self.ch)
            raise

    async def _watched(self, n):
        # the read in a task of its own; the link is looked at every
        # WATCH_MS while it waits, and the bytes are taken the moment they
        # are there
        done = asyncio.Event()
        box = []

        async def read():
            try:
                box.append(await self.r.readexactly(n))
            except Exception as e:  # handed to the reader below
                box.append(e)
            done.set()

        t = asyncio.create_task(read())
        try:
            while not done.is_set():
                if not self.m._up(self.ch):
                    raise OSError(errno.ECONNABORTED)
                try:
                    await wait_for_ms(done.wait(), WATCH_MS)
                except Timeout:
                    pass
        finally:
            if not done.is_set():
                t.cancel()  # also when the caller's deadline cancels us
        if isinstance(box[0], Exception):
            raise box[0]
        return box[0]

    def write(self, b):
        self.w.write(b)

    async def drain(self):
        try:
            await self.w.drain()
        except OSError:
            self.m.fail(self.ch)
            raise

    def close(self):
        self.w.close()
