# GSM as a channel (KZ-18): TCP through a modem driver's AT sockets
# (drivers/sim800.py, drivers/sim7600.py, injected by the board). The
# bearer (GPRS/LTE context) is brought up early and kept up, so that one
# connection per request costs one TCP connect, not an attach (a cold
# attach takes ~20 s, far over the 5 s budget of KZ-29).
#
#   ch = GsmChannel(modem, ticks_ms=None)
#   ch.up() -> the bearer is up; ch.state() -> the modem's state
#   await ch.tend()   bring-up with backoff, a health probe every PROBE_MS,
#                     the power-key/reset recovery after RECOVER_AFTER
#                     failed bring-ups in a row
#   reader, writer = await ch.open(host, port, timeout_ms)
#   ch.params(settings)  the APN from the setting gsm_apn (empty: the
#                     board's); a change brings the bearer up again
#   await ch.position() -> (latitude, longitude, source) in millionths of
#                     a degree, or None (the modem cannot tell)
#
# The modem driver's interface: ready, state, connect_ms (the last
# connect's time), await start(), await check() -> bool, await recover(),
# await open(host, port, timeout_ms), await position(); start() raises
# OSError with the reason in state.

from compat import const, ticks_diff
from compat import ticks_ms as now_ms
from net import EHOSTUNREACH

BACKOFF_MS = const(5000)
BACKOFF_MAX_MS = const(120000)
PROBE_MS = const(30000)
RECOVER_AFTER = const(3)


class GsmChannel:
    name = "gsm"

    def __init__(self, modem, ticks_ms=None):
        self.modem = modem
        self.ticks_ms = ticks_ms or now_ms
        self.backoff = BACKOFF_MS
        self.last = None  # ticks of the last bring-up attempt or probe
        self.failures = 0  # failed bring-ups in a row
        self.starts = 0
        self.recoveries = 0

    def params(self, s):
        apn = s.get("gsm_apn") or self.modem.apn
        if apn != self.modem.apn:
            self.modem.apn = apn
            self.modem.ready = False
            self.failures = 0
            self.last = None

    def up(self):
        return self.modem.ready

    def state(self):
        return self.modem.state

    async def tend(self):
        m = self.modem
        now = self.ticks_ms()
        if m.ready:
            if self.last is None or ticks_diff(now, self.last) >= PROBE_MS:
                self.last = now
                await m.check()  # registration, signal and bearer; clears ready when lost
            return
        if self.last is not None and self.failures and ticks_diff(now, self.last) < self.backoff:
            return
        self.last = now
        if self.failures >= RECOVER_AFTER:
            self.failures = 0
            self.recoveries += 1
            await m.recover()  # power key or reset line: a wedged modem
        self.starts += 1
        try:
            await m.start()
        except OSError:
            self.failures += 1
            self.backoff = min(BACKOFF_MS << min(self.failures - 1, 5), BACKOFF_MAX_MS)
            return
        self.failures = 0
        self.backoff = BACKOFF_MS

    async def open(self, host, port, timeout_ms):
        if not self.modem.ready:
            raise OSError(EHOSTUNREACH)
        return await self.modem.open(host, port, timeout_ms)

    async def position(self):
        if not self.modem.ready:
            return None
        return await self.modem.position()
