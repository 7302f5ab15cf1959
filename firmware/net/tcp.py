# TCP through the runtime's socket module as a channel (see net/__init__).
#
#   ch = TcpChannel(resolver=None, ticks_ms=None)
#   ch.configure(hosts); ch.refresh() -> hosts with an address
#   ch.reach(host, port)   one more host (a service-centre server beside the
#                          OFD), looked up now unless it is known already
#   reader, writer = await ch.open(host, port, timeout_ms)
#
# Names are looked up once per configuration and the address is kept;
# open() only uses the kept address, so a connection never waits on DNS (a
# lookup blocks for as long as the resolver likes and cannot be bounded by
# the OFD's 5 s budget, KZ-29). A host whose lookup failed has no address:
# open() raises OSError(EHOSTUNREACH) at once; refresh() looks it up again,
# at most once per RESOLVE_PAUSE_MS (the bounded retry).
# resolver(host, port) -> getaddrinfo-style list; ticks_ms() -> ms ticks

import asyncio
import errno
import socket

from aio import Timeout, sleep_ms, wait_for_ms
from compat import const, ticks_diff
from compat import ticks_ms as now_ms
from net import EHOSTUNREACH

# PROTOCOL.md section 13: the retry interval is at least 60 s
RESOLVE_PAUSE_MS = const(60000)
POLL_MS = const(5)

# MicroPython's asyncio stream is one class wrapping a socket of ours: the
# socket is made and connected here, since its open_connection leaves the
# socket open when a deadline cancels the connect. CPython builds its
# streams in open_connection (and closes the socket on a cancel).
_RAW = asyncio.StreamReader is asyncio.StreamWriter


class TcpChannel:
    tls = True  # open(host, port, timeout_ms, tls): True or an SSLContext makes a TLS stream

    def __init__(self, resolver=None, ticks_ms=None):
        self.resolver = resolver
        self.ticks_ms = ticks_ms or now_ms
        self.hosts = []
        self.addrs = {}  # (host, port) -> (family, sockaddr)
        self.failed = {}  # (host, port) -> ticks of the last failed lookup

    def configure(self, hosts):
        # a new configuration: forget every address, look each host up once
        self.hosts = [(h, p) for h, p in hosts]
        self.addrs = {}
        self.failed = {}
        self.refresh()

    def reach(self, host, port):
        if (host, port) not in self.hosts:
            self.hosts.append((host, port))
            self.refresh()

    def refresh(self):
        # look up the hosts without an address whose pause is over; returns
        # how many hosts have an address
        for hp in self.hosts:
            if hp in self.addrs:
                continue
            t = self.failed.get(hp)
            if t is not None and ticks_diff(self.ticks_ms(), t) < RESOLVE_PAUSE_MS:
                continue
            try:
                if self.resolver is None:
                    ai = socket.getaddrinfo(hp[0], hp[1], 0, socket.SOCK_STREAM)[0]
                else:
                    ai = self.resolver(hp[0], hp[1])[0]
                self.addrs[hp] = (ai[0], ai[-1])
                if t is not None:
                    del self.failed[hp]
            except (OSError, IndexError):
                self.failed[hp] = self.ticks_ms()
        return len(self.addrs)

    async def open(self, host, port, timeout_ms, tls=None):
        a = self.addrs.get((host, port))
        if a is None:
            raise OSError(EHOSTUNREACH)  # no lookup here (see above)
        if tls is True:
            import ssl

            tls = ssl.create_default_context() if hasattr(ssl, "create_default_context") else \
                ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if not _RAW:
            kw = {} if tls is None else {"ssl": tls, "server_hostname": host}
            try:
                return await wait_for_ms(asyncio.open_connection(a[1][0], a[1][1], **kw), timeout_ms)
            except Timeout:
                raise OSError(errno.ETIMEDOUT)
        s = socket.socket(a[0], socket.SOCK_STREAM)
        try:
            await _connect(s, a[1], timeout_ms)
            if tls is not None:
                # the certificate is checked against host; the handshake
                # runs in the stream's first reads and writes
                s = tls.wrap_socket(s, server_hostname=host, do_handshake_on_connect=False)
                s.setblocking(False)
        except BaseException:
            s.close()  # also when the caller's deadline cancels us
            raise
        st = _Stream(s)
        return st, st


if _RAW:

    class _Stream(asyncio.StreamWriter):
        # MicroPython's close() leaves the socket open until wait_closed();
        # the client's close() must free it (a few sockets on the device)
        def close(self):
            self.s.close()


async def _connect(s, addr, timeout_ms):
    # a non-blocking connect, polled until the socket is writable (the
    # loop runs on meanwhile) or the time is up
    import select

    s.setblocking(False)
    try:
        s.connect(addr)
    except OSError as e:
        if e.args[0] != errno.EINPROGRESS:
            raise
    p = select.poll()
    p.register(s, select.POLLOUT)
    t0 = now_ms()
    while True:
        ev = p.poll(0)
        if ev:
            if ev[0][1] & (select.POLLERR | select.POLLHUP):
                raise OSError(errno.ECONNREFUSED)
            return
        if ticks_diff(now_ms(), t0) >= timeout_ms:
            raise OSError(errno.ETIMEDOUT)
        await sleep_ms(POLL_MS)
