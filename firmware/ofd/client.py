# One KKM <-> OFD exchange on the asyncio loop (PROTOCOL.md sections 1, 13):
# connect through a channel, send the frame, read the answer frame, close;
# on failure again, with the same TOKEN and REQNUM, until the total
# transaction time (at least 5 s: KZ-29, KZ-25) is spent. The session
# (ofd.session) decides what is sent and what an answer means; nothing here
# blocks the loop.
#
#   c = OfdClient(session, channel, hosts, budget_ms=5000, ticks_ms=None, sleep_ms=None,
#                 min_budget_ms=MIN_BUDGET_MS)
#   out = await c.exchange(payload, command, key=None, budget_ms=None)   -> Outcome
#   c.set_hosts(hosts); c.refresh()
#
# channel: see net/__init__ (open(host, port, timeout_ms) -> asyncio
# streams). hosts: [(host, port)] in priority order; a failed attempt
# moves to the next address (KZ-18), which the next attempt and the next
# exchange use; a host the channel cannot reach now (EHOSTUNREACH) is
# skipped at once, and with none reachable the exchange ends at once
# (offline now, not after the budget). ticks_ms() -> ms ticks and
# await sleep_ms(ms) are the time (injected under test); min_budget_ms
# lowers the 5 s floor for tests only. One exchange at a time per session:
# the caller (the sender task) runs them one after another.
#
# Outcome.reason without a valid answer: "timeout" (no whole answer
# within the budget), "refused" (no connection), "unreachable" (see
# above), "dropped" (the connection failed while sending or reading),
# "malformed" (not a valid answer to this request).

from aio import Timeout, wait_for_ms
from aio import sleep_ms as aio_sleep_ms
from compat import const, ticks_add, ticks_diff
from compat import ticks_ms as now_ms
from net import EHOSTUNREACH
from ofd import ProtocolError
from ofd import frame
from ofd import header as hdr
from ofd.session import BLOCKED, OFFLINE, OK, RETRY, Outcome, classify  # noqa: F401

MIN_BUDGET_MS = const(5000)  # KZ-29: 5 seconds to get the OFD's answer
RETRY_PAUSE_MS = const(200)


class OfdClient:
    def __init__(self, session, channel, hosts, budget_ms=MIN_BUDGET_MS, ticks_ms=None, sleep_ms=None,
                 min_budget_ms=MIN_BUDGET_MS, max_size=hdr.MAX_SIZE):
        self.session = session
        self.channel = channel
        self.min_budget_ms = min_budget_ms
        self.budget_ms = self._budget(budget_ms)
        self.ticks_ms = ticks_ms or now_ms
        self.sleep_ms = sleep_ms or aio_sleep_ms
        self.pause_ms = RETRY_PAUSE_MS
        self.max_size = max_size
        self.hosts = []
        self.host_index = 0
        self.set_hosts(hosts)

    def _budget(self, ms):
        if not isinstance(ms, int) or ms < self.min_budget_ms:
            raise ValueError("budget_ms", ms)
        return ms

    def set_hosts(self, hosts):
        # the OFD addresses (a configuration change): the channel may look
        # them up now, outside any exchange
        if not hosts:
            raise ValueError("hosts")
        self.hosts = [(h, p) for h, p in hosts]
        self.host_index = 0
        conf = getattr(self.channel, "configure", None)
        if conf is not None:
            conf(self.hosts)

    def refresh(self):
        # the channel's idle-time upkeep (a due retry of a failed lookup);
        # never called by an exchange
        f = getattr(self.channel, "refresh", None)
        if f is not None:
            f()

    async def exchange(self, payload, command, key=None, budget_ms=None):
        # key: the caller's identity of the document; an unanswered request
        # with the same key goes again as it was (ofd.session). persist()
        # raising reaches the caller, and then nothing was sent
        budget = self.budget_ms if budget_ms is None else self._budget(budget_ms)
        now = self.ticks_ms
        start = now()
        deadline = ticks_add(start, budget)
        data, reqnum, token = self.session.request(payload, command, key)
        resent = self.session.resent
        out = None
        attempts = 0
        unreachable = 0
        while True:
            left = ticks_diff(deadline, now())
            if left <= 0:
                break
            attempts += 1
            out = await self._attempt(data, left)
            if out.status != RETRY:
                break
            self.host_index += 1  # the next address next time (KZ-18 failover)
            if out.reason == "unreachable":
                unreachable += 1
                if unreachable >= len(self.hosts):
                    break
                continue
            unreachable = 0
            if ticks_diff(deadline, now()) <= self.pause_ms:
                break
            await self.sleep_ms(self.pause_ms)
        if out is None:
            out = Outcome(RETRY, "timeout")
        out.attempts = attempts
        out.elapsed_ms = ticks_diff(now(), start)
        out.reqnum = reqnum
        out.token = token
        out.resent = resent
        out.channel = getattr(self.channel, "name", None)  # a channel manager: the one used
        return out

    async def _attempt(self, data, left_ms):
        # one connection with one deadline for every byte, so a slow OFD
        # sending its answer byte by byte cannot stretch the exchange
        host, port = self.hosts[self.host_index % len(self.hosts)]
        try:
            got = await wait_for_ms(self._talk(host, port, data, left_ms), left_ms)
        except Timeout:  # before OSError: CPython's is one
            return Outcome(RETRY, "timeout")
        except ProtocolError:
            return Outcome(RETRY, "malformed")
        except OSError:
            return Outcome(RETRY, "dropped")
        if isinstance(got, Outcome):
            return got
        return self.session.answer(got[0], got[1])

    async def _talk(self, host, port, data, left_ms):
        # -> (header, body) of the answer frame, or Outcome without a connection
        try:
            r, w = await self.channel.open(host, port, left_ms)
        except (OSError, Timeout) as e:
            a = e.args[0] if e.args else None
            return Outcome(RETRY, "unreachable" if a == EHOSTUNREACH else "refused")
        try:
            w.write(data)
            await w.drain()
            return await frame.read_frame_async(r, self.session.version, self.max_size)
        finally:
            w.close()
