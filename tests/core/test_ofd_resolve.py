# KZ-29: the TCP channel (net.tcp) resolves the OFD's name once per
# configuration and keeps the address, so an exchange never waits on DNS (a
# lookup cannot be bounded by the 5 s budget); a failed lookup is retried by
# refresh() at most once per RESOLVE_PAUSE_MS, and while a host has no
# address an exchange ends at once (offline) instead of spending its budget.
# No sockets here: only the unresolved paths (tests/host/test_ofd_client.py
# and test_ofd_loopback.py connect for real).
import asyncio

from compat import ticks_diff, ticks_ms
from net.tcp import RESOLVE_PAUSE_MS, TcpChannel
from ofd import client as cl
from ofd import codec
from ofd import messages as M
from ofd import schema as S
from ofd.session import Session

ADDR = [(2, 1, 0, "", ("10.0.0.7", 7777))]


class Resolver:
    # answers from a table; a name in `hang` would block: it must never be
    # asked inside an exchange
    def __init__(self):
        self.table = {}
        self.calls = []
        self.hang = False
        self.in_exchange = False

    def __call__(self, host, port):
        self.calls.append(host)
        assert not self.in_exchange, "DNS lookup inside an exchange"
        if self.hang:
            raise AssertionError("the resolver hangs")
        a = self.table.get(host)
        if a is None:
            raise OSError(-2, host)  # EAI_NONAME-like
        return a


class Clock:
    def __init__(self):
        self.t = 1000

    def __call__(self):
        return self.t


def test_kz_29_lookup_once_per_configuration_and_bounded_retry():
    res = Resolver()
    clk = Clock()
    res.table["ofd.example.kz"] = ADDR
    tr = TcpChannel(res, clk)
    tr.configure([("ofd.example.kz", 7777), ("backup.example.kz", 7777)])
    assert res.calls == ["ofd.example.kz", "backup.example.kz"]
    assert tr.addrs == {("ofd.example.kz", 7777): (2, ("10.0.0.7", 7777))}
    # the resolved host is never looked up again; the failed one only
    # after the pause, once per pause
    assert tr.refresh() == 1 and len(res.calls) == 2
    clk.t += RESOLVE_PAUSE_MS - 1
    assert tr.refresh() == 1 and len(res.calls) == 2
    clk.t += 1
    assert tr.refresh() == 1 and res.calls[-1] == "backup.example.kz" and len(res.calls) == 3
    assert tr.refresh() == 1 and len(res.calls) == 3
    res.table["backup.example.kz"] = ADDR
    clk.t += RESOLVE_PAUSE_MS
    assert tr.refresh() == 2 and len(res.calls) == 4
    assert tr.refresh() == 2 and len(res.calls) == 4
    # a new configuration forgets the addresses and looks up again
    tr.configure([("ofd.example.kz", 7777)])
    assert len(res.calls) == 5 and tr.refresh() == 1


def test_kz_29_exchange_without_an_address_ends_at_once_and_never_resolves():
    res = Resolver()
    clk = Clock()
    tr = TcpChannel(res, clk)
    s = Session(203539, 1000)
    c = cl.OfdClient(s, tr, [("ofd.example.kz", 7777), ("backup.example.kz", 7777)])
    assert len(res.calls) == 2 and tr.addrs == {}
    res.in_exchange = True
    res.hang = True
    t0 = ticks_ms()
    payload = codec.encode(S.Request, M.system_request(M.service()))
    out = asyncio.run(c.exchange(payload, S.COMMAND_SYSTEM))
    assert ticks_diff(ticks_ms(), t0) < 1000
    assert (out.status, out.reason, out.code) == (cl.RETRY, "unreachable", None)
    assert out.attempts == 2 and len(res.calls) == 2
    # the request stays pending with its REQNUM (sent again, same number)
    assert s.pending is not None and s.reqnum == 1
    # the client's refresh() is the retry, outside the exchange
    res.in_exchange = False
    res.hang = False
    c.refresh()
    assert len(res.calls) == 2  # the pause is not over
    clk.t += RESOLVE_PAUSE_MS
    c.refresh()
    assert len(res.calls) == 4
    # set_hosts is a configuration change: looked up at once
    c.set_hosts([("other.example.kz", 7777)])
    assert res.calls[-1] == "other.example.kz" and c.hosts == [("other.example.kz", 7777)]
