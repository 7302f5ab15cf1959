"""Small OFD clients (blocking and asyncio) used by ofdctl, the benchmark and tests.

One request per TCP connection, as the protocol says: send header + payload,
read the 18-byte header of the answer, read SIZE - 18 more bytes, close.
"""

import asyncio
import socket

from tools.ofdsim.header import HEADER_SIZE, HeaderError, frame, parse_header
from tools.ofdsim.pbutil import pb as _pb

MAX_ANSWER = 4 * 1024 * 1024


class ExchangeError(Exception):
    """The answer did not arrive whole or is not a protocol message."""


def _payload(request):
    return request if isinstance(request, (bytes, bytearray)) else request.SerializeToString()


def _decode(head, body):
    pb = _pb()
    resp = pb.Response()
    try:
        resp.ParseFromString(body)
    except Exception as e:  # protobuf raises its own DecodeError
        raise ExchangeError("answer payload does not decode: %s" % e)
    if not resp.IsInitialized():
        raise ExchangeError("answer misses required fields: %s" % resp.FindInitializationErrors())
    return head, resp


def _recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ExchangeError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return bytes(buf)


def raw_exchange(host, port, data, timeout=10.0):
    """Send bytes, return every byte received until the server closes."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(data)
        out = bytearray()
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return bytes(out)
            out += chunk


def exchange_bytes(host, port, kkm_id, token, reqnum, request, timeout=10.0):
    """One exchange; returns (Header, payload bytes) of the answer."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(frame(kkm_id, token, reqnum, _payload(request)))
        try:
            head = parse_header(_recv_exact(s, HEADER_SIZE))
        except HeaderError as e:
            raise ExchangeError(str(e))
        if head.size > MAX_ANSWER:
            raise ExchangeError("answer too large: %d" % head.size)
        return head, _recv_exact(s, head.size - HEADER_SIZE)


def exchange(host, port, kkm_id, token, reqnum, request, timeout=10.0):
    """One exchange; returns (Header, pb.Response)."""
    head, body = exchange_bytes(host, port, kkm_id, token, reqnum, request, timeout)
    return _decode(head, body)


async def aexchange(host, port, kkm_id, token, reqnum, request, timeout=10.0):
    """asyncio version of exchange(); returns (Header, pb.Response)."""
    async def run():
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(frame(kkm_id, token, reqnum, _payload(request)))
            await writer.drain()
            try:
                head = parse_header(await reader.readexactly(HEADER_SIZE))
                body = await reader.readexactly(head.size - HEADER_SIZE)
            except HeaderError as e:
                raise ExchangeError(str(e))
            except asyncio.IncompleteReadError as e:
                raise ExchangeError("connection closed after %d bytes" % len(e.partial))
            return head, body
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass
    head, body = await asyncio.wait_for(run(), timeout)
    return _decode(head, body)
