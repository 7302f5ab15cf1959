# The app's loop under load, for tests/core/test_app_latency.py and
# tools/bench_latency.py: keys pressed at uneven intervals while the
# sender waits on an OFD that accepts the connection and never answers, or
# while it replays documents queued offline. For each key: the time from
# its press to the first frame drawn after the loop took it; for the loop:
# its longest pause between two turns (a watchdog task that yields at
# every turn), which bounds what any key can wait.
import asyncio

from aio import Timeout, sleep_ms, wait_for_ms
from compat import ticks_diff, ticks_ms
from regkit import sell
from uikit import login, provisioned

KEYS = ("1", "2", "3", "CLR")  # at the ready screen each one changes the frame
REPLAY_BLOCKS = 256  # 4 KB blocks: 1,000 receipts queued with their signs fill about 200


class SilentChannel:
    # an OFD that accepts every connection and never answers
    name = None

    def __init__(self):
        self.opened = 0

    async def open(self, host, port, timeout_ms):
        self.opened += 1
        s = _Silent()
        return s, s


class _Silent:
    async def readexactly(self, n):
        while True:
            await asyncio.sleep(3600)

    def write(self, b):
        pass

    async def drain(self):
        pass

    def close(self):
        pass


class _Forget:
    # a log that keeps nothing: 1,000 decoded tickets and their printed
    # pages would fill the MicroPython heap of the core tests
    def append(self, x):
        pass


def shop(log_blocks=24):
    # a cashier at the ready screen of a fiscalised register, the sender's
    # power-on test not run yet
    b, app = provisioned(log_blocks=log_blocks)
    b.link.log = _Forget()
    login(app)
    return b, app


def queue(app, b, n):
    # n receipts issued while the OFD is out of reach: each settled with
    # the autonomous sign and queued for the sender
    reg = app.reg
    printed = b.printer.printed
    b.printer.printed = _Forget()
    b.link.cut()
    for i in range(n):
        reg.settle(sell(reg), None)
    b.link.restore()
    b.link.stored = []
    b.printer.printed = printed


class Stats:
    def __init__(self):
        self.lat = []  # ms from each key's press to its frame
        self.seen = []  # sample() at each key's frame
        self.gap = 0  # ms: the loop's longest pause between two turns
        self.per_turn = 0  # the most count() moved between two turns
        self.ms = 0  # the run's length

    def median(self):
        s = sorted(self.lat)
        return s[len(s) // 2] if s else None

    def worst(self):
        return max(self.lat) if self.lat else None


async def watchdog(st, count=None):
    # turns with the loop: st.gap, the longest pause between two turns;
    # st.per_turn, the most count() moved between two
    t = ticks_ms()
    last = count() if count is not None else 0
    while True:
        await asyncio.sleep(0)
        now = ticks_ms()
        st.gap = max(st.gap, ticks_diff(now, t))
        t = now
        if count is not None:
            c = count()
            st.per_turn = max(st.per_turn, abs(c - last))
            last = c


def held(fn):
    # ms the loop is held while fn() runs in it (an awaitable: awaited) -> (ms, its result)
    st = Stats()

    async def main():
        dog = asyncio.create_task(watchdog(st))
        await asyncio.sleep(0)
        r = fn()
        if hasattr(r, "send"):
            r = await r
        await asyncio.sleep(0)
        dog.cancel()
        await asyncio.sleep(0)
        return r

    r = asyncio.run(main())
    return st.gap, r


def press(app, b, n, more=None, sample=None, count=None, ready=None, limit_ms=120000):
    # runs the app's loop: from when ready() is true, n keys, and on while
    # more() is true (at most limit_ms); sample() is noted at each key's
    # frame, count() at each turn of the loop -> Stats
    st = Stats()
    pending = [None]  # the press time of the key not drawn yet
    drawn = asyncio.Event()
    show = b.display.show

    def timed(lines):
        show(lines)
        if pending[0] is not None and not b.keypad.keys:  # taken: this frame shows it
            st.lat.append(ticks_diff(ticks_ms(), pending[0]))
            if sample is not None:
                st.seen.append(sample())
            pending[0] = None
            drawn.set()

    async def main():
        start = ticks_ms()
        loop = asyncio.create_task(app.run())
        dog = asyncio.create_task(watchdog(st, count))
        while ready is not None and not ready():
            await sleep_ms(1)
        i = 0
        while (i < n or (more is not None and more())) and ticks_diff(ticks_ms(), start) < limit_ms:
            drawn.clear()
            pending[0] = ticks_ms()
            b.keypad.keys.append(KEYS[i % len(KEYS)])
            try:
                await wait_for_ms(drawn.wait(), 10000)
            except Timeout:
                raise AssertionError("key %r without a frame" % KEYS[i % len(KEYS)])
            i += 1
            await sleep_ms(5 + i * 7 % 16)  # uneven: presses fall anywhere in the sender's work
        st.ms = ticks_diff(ticks_ms(), start)
        dog.cancel()
        app.stop()
        await loop
        await asyncio.sleep(0)  # the cancelled tasks end in this loop

    b.display.show = timed
    try:
        asyncio.run(main())
    finally:
        b.display.show = show
    return st
