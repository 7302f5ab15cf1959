# The TCP channel (net.tcp) with real sockets on loopback, on both
# runtimes: the async client reaches a small OFD served by asyncio on this
# machine, a port nobody listens on is refused, and an OFD that accepts
# the connection and never answers ends the exchange at the budget.
# Requirements: KZ-4, KZ-18, KZ-29.

import asyncio

from compat import ticks_diff, ticks_ms
from net.tcp import TcpChannel
from ofd import client as cl
from ofd import codec
from ofd import frame
from ofd import header as hdr
from ofd import schema as S
from ofd.session import Session

KKM = 203539
BUDGET = 500
SLACK = 500


def _resolver(host, port):
    import socket

    return socket.getaddrinfo("127.0.0.1", port, 0, socket.SOCK_STREAM)


async def _serve(handler):
    # a server on the first free port from a start that varies per run
    port = 20000 + ticks_ms() % 20000
    for _ in range(50):
        try:
            return await asyncio.start_server(handler, "127.0.0.1", port), port
        except OSError:
            port += 1
    raise AssertionError("no free port")


async def _ofd(reader, writer):
    # answers every request with result 0 and the next token
    try:
        h = hdr.unpack(await reader.readexactly(hdr.SIZE))
        body = await reader.readexactly(h.size - hdr.SIZE)
        cmd = codec.decode(S.Request, body)["command"]
        resp = {"command": cmd, "result": {"result_code": 0}}
        writer.write(frame.build(codec.encode(S.Response, resp), h.id, h.token + 1, h.reqnum))
        await writer.drain()
    finally:
        await _hang_up(writer)


async def _silent(reader, writer):
    # takes the request and says nothing until the client hangs up
    try:
        while await reader.read(256):
            pass
    finally:
        await _hang_up(writer)


async def _hang_up(writer):
    writer.close()
    await writer.wait_closed()  # MicroPython closes the socket only here


def _client(port):
    ch = TcpChannel(_resolver)
    c = cl.OfdClient(Session(KKM, 1000), ch, [("ofd.test", port)], BUDGET, min_budget_ms=100)
    c.pause_ms = 20
    return c


def _request():
    return codec.encode(S.Request, {"command": S.COMMAND_SYSTEM}), S.COMMAND_SYSTEM


def _run(handler, key=1):
    async def main():
        srv, port = await _serve(handler)
        try:
            c = _client(port)
            t0 = ticks_ms()
            payload, command = _request()
            out = await c.exchange(payload, command, key)
            return c, out, ticks_diff(ticks_ms(), t0)
        finally:
            srv.close()
            await srv.wait_closed()

    return asyncio.run(main())


def test_kz_4_exchange_over_tcp_on_loopback():
    c, out, took = _run(_ofd)
    assert out.ok() and out.attempts == 1 and c.session.token == 1001 and c.session.reqnum == 1
    assert took < BUDGET


def test_kz_29_ofd_that_accepts_and_never_answers_ends_at_the_budget():
    c, out, took = _run(_silent)
    assert (out.status, out.reason, out.code) == (cl.RETRY, "timeout", None)
    assert BUDGET - 20 <= took <= BUDGET + SLACK
    assert c.session.pending is not None and c.session.token == 1000


def _bound_not_listening():
    # a port that refuses connections: bound by us, never listened on
    import socket

    port = 40000 + ticks_ms() % 20000
    for _ in range(50):
        s = socket.socket()
        try:
            s.bind(_resolver("127.0.0.1", port)[0][-1])
            return s, port
        except OSError:
            s.close()
            port += 1
    raise AssertionError("no free port")


def test_kz_18_refused_port_then_the_next_address():
    dead, dead_port = _bound_not_listening()

    async def main():
        srv, port = await _serve(_ofd)
        try:
            c = _client(port)
            c.set_hosts([("ofd.test", dead_port), ("ofd.test", port)])
            payload, command = _request()
            return await c.exchange(payload, command, 1)
        finally:
            srv.close()
            await srv.wait_closed()

    try:
        out = asyncio.run(main())
    finally:
        dead.close()
    assert out.ok() and out.attempts == 2


def _open_files():
    import os

    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None  # no /proc here: nothing to count


def test_every_exchange_closes_its_socket():
    # the device has a few sockets: an exchange that leaves one open (a
    # timeout too) would leave the register without a channel after a while
    async def main(handler, n):
        srv, port = await _serve(handler)
        try:
            c = _client(port)
            payload, command = _request()
            before = _open_files()
            for i in range(n):
                out = await c.exchange(payload, command, i, 100)
            for _ in range(200):  # the server's side hangs up in its own time
                if _open_files() == before:
                    break
                await asyncio.sleep(0.01)
            return out, before, _open_files()
        finally:
            srv.close()
            await srv.wait_closed()

    out, before, after = asyncio.run(main(_ofd, 20))
    assert out.ok() and after == before
    out, before, after = asyncio.run(main(_silent, 3))
    assert out.reason == "timeout" and after == before
